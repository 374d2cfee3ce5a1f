import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisSentinelContainer, type StartedRedisSentinelContainer } from 'rctl/testcontainers';

process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
let group: StartedRedisSentinelContainer | undefined;
afterAll(async () => {
  await group?.stop();
});

describe('RedisSentinelContainer (master + 2 replicas, 3 Sentinels)', () => {
  it('starts healthy, fails over, survives a drill, and stop() leaves nothing', async () => {
    group = await new RedisSentinelContainer().withPassword('s3cret').withDownAfter(1000).start();
    expect(group.getSentinels()).toHaveLength(3);
    const st = await group.status();
    expect(st.healthy).toBe(true);

    const redis = group.createClient();
    // An application's client: the drill kills its master on purpose; errors while it reconnects are expected.
    redis.on('error', () => undefined);
    await redis.set('greeting', 'hello');
    expect(await redis.get('greeting')).toBe('hello');

    const fo = await group.failover();
    expect(fo.newMaster).not.toBe(fo.oldMaster);

    const drill = await group.drill({ mode: 'kill', load: true });
    expect(drill.load?.lost).toBe(0);
    // Every Sentinel names the node the drill reports as the new master.
    expect(`${drill.status.master?.host}:${drill.status.master?.port}`).toBe(drill.newMaster);
    expect(drill.status.healthy).toBe(true);
    expect(await redis.get('greeting')).toBe('hello');

    const name = group.getName();
    await group.stop();
    expect(execFileSync('docker', ['ps', '-aq', '--filter', `label=io.rctl.cluster=${name}`], { encoding: 'utf8' }).trim()).toBe('');
  });
});
