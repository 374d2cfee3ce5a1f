// npm run bench:reshard [-- --keys 1000000]
// One run, same machine, same data: a 3-master/3-replica cluster holding N keys of 100 bytes over
// all slots, plus an empty master; move 4096 slots to it once with redis-cli (default pipeline),
// once with rctl, and once with the cheapest possible loop (the MIGRATE ceiling), each on a fresh
// identical cluster. Prints keys moved, seconds, keys/s, the ratios, and rctl's peak RSS.
// Ports 18001-18007, 18101-18107, 18201-18207 (bus ports +10000).
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { Redis } from 'ioredis';
import { loadKeys, totalKeys } from './lib/data.mjs';
import { ceilingMove } from './lib/migrate-ceiling.mjs';
import { arg, fmt, run, startNodes } from './lib/nodes.mjs';

const RCTL = fileURLToPath(new URL('../bin/rctl', import.meta.url));
const N = Number(arg('keys', '1000000'));
const SLOTS = 4096;

/** 3x1 cluster formed by rctl from fresh nodes, N keys, and one extra empty master met into it. */
async function prepare(base) {
  const nodes = await startNodes(base, 7, ['--repl-diskless-sync-delay', '0']);
  const six = nodes.list.slice(0, 6).join(',');
  const f = await run(process.execPath, [RCTL, 'create', '--nodes', six, '--replicas', '1', '--json']);
  if (f.code !== 0) throw new Error(f.stdout + f.stderr);
  const seed = nodes.addrs[0];
  const t0 = performance.now();
  await loadKeys(seed, N);
  const loadMs = performance.now() - t0;
  const empty = new Redis(nodes.addrs[6]);
  await empty.call('CLUSTER', 'MEET', '127.0.0.1', String(seed.port));
  const emptyId = String(await empty.call('CLUSTER', 'MYID'));
  // Wait until every node knows the new master and it sees the cluster as ok.
  for (let i = 0; i < 400; i++) {
    const info = String(await empty.call('CLUSTER', 'INFO'));
    if (info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:7')) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  empty.disconnect();
  await new Promise((r) => setTimeout(r, 1500));
  return { nodes, seed, emptyId, emptyAddr: nodes.list[6], loadMs };
}

async function withCluster(base, fn) {
  const c = await prepare(base);
  try {
    const before = await totalKeys(c.seed);
    const r = await fn(c);
    const after = await totalKeys(c.seed);
    // Replicas learn new owners by gossip: poll the peer's check (bounded) and report when it passed.
    const t0 = performance.now();
    let checkOkAfter = NaN;
    let last = '';
    while (performance.now() - t0 < 15_000) {
      const check = await run('redis-cli', ['--cluster', 'check', `${c.seed.host}:${c.seed.port}`]);
      last = check.stdout;
      if (check.code === 0 && !/\[ERR\]|\[WARNING\]/.test(check.stdout)) {
        checkOkAfter = performance.now() - t0;
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    if (!Number.isFinite(checkOkAfter)) console.log(last);
    return { ...r, before, after, checkOkAfter, loadMs: c.loadMs };
  } finally {
    await c.nodes.stop();
  }
}

async function movedKeysInTarget(addr) {
  const [host, port] = addr.split(':');
  const r = new Redis({ host, port: Number(port) });
  const n = await r.dbsize();
  r.disconnect();
  return n;
}

console.log(`bench:reshard — ${N} keys of 100 bytes over all slots on a 3x1 cluster + 1 empty master; move ${SLOTS} slots to it`);
const cli = await withCluster(18001, async (c) => {
  const r = await run('redis-cli', ['--cluster', 'reshard', `${c.seed.host}:${c.seed.port}`, '--cluster-from', 'all', '--cluster-to', c.emptyId, '--cluster-slots', String(SLOTS), '--cluster-yes']);
  if (r.code !== 0) throw new Error(`redis-cli reshard failed: ${r.stdout.slice(-2000)}${r.stderr}`);
  return { ms: r.ms, keys: await movedKeysInTarget(c.emptyAddr) };
});
console.log(`  redis-cli: ${cli.keys} keys in ${fmt(cli.ms)}`);
const rctl = await withCluster(18101, async (c) => {
  const r = await run('/usr/bin/time', ['-f', 'RSS_KB=%M', process.execPath, RCTL, 'reshard', '--seed', `${c.seed.host}:${c.seed.port}`, '--from', 'all', '--to', c.emptyId, '--slots', String(SLOTS), '--yes', '--json']);
  if (r.code !== 0) throw new Error(`rctl reshard failed: ${r.stdout}${r.stderr}`);
  const rss = Number(/RSS_KB=(\d+)/.exec(r.stderr)?.[1] ?? 0) * 1024;
  return { ms: r.ms, keys: await movedKeysInTarget(c.emptyAddr), rss, internal: JSON.parse(r.stdout) };
});
console.log(`  rctl:      ${rctl.keys} keys in ${fmt(rctl.ms)}`);
const ceiling = await withCluster(18201, async (c) => {
  const r = await ceilingMove(RCTL, c.seed, c.emptyId, SLOTS);
  return { ...r, moved: await movedKeysInTarget(c.emptyAddr) };
});
console.log(`  ceiling:   ${ceiling.keys} keys in ${fmt(ceiling.ms)} (moving loop alone)`);

const t = new Table({ head: ['', 'redis-cli --cluster reshard', 'rctl reshard', 'MIGRATE ceiling'], style: { head: [], border: [] } });
const rate = (keys, ms) => Math.round(keys / (ms / 1000));
t.push(['keys moved', cli.keys, rctl.keys, ceiling.moved]);
t.push(['wall time (whole command)', fmt(cli.ms), fmt(rctl.ms), '-']);
t.push(['keys/s (whole command)', rate(cli.keys, cli.ms), rate(rctl.keys, rctl.ms), '-']);
t.push(['moving phase', '-', `${fmt(rctl.internal.ms)}, ${rctl.internal.keysPerSec} keys/s`, `${fmt(ceiling.ms)}, ${rate(ceiling.keys, ceiling.ms)} keys/s`]);
const same = (x) => `${x.before} = ${x.after} ${x.before === x.after ? 'yes' : 'NO'}`;
t.push(['keys on masters before = after', same(cli), same(rctl), same(ceiling)]);
const okAfter = (x) => (Number.isFinite(x.checkOkAfter) ? `OK ${x.checkOkAfter < 50 ? 'at once' : `after ${fmt(x.checkOkAfter)}`}` : 'FAILED for 15 s');
t.push(['redis-cli --cluster check afterwards', okAfter(cli), okAfter(rctl), okAfter(ceiling)]);
console.log(t.toString());
const ceilingRate = ceiling.keys / ceiling.ms;
console.log(`ratio rctl / redis-cli (whole command keys/s): ${((rctl.keys / rctl.ms) / (cli.keys / cli.ms)).toFixed(2)}x`);
console.log(`ratio rctl / MIGRATE ceiling: moving phase ${((rctl.internal.keysPerSec / 1000) / ceilingRate * 100).toFixed(0)}%, whole command ${((rctl.keys / rctl.ms) / ceilingRate * 100).toFixed(0)}%`);
console.log(`rctl peak RSS ${(rctl.rss / 1048576).toFixed(0)} MB (${N} keys)`);
