// npm run bench:create [-- --reps 5]
// rctl vs `redis-cli --cluster create --cluster-replicas 1 --cluster-yes` on the same kind of freshly
// started nodes (Redis defaults), one run, alternating order, medians and ratios. "Healthy" is
// judged the same way for both: rctl's own check (slots agreed, members, roles, cluster_state:ok,
// every replica's link up), polled by this script from the moment the tool starts.
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { AdminConnections } from '../dist/redis/connection.js';
import { readNode, fingerprintOf } from '../dist/cluster/snapshot.js';
import { checkCluster } from '../dist/cluster/check.js';
import { arg, fmt, median, run, startNodes } from './lib/nodes.mjs';

const RCTL = fileURLToPath(new URL('../bin/rctl', import.meta.url));
const reps = Number(arg('reps', '5'));
const BASE = Number(arg('port-base', '20001'));

/** Poll until the cluster passes rctl's check (the same judge for both tools). */
async function pollHealthy(addrs, t0, stopAfterMs = 30_000) {
  const conns = new AdminConnections({ connectTimeoutMs: 500 });
  let slotAgreeAt;
  try {
    for (;;) {
      const now = performance.now() - t0;
      if (now > stopAfterMs) return { healthyAt: NaN, slotAgreeAt };
      try {
        const views = await Promise.all(addrs.map((a) => readNode(conns, a)));
        const snap = { seed: addrs[0], nodes: views, unreachable: [], fingerprint: fingerprintOf(views) };
        const res = checkCluster(snap, { replicasPerMaster: 1 });
        if (slotAgreeAt === undefined && res.checklist.find((c) => c.name.startsWith('all 16384'))?.ok && res.checklist.find((c) => c.name === 'all nodes agree about slots')?.ok)
          slotAgreeAt = performance.now() - t0;
        if (res.healthy) return { healthyAt: performance.now() - t0, slotAgreeAt };
      } catch {
        // nodes busy being configured: try again
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await conns.closeAll();
  }
}

async function rctlOnce(warmMs = 0) {
  const nodes = await startNodes(BASE, 6);
  await new Promise((r) => setTimeout(r, warmMs));
  try {
    const t0 = performance.now();
    const poll = pollHealthy(nodes.addrs, t0);
    const r = await run(process.execPath, [RCTL, 'create', '--nodes', nodes.list.join(','), '--replicas', '1', '--json', '--yes']);
    if (r.code !== 0) throw new Error(`rctl failed: ${r.stdout}${r.stderr}`);
    const out = JSON.parse(r.stdout);
    const p = await poll;
    return { exit: r.ms, healthy: Math.min(p.healthyAt, r.ms), slotAgree: p.slotAgreeAt ?? r.ms, internalHealthy: out.agreementMs, internalSlots: out.slotAgreementMs };
  } finally {
    await nodes.stop();
  }
}

async function redisCliOnce(warmMs = 0) {
  const nodes = await startNodes(BASE + 100, 6);
  await new Promise((r) => setTimeout(r, warmMs));
  try {
    const t0 = performance.now();
    const poll = pollHealthy(nodes.addrs, t0);
    const r = await run('redis-cli', ['--cluster', 'create', ...nodes.list, '--cluster-replicas', '1', '--cluster-yes']);
    if (r.code !== 0) throw new Error(`redis-cli failed: ${r.stdout}${r.stderr}`);
    const agreeLine = r.lines.find((l) => l.line.includes('All nodes agree about slots configuration'));
    const p = await poll;
    return { exit: r.ms, healthy: p.healthyAt, slotAgree: p.slotAgreeAt ?? NaN, ownAgreement: agreeLine ? agreeLine.at : NaN };
  } finally {
    await nodes.stop();
  }
}

async function containersOnce(i) {
  const name = `bench-create-${process.pid}-${i}`;
  const r = await run(process.execPath, [RCTL, 'create', '--name', name, '--masters', '3', '--replicas', '1', '--port-base', String(BASE + 200), '--json']);
  await run(process.execPath, [RCTL, 'destroy', '--name', name, '--yes']);
  if (r.code !== 0) throw new Error(`rctl create (containers) failed: ${r.stdout}${r.stderr}`);
  return r.ms;
}

async function series(label, warmMs) {
  const rctlRuns = [];
  const cliRuns = [];
  console.log(`\n${label}`);
  for (let i = 0; i < reps; i++) {
    // Alternate which tool goes first so machine drift does not favour one.
    if (i % 2 === 0) {
      rctlRuns.push(await rctlOnce(warmMs));
      cliRuns.push(await redisCliOnce(warmMs));
    } else {
      cliRuns.push(await redisCliOnce(warmMs));
      rctlRuns.push(await rctlOnce(warmMs));
    }
    process.stdout.write(`  rep ${i + 1}: rctl healthy ${fmt(rctlRuns.at(-1).healthy)}, redis-cli healthy ${fmt(cliRuns.at(-1).healthy)}\n`);
  }
  const m = (runs, k) => median(runs.map((r) => r[k]));
  const t = new Table({ head: ['from "all nodes answer PING" to…', 'rctl', 'redis-cli', 'redis-cli / rctl'], style: { head: [], border: [] } });
  const row = (name, a, b) => t.push([name, fmt(a), fmt(b), Number.isFinite(a) && Number.isFinite(b) ? `${(b / a).toFixed(2)}x` : '-']);
  row('slot agreement (every node reports the same full slot map)', m(rctlRuns, 'slotAgree'), m(cliRuns, 'slotAgree'));
  row('healthy (+ members, roles, cluster_state:ok, replica links up)', m(rctlRuns, 'healthy'), m(cliRuns, 'healthy'));
  row('tool exits', m(rctlRuns, 'exit'), m(cliRuns, 'exit'));
  console.log(t.toString());
  console.log(`  redis-cli's own "[OK] All nodes agree" line: median ${fmt(m(cliRuns, 'ownAgreement'))} after start (it sleeps 1 s, then polls every 1 s).`);
  console.log(`  rctl's own measure (after its preflight, without process start): slot agreement ${fmt(m(rctlRuns, 'internalSlots'))}, healthy ${fmt(m(rctlRuns, 'internalHealthy'))}.`);
}

console.log(`bench:create — ${reps} repetitions per series; 6 redis-server nodes with Redis defaults (cluster-enabled, appendonly), fresh for every run`);
await series('Fresh nodes (started, answering PING): Redis holds cluster_state:fail for 2 s after start (CLUSTER_WRITABLE_DELAY), for both tools.', 0);
await series('Warm nodes (up for 2.5 s): what remains is formation itself; Redis still adds 500 ms after a master was in a minority (CLUSTER_MIN_REJOIN_DELAY).', 2500);
const containerRuns = [];
for (let i = 0; i < Math.min(3, reps); i++) containerRuns.push(await containersOnce(i));
console.log(`\nWhole \`rctl create --masters 3 --replicas 1\` with containers (preflight, start 6 containers, form, verify): median ${fmt(median(containerRuns))} over ${containerRuns.length} runs.`);
