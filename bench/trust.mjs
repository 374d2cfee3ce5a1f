// npm run bench:trust [-- --keys 200000 --reps 3]
// What safety costs and what it buys, rctl next to redis-cli on the same data in one run:
//  1. two reshards started together on one cluster (to different masters, 2000 slots each):
//     keys lost, exit codes, redis-cli's own check afterwards;
//  2. the seeds' drain step (reshard every slot of one master to another): exit code, wall time,
//     and whether redis-cli --cluster check passes right after the command returns;
//  3. the price of the lease and the re-verification: one 4096-slot reshard, rctl with its lease
//     vs rctl with RCTL_UNSAFE_NO_LEASE=1 vs redis-cli.
// Every cluster: 4 fresh redis-server masters (Redis defaults) formed by rctl, N keys of 100 bytes.
import { fileURLToPath } from 'node:url';
import Table from 'cli-table3';
import { Redis } from 'ioredis';
import { loadKeys, totalKeys } from './lib/data.mjs';
import { spawn } from 'node:child_process';
import { arg, fmt, median, must, run, startNodes } from './lib/nodes.mjs';

/** Like run(), but keeps only the last 64 KB of output: redis-cli racing another reshard can print without end. */
function runTail(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    const keep = (s) => (s.length > 65536 ? s.slice(-65536) : s);
    child.stdout.on('data', (d) => (stdout = keep(stdout + d)));
    child.stderr.on('data', (d) => (stderr = keep(stderr + d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}

const RCTL = fileURLToPath(new URL('../bin/rctl', import.meta.url));
const N = Number(arg('keys', '200000'));
const REPS = Number(arg('reps', '3'));

async function cluster(base) {
  const nodes = await startNodes(base, 4, ['--repl-diskless-sync-delay', '0']);
  await must(run(process.execPath, [RCTL, 'create', '--nodes', nodes.list.join(','), '--masters', '4', '--replicas', '0', '--json']), 'rctl create --nodes');
  await loadKeys(nodes.addrs[0], N);
  const ids = [];
  for (const a of nodes.addrs) {
    const r = new Redis(a);
    ids.push(String(await r.call('CLUSTER', 'MYID')));
    r.disconnect();
  }
  return { nodes, seed: nodes.list[0], ids };
}

async function peerCheckNow(seed) {
  const r = await run('redis-cli', ['--cluster', 'check', seed]);
  return r.code === 0 && !/\[ERR\]|\[WARNING\]/.test(r.stdout);
}

async function peerCheckSettled(seed, ms = 20_000) {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (await peerCheckNow(seed)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function slotsOwnedBy(addr) {
  const r = new Redis(addr);
  const slots = await r.call('CLUSTER', 'SLOTS');
  r.disconnect();
  return slots.filter((s) => Number(s[2][1]) === addr.port).reduce((n, s) => n + s[1] - s[0] + 1, 0);
}

const cliReshard = (seed, to, slots, from = 'all') =>
  runTail('timeout', ['120', 'redis-cli', '--cluster', 'reshard', seed, '--cluster-from', from, '--cluster-to', to, '--cluster-slots', String(slots), '--cluster-yes']);
const rctlReshard = (seed, to, slots, from = 'all', env) => runTail(process.execPath, [RCTL, 'reshard', '--seed', seed, '--from', from, '--to', to, '--slots', String(slots), '--yes', '--json'], { env });

console.log(`bench:trust — 4 masters, ${N} keys of 100 bytes; ${REPS} run(s) of each case, fresh cluster each`);

// 1. Concurrent reshards.
const concurrent = { cli: [], rctl: [] };
for (let i = 0; i < REPS; i++) {
  for (const tool of ['cli', 'rctl']) {
    const c = await cluster(21001 + i * 20 + (tool === 'rctl' ? 10 : 0));
    try {
      const before = await totalKeys(c.nodes.addrs[0]);
      const go = tool === 'cli' ? cliReshard : rctlReshard;
      const [a, b] = await Promise.all([go(c.seed, c.ids[0], 2000), go(c.seed, c.ids[1], 2000)]);
      const after = await totalKeys(c.nodes.addrs[0]);
      concurrent[tool].push({ lost: before - after, codes: [a.code, b.code], refusedMs: tool === 'rctl' ? Math.min(a.code === 11 ? a.ms : Infinity, b.code === 11 ? b.ms : Infinity) : NaN, check: await peerCheckSettled(c.seed) });
    } finally {
      await c.nodes.stop();
    }
  }
}

// 2. The seeds' drain step, and 3. one 4096-slot reshard, on one fresh cluster per tool.
const drain = {};
const single = {};
for (const tool of ['cli', 'rctl', 'rctl-nolease']) {
  const c = await cluster(21201 + Object.keys(drain).length * 10);
  try {
    const env = tool === 'rctl-nolease' ? { RCTL_UNSAFE_NO_LEASE: '1' } : undefined;
    const go = tool === 'cli' ? cliReshard : (seed, to, slots, from) => rctlReshard(seed, to, slots, from, env);
    const r1 = await go(c.seed, c.ids[3], 4096);
    single[tool] = { ms: r1.ms, code: r1.code };
    if (r1.code !== 0) console.log(`  ${tool} 4096-slot reshard exited ${r1.code}: ${(r1.stdout + r1.stderr).slice(-600)}`);
    await peerCheckSettled(c.seed);
    // Drain master 4 (it now owns 4096 + its own share) into master 1.
    const owned = await slotsOwnedBy(c.nodes.addrs[3]);
    const before = await totalKeys(c.nodes.addrs[0]);
    const d = await go(c.seed, c.ids[0], owned, c.ids[3]);
    if (d.code !== 0) console.log(`  ${tool} drain exited ${d.code}: ${(d.stdout + d.stderr).slice(-600)}`);
    drain[tool] = { code: d.code, ms: d.ms, checkRightAfter: await peerCheckNow(c.seed), lost: before - (await totalKeys(c.nodes.addrs[0])), slots: owned };
  } finally {
    await c.nodes.stop();
  }
}

const t1 = new Table({ head: ['two reshards at once', 'redis-cli --cluster reshard ×2', 'rctl reshard ×2'], style: { head: [], border: [] } });
const lostRow = (xs) => xs.map((x) => x.lost).join(', ');
t1.push(['keys lost per run', lostRow(concurrent.cli), lostRow(concurrent.rctl)]);
t1.push(['exit codes per run', concurrent.cli.map((x) => x.codes.join('/')).join(', '), concurrent.rctl.map((x) => x.codes.join('/')).join(', ')]);
t1.push(['redis-cli check passes afterwards', concurrent.cli.map((x) => (x.check ? 'yes' : 'no')).join(', '), concurrent.rctl.map((x) => (x.check ? 'yes' : 'no')).join(', ')]);
t1.push(['second operation refused after (median)', '-', fmt(median(concurrent.rctl.map((x) => x.refusedMs)))]);
console.log(t1.toString());

const t2 = new Table({ head: ['', 'redis-cli', 'rctl (lease + re-verification)', 'rctl, RCTL_UNSAFE_NO_LEASE=1'], style: { head: [], border: [] } });
t2.push(['4096-slot reshard: wall time', fmt(single.cli.ms), fmt(single.rctl.ms), fmt(single['rctl-nolease'].ms)]);
t2.push(['4096-slot reshard: exit code', single.cli.code, single.rctl.code, single['rctl-nolease'].code]);
t2.push([`drain (all slots of a master): wall time`, fmt(drain.cli.ms), fmt(drain.rctl.ms), fmt(drain['rctl-nolease'].ms)]);
t2.push(['drain: exit code', drain.cli.code, drain.rctl.code, drain['rctl-nolease'].code]);
t2.push(['drain: redis-cli check passes right after it returns', drain.cli.checkRightAfter ? 'yes' : 'no', drain.rctl.checkRightAfter ? 'yes' : 'no', drain['rctl-nolease'].checkRightAfter ? 'yes' : 'no']);
t2.push(['drain: keys lost', drain.cli.lost, drain.rctl.lost, drain['rctl-nolease'].lost]);
console.log(t2.toString());
console.log(`ratio, 4096-slot reshard (redis-cli time / rctl time): ${(single.cli.ms / single.rctl.ms).toFixed(2)}x; drain: ${(drain.cli.ms / drain.rctl.ms).toFixed(2)}x`);
console.log(`cost of the lease and re-verification (rctl / rctl without lease): reshard ${(single.rctl.ms / single['rctl-nolease'].ms).toFixed(2)}x, drain ${(drain.rctl.ms / drain['rctl-nolease'].ms).toFixed(2)}x`);
