// npm run bench:rebalance [-- --keys 500000] [-- --masters 50 --empty 10] [-- --concurrency 16]
// One run, same machine, same data: a cluster of 50 masters (no replicas: 60-node clusters twice on
// 2 cores; replicas would only add replication traffic that both tools pay alike) formed by
// `redis-cli --cluster create`, holding N keys of 100 bytes over all slots, then 10 empty masters
// met into it. `redis-cli --cluster rebalance --cluster-use-empty-masters` runs on one such cluster,
// `rctl rebalance --use-empty-masters` on a fresh identical one (same layout, same keys), one after
// the other so they never share the CPU. Prints slots and keys moved, wall time, keys/s, key counts,
// the peer's check afterwards, rctl's peak RSS and the ratio.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { Redis } from 'ioredis';
import { loadKeys, totalKeys } from './lib/data.mjs';
import { arg, fmt, must, run, startNodes } from './lib/nodes.mjs';

const RCTL = fileURLToPath(new URL('../bin/rctl', import.meta.url));
const N = Number(arg('keys', '500000'));
const MASTERS = Number(arg('masters', '50'));
const EMPTY = Number(arg('empty', '10'));
const CONCURRENCY = arg('concurrency', undefined);
// Ports 19001-19400 are this bench's: the redis-cli cluster at 19001, rctl's at 19101 (bus +10000).
const BASES = { cli: 19001, rctl: 19101 };
if (MASTERS + EMPTY > 100) throw new Error('at most 100 nodes per cluster (ports 19001-19100 and 19101-19200)');

const TIME_FORMAT = 'RSS_KB=%M CPU=%U+%S';
/** Peak RSS and CPU seconds of a command run under /usr/bin/time -f TIME_FORMAT. */
function timed(stderr) {
  const m = /RSS_KB=(\d+) CPU=([\d.]+)\+([\d.]+)/.exec(stderr);
  return { rss: Number(m?.[1] ?? 0) * 1024, cpu: Number(m?.[2] ?? NaN) + Number(m?.[3] ?? NaN) };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const addr = (s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) });

/** Every node's CLUSTER INFO / NODES, in parallel. */
async function eachNode(list, fn) {
  return Promise.all(
    list.map(async (a) => {
      const r = new Redis({ ...addr(a), lazyConnect: true, maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      try {
        await r.connect();
        return await fn(r);
      } finally {
        r.disconnect();
      }
    }),
  );
}

/** Bounded poll until every node reports cluster_state:ok and knows `count` nodes, and redis-cli's check passes. */
async function waitAgreed(list, count, what) {
  const t0 = performance.now();
  let last = '';
  while (performance.now() - t0 < 120_000) {
    const infos = await eachNode(list, (r) => r.call('CLUSTER', 'INFO'));
    const ok = infos.every((i) => String(i).includes('cluster_state:ok') && String(i).includes(`cluster_known_nodes:${count}`));
    if (ok) {
      const check = await run('redis-cli', ['--cluster', 'check', list[0]]);
      last = check.stdout;
      if (check.code === 0 && !/\[ERR\]|\[WARNING\]/.test(check.stdout)) return performance.now() - t0;
    }
    await sleep(200);
  }
  throw new Error(`${what}: the cluster did not agree within 120 s\n${last.slice(-2000)}`);
}

/**
 * CPU seconds (user + system) the nodes listening on these addresses have used so far, from
 * /proc/<pid>/stat. On a shared 2-core box wall time depends on what else runs; the CPU the
 * nodes spend on a rebalance is the work it cost them, whatever the load.
 */
async function nodesCpu(list) {
  const ss = await run('ss', ['-ltnpH']);
  const pidOf = new Map();
  for (const line of ss.stdout.split('\n')) {
    const m = /\s(\S+):(\d+)\s.*pid=(\d+)/.exec(line);
    if (m) pidOf.set(`${m[1]}:${m[2]}`, m[3]);
  }
  let ticks = 0;
  for (const a of list) {
    const pid = pidOf.get(a);
    if (!pid) throw new Error(`no process listens on ${a}`);
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / 100;
}

/** slot -> owner address, from CLUSTER SLOTS. */
async function owners(seed) {
  const r = new Redis(addr(seed));
  const slots = await r.call('CLUSTER', 'SLOTS');
  r.disconnect();
  const owner = new Array(16384);
  for (const [start, end, [host, port]] of slots) for (let s = start; s <= end; s++) owner[s] = `${host}:${port}`;
  return owner;
}

/** Keys now in the slots whose owner changed (counted on the new owner, pipelined per node). */
async function keysInSlots(changed) {
  const byOwner = new Map();
  for (const [slot, o] of changed) byOwner.set(o, [...(byOwner.get(o) ?? []), slot]);
  let total = 0;
  await Promise.all(
    [...byOwner].map(async ([o, slots]) => {
      const r = new Redis(addr(o));
      const p = r.pipeline();
      for (const s of slots) p.call('CLUSTER', 'COUNTKEYSINSLOT', String(s));
      for (const [err, n] of await p.exec()) {
        if (err) throw err;
        total += Number(n);
      }
      r.disconnect();
    }),
  );
  return total;
}

/** MASTERS masters formed by redis-cli, N keys, then EMPTY empty masters met into the cluster and agreed on by everyone. */
async function prepare(base) {
  const nodes = await startNodes(base, MASTERS + EMPTY);
  try {
    const masters = nodes.list.slice(0, MASTERS);
    await must(run('redis-cli', ['--cluster', 'create', ...masters, '--cluster-replicas', '0', '--cluster-yes']), 'redis-cli --cluster create');
    await waitAgreed(masters, MASTERS, 'create');
    const t0 = performance.now();
    await loadKeys(addr(masters[0]), N);
    const loadMs = performance.now() - t0;
    const seedPort = String(addr(masters[0]).port);
    await eachNode(nodes.list.slice(MASTERS), (r) => r.call('CLUSTER', 'MEET', '127.0.0.1', seedPort));
    await waitAgreed(nodes.list, MASTERS + EMPTY, 'meet');
    return { nodes, seed: masters[0], loadMs };
  } catch (err) {
    await nodes.stop();
    throw err;
  }
}

async function withCluster(base, fn) {
  const c = await prepare(base);
  try {
    const before = await totalKeys(addr(c.seed));
    const ownersBefore = await owners(c.seed);
    const cpu0 = await nodesCpu(c.nodes.list);
    const load = loadavg()[0];
    const r = await fn(c);
    const nodeCpu = (await nodesCpu(c.nodes.list)) - cpu0;
    const after = await totalKeys(addr(c.seed));
    const ownersAfter = await owners(c.seed);
    const changed = ownersAfter.map((o, s) => [s, o]).filter(([s, o]) => o !== ownersBefore[s]);
    const keys = await keysInSlots(changed);
    const counts = new Map();
    for (const o of ownersAfter) counts.set(o, (counts.get(o) ?? 0) + 1);
    // Replicas learn new owners by gossip (none here, but the same poll as bench:reshard): the peer's check, bounded.
    const t0 = performance.now();
    let checkOkAfter = NaN;
    let last = '';
    while (performance.now() - t0 < 15_000) {
      const check = await run('redis-cli', ['--cluster', 'check', c.seed]);
      last = check.stdout;
      if (check.code === 0 && !/\[ERR\]|\[WARNING\]/.test(check.stdout)) {
        checkOkAfter = performance.now() - t0;
        break;
      }
      await sleep(100);
    }
    if (!Number.isFinite(checkOkAfter)) console.log(last.slice(-3000));
    return { ...r, nodeCpu, load, before, after, slots: changed.length, keys, min: Math.min(...counts.values()), max: Math.max(...counts.values()), checkOkAfter, loadMs: c.loadMs };
  } finally {
    await c.nodes.stop();
  }
}

console.log(`bench:rebalance — ${MASTERS} masters (no replicas) holding ${N} keys of 100 bytes, plus ${EMPTY} empty masters; rebalance using the empty masters`);
const cli = await withCluster(BASES.cli, async (c) => {
  const r = await run('/usr/bin/time', ['-f', TIME_FORMAT, 'redis-cli', '--cluster', 'rebalance', c.seed, '--cluster-use-empty-masters']);
  if (r.code !== 0) throw new Error(`redis-cli rebalance failed: ${r.stdout.slice(-2000)}${r.stderr}`);
  return { ms: r.ms, ...timed(r.stderr) };
});
console.log(`  redis-cli: ${cli.slots} slots, ${cli.keys} keys in ${fmt(cli.ms)}`);
const rctl = await withCluster(BASES.rctl, async (c) => {
  const extra = CONCURRENCY ? ['--concurrency', CONCURRENCY] : [];
  const r = await run('/usr/bin/time', ['-f', TIME_FORMAT, process.execPath, RCTL, 'rebalance', '--seed', c.seed, '--use-empty-masters', '--yes', '--json', ...extra]);
  if (r.code !== 0) throw new Error(`rctl rebalance failed (${r.code}): ${r.stdout.slice(-3000)}${r.stderr.slice(-3000)}`);
  const prof = /PROF\n([\s\S]*?)PROF_END/.exec(r.stderr)?.[1];
  return { ms: r.ms, ...timed(r.stderr), internal: JSON.parse(r.stdout), prof };
});
console.log(`  rctl:      ${rctl.slots} slots, ${rctl.keys} keys in ${fmt(rctl.ms)}`);

const t = new Table({ head: ['', 'redis-cli --cluster rebalance', 'rctl rebalance'], style: { head: [], border: [] } });
t.push(['slots moved', cli.slots, rctl.slots]);
t.push(['keys moved', cli.keys, rctl.keys]);
t.push(['slots per master after (min-max)', `${cli.min}-${cli.max}`, `${rctl.min}-${rctl.max}`]);
t.push(['wall time (whole command)', fmt(cli.ms), fmt(rctl.ms)]);
t.push(['keys/s (whole command)', Math.round(cli.keys / (cli.ms / 1000)), Math.round(rctl.keys / (rctl.ms / 1000))]);
t.push(['keys on masters before = after', `${cli.before} = ${cli.after} ${cli.before === cli.after ? 'yes' : 'NO'}`, `${rctl.before} = ${rctl.after} ${rctl.before === rctl.after ? 'yes' : 'NO'}`]);
const okAfter = (x) => (Number.isFinite(x.checkOkAfter) ? `OK ${x.checkOkAfter < 50 ? 'at once' : `after ${fmt(x.checkOkAfter)}`}` : 'FAILED for 15 s');
t.push(['redis-cli --cluster check afterwards', okAfter(cli), okAfter(rctl)]);
t.push(['CPU of the command itself', `${cli.cpu.toFixed(1)} s`, `${rctl.cpu.toFixed(1)} s`]);
t.push([`CPU of the ${MASTERS + EMPTY} nodes during it`, `${cli.nodeCpu.toFixed(1)} s`, `${rctl.nodeCpu.toFixed(1)} s`]);
t.push(['load average (1 min) at the start', cli.load.toFixed(1), rctl.load.toFixed(1)]);
t.push(['peak RSS', `${(cli.rss / 1048576).toFixed(0)} MB`, `${(rctl.rss / 1048576).toFixed(0)} MB`]);
console.log(t.toString());
console.log(`ratio (redis-cli wall time / rctl wall time): ${(cli.ms / rctl.ms).toFixed(2)}x; CPU, command + nodes: ${((cli.cpu + cli.nodeCpu) / (rctl.cpu + rctl.nodeCpu)).toFixed(2)}x`);
const j = rctl.internal;
console.log(`rctl: plan ${j.plan.slots} slots in ${j.plan.waves} wave(s), ${j.plan.moves.length} pairs; moving phase ${fmt(j.ms)} (${j.keysPerSec} keys/s), verdict settle ${fmt(j.settleMs)}, concurrency ${CONCURRENCY ?? 'default'}`);
if (rctl.prof) console.log(`rctl profile:\n${rctl.prof}`);
