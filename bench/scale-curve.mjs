// npm run bench:scale-curve [-- --sizes 3,10,30,50,100]
// One run, same machine, same kind of nodes: for each size, M masters x 1 replica of fresh
// redis-server processes (Redis defaults, up for 2.5 s so Redis's 2 s start-up delay is behind both
// tools), formed once by `rctl create --nodes` and once by `redis-cli --cluster create
// --cluster-replicas 1`, alternating which goes first. "Healthy" is judged the same way for both:
// every node answers, agrees on members, slots and roles, reports cluster_state:ok, and every
// replica's link is up (rctl's check, polled by this script after the tool exits; rctl only exits
// once it holds). Then, on the cluster rctl formed, the read commands: `rctl check` / `rctl info`
// against `redis-cli --cluster check` / `info`, whole commands. Prints rctl's peak RSS too.
import Table from 'cli-table3';
import { AdminConnections } from '../dist/redis/connection.js';
import { readNode, fingerprintOf } from '../dist/cluster/snapshot.js';
import { checkCluster } from '../dist/cluster/check.js';
import { mapLimit } from '../dist/util/pool.js';
import { arg, fmt, must, run, startNodes } from './lib/nodes.mjs';

const RCTL = new URL('../bin/rctl', import.meta.url).pathname;
const sizes = arg('sizes', '3,10,30,50,100').split(',').map(Number);
const WARM_MS = 2500;
// Bus ports are client port + 10000 and must stay below Linux's ephemeral range (32768).
const BASE = { rctl: 20001, cli: 20401 };

/** Poll (bounded) until the nodes pass rctl's check with one replica per master. */
async function healthyAfter(addrs, t0, boundMs) {
  const conns = new AdminConnections({ connectTimeoutMs: 2000, commandTimeoutMs: 30_000 });
  let last = 'not read yet';
  try {
    for (;;) {
      try {
        const views = await mapLimit(addrs, (a) => readNode(conns, a));
        const res = checkCluster({ seed: addrs[0], nodes: views, unreachable: [], fingerprint: fingerprintOf(views) }, { replicasPerMaster: 1 });
        if (res.healthy) return performance.now() - t0;
        last = res.findings.find((f) => f.severity === 'problem')?.message ?? 'unhealthy';
      } catch (err) {
        // busy nodes: read again
        last = err.message;
      }
      if (performance.now() - t0 > boundMs) {
        console.log(`    never healthy within ${fmt(boundMs)}; last problem: ${last}`);
        return NaN;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await conns.closeAll();
  }
}

const rss = (stderr) => Number(/RSS_KB=(\d+)/.exec(stderr)?.[1] ?? 0) / 1024;

async function withNodes(base, masters, fn) {
  const nodes = await startNodes(base, masters * 2, ['--repl-diskless-sync-delay', '0']);
  try {
    await new Promise((r) => setTimeout(r, WARM_MS));
    return await fn(nodes);
  } finally {
    await nodes.stop();
  }
}

async function rctlCreate(masters) {
  return withNodes(BASE.rctl, masters, async (nodes) => {
    const t0 = performance.now();
    const r = await must(run('/usr/bin/time', ['-f', 'RSS_KB=%M', process.execPath, RCTL, 'create', '--nodes', nodes.list.join(','), '--replicas', '1', '--json', '--yes']), 'rctl create');
    const exit = r.ms;
    const healthy = await healthyAfter(nodes.addrs, t0, exit + 120_000);
    const seed = nodes.list[0];
    const reads = {};
    for (const [name, cmd, args] of [
      ['rctl check', process.execPath, [RCTL, 'check', '--seed', seed, '--json']],
      ['rctl info', process.execPath, [RCTL, 'info', '--seed', seed, '--json']],
      ['redis-cli check', 'redis-cli', ['--cluster', 'check', seed]],
      ['redis-cli info', 'redis-cli', ['--cluster', 'info', seed]],
    ]) {
      const x = await run('/usr/bin/time', ['-f', 'RSS_KB=%M', cmd, ...args]);
      reads[name] = { ms: x.ms, code: x.code, rss: rss(x.stderr) };
    }
    return { exit, healthy, rss: rss(r.stderr), reads, out: JSON.parse(r.stdout) };
  });
}

async function cliCreate(masters) {
  return withNodes(BASE.cli, masters, async (nodes) => {
    const t0 = performance.now();
    const r = await run('redis-cli', ['--cluster', 'create', ...nodes.list, '--cluster-replicas', '1', '--cluster-yes']);
    if (r.code !== 0) return { exit: r.ms, healthy: NaN, failed: r.stdout.slice(-300) };
    return { exit: r.ms, healthy: await healthyAfter(nodes.addrs, t0, r.ms + 120_000) };
  });
}

console.log(`bench:scale-curve — masters x 1 replica, fresh redis-server processes (warm ${WARM_MS} ms), sizes ${sizes.join(', ')}; one run each, alternating order`);
const rows = [];
for (const [i, m] of sizes.entries()) {
  let rctl;
  let cli;
  if (i % 2 === 0) {
    rctl = await rctlCreate(m);
    cli = await cliCreate(m);
  } else {
    cli = await cliCreate(m);
    rctl = await rctlCreate(m);
  }
  rows.push({ m, rctl, cli });
  console.log(`  ${m} masters: rctl healthy ${fmt(rctl.healthy)} (exit ${fmt(rctl.exit)}), redis-cli healthy ${fmt(cli.healthy)} (exit ${fmt(cli.exit)})${cli.failed ? ` FAILED: ${cli.failed}` : ''}`);
}

const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? `${(b / a).toFixed(2)}x` : '-');
const t = new Table({
  head: ['masters', 'nodes', 'redis-cli create → healthy', 'rctl create → healthy', 'redis-cli / rctl', 'rctl node-timeout', 'rctl create RSS'],
  style: { head: [], border: [] },
});
for (const { m, rctl, cli } of rows) t.push([m, 2 * m, fmt(cli.healthy), fmt(rctl.healthy), ratio(rctl.healthy, cli.healthy), `${rctl.out.nodeTimeoutMs ?? '(kept)'}`, `${rctl.rss.toFixed(0)} MB`]);
console.log('\ncreate: from "tool starts" to "healthy" (same judge for both)');
console.log(t.toString());

const r = new Table({ head: ['masters', 'rctl check', 'redis-cli --cluster check', 'ratio', 'rctl info', 'redis-cli --cluster info', 'ratio', 'rctl check RSS'], style: { head: [], border: [] } });
for (const { m, rctl } of rows) {
  const x = rctl.reads;
  r.push([m, fmt(x['rctl check'].ms), fmt(x['redis-cli check'].ms), ratio(x['rctl check'].ms, x['redis-cli check'].ms), fmt(x['rctl info'].ms), fmt(x['redis-cli info'].ms), ratio(x['rctl info'].ms, x['redis-cli info'].ms), `${x['rctl check'].rss.toFixed(0)} MB`]);
}
console.log('\nread commands on the cluster rctl formed (whole command, process start to exit)');
console.log(r.toString());
