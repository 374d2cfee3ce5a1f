// npm run bench:failover [-- --runs 3]
// Unplanned failover (SIGKILL of a master) at cluster-node-timeout 1000, 2000, 5000 ms, several
// runs each: median time to FAIL, to the replica's promotion, to cluster_state:ok everywhere, and
// acknowledged writes lost under a bounded writer. Once on clusters rctl created (`rctl drill
// failover --mode kill --load`), once on clusters `redis-cli --cluster create` formed from the same
// kind of redis-server processes, measured by the same observer and writer. Plus coordinated
// failovers (`rctl failover`): duration without writes, and writes lost under load.
import Table from 'cli-table3';
import { Redis } from 'ioredis';
import { AdminConnections } from '../dist/redis/connection.js';
import { takeSnapshot } from '../dist/cluster/snapshot.js';
import { observeFailover } from '../dist/failover/observe.js';
import { countLost, startLoad } from '../dist/failover/load-generator.js';
import { arg, fmt, median, must, rctl, run, startNodes } from './lib/nodes.mjs';

const RUNS = Number(arg('runs', '3'));
const TIMEOUTS = [1000, 2000, 5000];
const waitHealthy = async (seed) => {
  for (let i = 0; i < 300; i++) {
    if ((await rctl('check', '--seed', seed)).code === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`cluster at ${seed} never became healthy`);
};

async function rctlRuns(timeout, base) {
  const name = `bench-fo-${timeout}`;
  await rctl('destroy', '--name', name, '--yes');
  await must(rctl('create', '--name', name, '--provider', 'process', '--node-timeout', String(timeout), '--port-base', String(base)), 'create');
  const out = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      await waitHealthy(`127.0.0.1:${base}`);
      const r = await must(rctl('drill', 'failover', '--name', name, '--mode', 'kill', '--load', '--json'), 'drill');
      const d = JSON.parse(r.stdout);
      out.push({ fail: d.timeline.failMs, promoted: d.timeline.promotedMs, ok: d.timeline.stateOkMs, lost: d.load.lost, acked: d.load.acknowledged });
      console.log(`    rctl run ${i + 1} (node-timeout ${timeout}): FAIL ${fmt(d.timeline.failMs)}, promoted ${fmt(d.timeline.promotedMs)}, ok ${fmt(d.timeline.stateOkMs)}, lost ${d.load.lost}`);
    }
    // Coordinated failovers: without writes, then under load. Masters do not vote for a shard again
    // within 2 x node-timeout of its last failover, so let the drills' votes expire first and move
    // a different shard each time.
    await new Promise((r) => setTimeout(r, timeout * 2 + 500));
    const coord = [];
    for (let i = 0; i < RUNS; i++) {
      await waitHealthy(`127.0.0.1:${base}`);
      const info = JSON.parse((await must(rctl('info', '--name', name, '--json'), 'info')).stdout);
      const replica = info.nodes.filter((n) => n.role === 'replica')[i % 3];
      const r = await must(rctl('failover', replica.address, '--name', name, '--json'), 'failover');
      coord.push(JSON.parse(r.stdout).ms);
    }
    await new Promise((r) => setTimeout(r, timeout * 2 + 500));
    await waitHealthy(`127.0.0.1:${base}`);
    const seeds = [{ host: '127.0.0.1', port: base }];
    const load = startLoad({ seeds, prefix: 'coord', maxWrites: 1_000_000, maxMs: 30_000, concurrency: 8 });
    await new Promise((r) => setTimeout(r, 300));
    const info = JSON.parse((await must(rctl('info', '--name', name, '--json'), 'info')).stdout);
    await must(rctl('failover', info.nodes.find((n) => n.role === 'replica').address, '--name', name, '--json'), 'failover under load');
    await new Promise((r) => setTimeout(r, 300));
    const rep = await load.stop();
    const coordLost = await countLost(seeds, 'coord', rep.acknowledgedIds);
    return { runs: out, coord, coordLost, coordAcked: rep.acknowledged };
  } finally {
    await rctl('destroy', '--name', name, '--yes');
  }
}

async function redisCliRun(timeout, base) {
  const nodes = await startNodes(base, 6, ['--cluster-node-timeout', String(timeout)]);
  const conns = new AdminConnections();
  try {
    await must(run('redis-cli', ['--cluster', 'create', ...nodes.list, '--cluster-replicas', '1', '--cluster-yes']), 'redis-cli create');
    // Replicas must have finished their first sync or they never take over (Redis 7 delays it 5 s).
    await waitHealthy(nodes.list[0]);
    const s = await takeSnapshot(conns, nodes.addrs[0]);
    const master = s.nodes.find((n) => n.role === 'master' && s.nodes.some((r) => r.self.masterId === n.id && r.masterLinkStatus === 'up'));
    const observers = s.nodes.filter((n) => n.id !== master.id);
    const prefix = `cli-${timeout}-${Date.now()}`;
    const load = startLoad({ seeds: observers.map((n) => n.addr), prefix, maxWrites: 5_000_000, maxMs: timeout * 4 + 30_000, concurrency: 8 });
    await new Promise((r) => setTimeout(r, 300));
    const probe = new Redis(master.addr);
    const pid = Number(String(await probe.info('server')).match(/process_id:(\d+)/)[1]);
    probe.disconnect();
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    const tl = await observeFailover(conns, observers, master.id, t0, { maxMs: timeout * 3 + 20_000 });
    await new Promise((r) => setTimeout(r, 500));
    const rep = await load.stop();
    const lost = await countLost(observers.map((n) => n.addr), prefix, rep.acknowledgedIds);
    return { fail: tl.failMs, promoted: tl.promotedMs, ok: tl.stateOkMs, lost, acked: rep.acknowledged };
  } finally {
    await conns.closeAll();
    await nodes.stop();
  }
}

console.log(`bench:failover — SIGKILL of a master under a bounded writer, ${RUNS} runs per node-timeout`);
const rows = [];
const coordRows = [];
for (const [i, t] of TIMEOUTS.entries()) {
  const r = await rctlRuns(t, 21001 + i * 20);
  const c = [];
  for (let k = 0; k < RUNS; k++) {
    c.push(await redisCliRun(t, 21101 + i * 20));
    console.log(`    redis-cli-created run ${k + 1}: FAIL ${fmt(c.at(-1).fail)}, promoted ${fmt(c.at(-1).promoted)}, ok ${fmt(c.at(-1).ok)}, lost ${c.at(-1).lost}`);
  }
  const m = (xs, key) => median(xs.map((x) => x[key]));
  rows.push([`${t} ms`, fmt(m(r.runs, 'fail')), fmt(m(r.runs, 'promoted')), fmt(m(r.runs, 'ok')), `${m(r.runs, 'lost')} / ${m(r.runs, 'acked')}`, fmt(m(c, 'fail')), fmt(m(c, 'promoted')), fmt(m(c, 'ok')), `${m(c, 'lost')} / ${m(c, 'acked')}`]);
  coordRows.push([`${t} ms`, fmt(median(r.coord)), `${r.coordLost} / ${r.coordAcked}`]);
  console.log(`  node-timeout ${t}: rctl ok ${fmt(m(r.runs, 'ok'))}, redis-cli-created ok ${fmt(m(c, 'ok'))}`);
}
const t = new Table({
  head: ['node-timeout', 'rctl: FAIL', 'promoted', 'state ok', 'lost / acked', 'redis-cli-created: FAIL', 'promoted', 'state ok', 'lost / acked'],
  style: { head: [], border: [] },
});
rows.forEach((r) => t.push(r));
console.log('Unplanned failover (medians, times after the SIGKILL):');
console.log(t.toString());
const c = new Table({ head: ['node-timeout', 'coordinated failover (no writes), median', 'acked writes lost under load'], style: { head: [], border: [] } });
coordRows.forEach((r) => c.push(r));
console.log('Coordinated failover (rctl failover):');
console.log(c.toString());
