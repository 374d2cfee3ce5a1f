// npm run bench:partition [-- --runs 3 --timeouts 1000,2000,5000]
// Partition drills on a real 3x1 cluster (process nodes on their own loopback addresses, so rules
// can name a node), at several cluster-node-timeouts, several runs each:
//   1. master cut from the majority for less than node-timeout (no failover, nothing lost),
//   2. master cut for node-timeout + 5 s (failover; the writes the old master acknowledged meanwhile are lost),
//   2b. the same with only the cluster bus cut (replication still flows: the promoted replica has them),
//   4. a replica cut for node-timeout + 2 s (no failover, nothing lost).
// Each case prints the median failover time (promotion after the cut) and acknowledged writes lost
// (count, and the window after the cut in which they were acknowledged), next to what the Redis
// documentation predicts. There is no peer to compare with: redis-cli has no partitions, and chaos
// tools that cut networks do not know slots, roles or acknowledged writes. Cost: each run of case 2
// takes about 2 x node-timeout + 5 s plus the settle; masters refuse to vote for a shard again within
// 2 x node-timeout of its last failover, so runs of case 2 wait that long in between.
import Table from 'cli-table3';
import { createCluster, destroyCluster } from '../dist/index.js';
import { arg, median } from './lib/nodes.mjs';

const runs = Number(arg('runs', '3'));
const timeouts = arg('timeouts', '1000,2000,5000').split(',').map(Number);
process.env.RCTL_HOME ??= (await import('node:fs')).mkdtempSync('/tmp/rctl-bench-partition-');

const CASES = [
  { key: '1', what: 'master cut < node-timeout', isolate: 'master', mode: 'full', duration: (nt) => Math.round(nt / 2) },
  { key: '2', what: 'master cut node-timeout + 5 s', isolate: 'master', mode: 'full', duration: (nt) => nt + 5000, cooldown: true },
  { key: '2b', what: 'the same, bus only', isolate: 'master', mode: 'bus-only', duration: (nt) => nt + 5000, cooldown: true },
  { key: '4', what: 'replica cut node-timeout + 2 s', isolate: 'replica', mode: 'full', duration: (nt) => nt + 2000 },
];

const rows = [];
for (const nt of timeouts) {
  const name = `bench-part-${nt}`;
  await destroyCluster(name).catch(() => undefined);
  const created = await createCluster({ name, provider: 'process', masters: 3, replicas: 1, portBase: 20001, host: '127.0.0.71', addressPerNode: true, nodeTimeoutMs: nt });
  const c = await created.open();
  try {
    for (const k of CASES) {
      const got = [];
      for (let i = 0; i < runs; i++) {
        const r = await c.drillPartition({ isolate: k.isolate, mode: k.mode, durationMs: k.duration(nt), load: true });
        got.push(r);
        process.stderr.write(`  nt ${nt} case ${k.key} run ${i + 1}: failover ${r.failover ? `${r.timeline.promotedMs} ms` : 'no'}, lost ${r.lostWrites.lost.count} (last ack ${r.lostWrites.lost.lastAckMs ?? '-'} ms), agrees ${r.agreement?.agrees}\n`);
        if (k.cooldown) await new Promise((res) => setTimeout(res, 2 * nt + 500));
      }
      const promoted = got.map((r) => r.timeline.promotedMs).filter((x) => x !== undefined);
      const lastAck = got.map((r) => r.lostWrites.lost.lastAckMs).filter((x) => x !== undefined);
      rows.push([
        nt,
        `${k.key}. ${k.what}`,
        promoted.length ? `${median(promoted)} ms (${promoted.length}/${got.length})` : `none (0/${got.length})`,
        median(got.map((r) => r.lostWrites.lost.count)),
        lastAck.length ? `${median(lastAck)} ms` : '-',
        got[0].prediction.failover ? `failover; ${got[0].prediction.lossExpected ? `loss ≈ ${got[0].prediction.windowMs} ms` : 'no loss'}` : 'no failover, no loss',
        `${got.filter((r) => r.agreement?.agrees).length}/${got.length}`,
      ]);
    }
  } finally {
    await c.close();
    await destroyCluster(name).catch(() => undefined);
  }
}
const t = new Table({ head: ['node-timeout', 'case', 'failover (median)', 'acked writes lost (median)', 'lost window (median last ack)', 'Redis predicts', 'agrees'] });
for (const r of rows) t.push(r);
console.log(`bench:partition — ${runs} run(s) per case, 3 masters x 1 replica, writers at <= 500 writes/s per side\n${t.toString()}`);
