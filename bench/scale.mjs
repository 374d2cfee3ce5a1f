// npm run bench:scale [-- --keys 1000000]
// Scale a 3x1 cluster holding N keys of 100 bytes out by one shard (1 master + 1 replica) and back
// in, once with rctl (scale-out / scale-in) and once with the manual redis-cli sequence from the
// seeds (docker run the nodes, add-node, wait for the node to see the cluster ok, reshard 4096
// slots, add-node --cluster-slave; then del-node the replica, reshard the slots back, del-node the
// master, remove the containers), each on an identical, freshly created cluster. One run.
import Table from 'cli-table3';
import { Redis } from 'ioredis';
import { loadKeys, totalKeys } from './lib/data.mjs';
import { arg, fmt, must, rctl, run, waitPing } from './lib/nodes.mjs';

const N = Number(arg('keys', '1000000'));

async function freshCluster(name, base) {
  await rctl('destroy', '--name', name, '--yes');
  await must(rctl('create', '--name', name, '--port-base', String(base), '--json'), `create ${name}`);
  await loadKeys({ host: '127.0.0.1', port: base }, N);
  return { seed: `127.0.0.1:${base}` };
}

/** Until every node's CLUSTER NODES lists the same set of ids (new members known everywhere). */
async function waitMembership(ports) {
  for (let i = 0; i < 600; i++) {
    const sets = await Promise.all(
      ports.map(async (port) => {
        const r = new Redis({ port });
        const text = String(await r.call('CLUSTER', 'NODES'));
        r.disconnect();
        return text.split('\n').filter((l) => l && !l.includes('handshake')).map((l) => l.split(' ')[0]).sort().join(',');
      }),
    );
    if (new Set(sets).size === 1) return;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Run a redis-cli step until it succeeds, as a person re-runs a step that failed on a cluster still settling (bounded). */
async function retry(args, what) {
  for (let i = 0; ; i++) {
    const r = await run('redis-cli', args);
    if (r.code === 0) return r;
    if (i >= 60) throw new Error(`${what} kept failing: ${r.stdout.slice(-800)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function checkOk(seed) {
  for (let i = 0; i < 100; i++) {
    const r = await run('redis-cli', ['--cluster', 'check', seed]);
    if (r.code === 0 && !/\[ERR\]|\[WARNING\]/.test(r.stdout)) return true;
    await new Promise((res) => setTimeout(res, 100));
  }
  return false;
}

async function idOf(port) {
  const r = new Redis({ port });
  const id = String(await r.call('CLUSTER', 'MYID'));
  r.disconnect();
  return id;
}

/** What a person does by hand, following the seeds, scripted. */
async function redisCliSequence(seed, base, image) {
  const [h, p] = seed.split(':');
  const m = base + 6;
  const r = base + 7;
  const names = [`bench-scale-cli-${m}`, `bench-scale-cli-${r}`];
  const t0 = performance.now();
  for (const [i, port] of [m, r].entries()) {
    await must(run('docker', ['run', '-d', '--name', names[i], '--net', 'host', image, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--appendonly', 'yes']), 'docker run');
  }
  await waitPing({ host: '127.0.0.1', port: m });
  await waitPing({ host: '127.0.0.1', port: r });
  // Each step starts once the previous one checks OK, as the manual procedure does by eye.
  await checkOk(seed);
  await must(run('redis-cli', ['--cluster', 'add-node', `127.0.0.1:${m}`, seed]), 'add-node');
  // The new master must see the cluster as ok before resharding (else CLUSTERDOWN).
  const nm = new Redis({ port: m });
  while (!String(await nm.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) await new Promise((res) => setTimeout(res, 100));
  nm.disconnect();
  const mid = await idOf(m);
  await checkOk(seed);
  await must(run('redis-cli', ['--cluster', 'reshard', seed, '--cluster-from', 'all', '--cluster-to', mid, '--cluster-slots', '4096', '--cluster-yes']), 'reshard');
  await checkOk(seed);
  await must(run('redis-cli', ['--cluster', 'add-node', `127.0.0.1:${r}`, seed, '--cluster-slave', '--cluster-master-id', mid]), 'add-node --cluster-slave');
  // The manual procedure checks after this step; so does the script (until check passes).
  const okOut = await checkOk(seed);
  const outMs = performance.now() - t0;

  const t1 = performance.now();
  const rid = await idOf(r);
  await waitMembership([base, base + 1, base + 2, base + 3, base + 4, base + 5, m, r]);
  await retry(['--cluster', 'del-node', seed, rid], 'del-node replica');
  const firstId = await idOf(Number(p));
  await checkOk(seed);
  await must(run('redis-cli', ['--cluster', 'reshard', seed, '--cluster-from', mid, '--cluster-to', firstId, '--cluster-slots', '4096', '--cluster-yes']), 'reshard back');
  await checkOk(seed);
  await retry(['--cluster', 'del-node', seed, mid], 'del-node master');
  await must(run('docker', ['rm', '-f', ...names]), 'docker rm');
  const okIn = await checkOk(seed);
  const inMs = performance.now() - t1;
  void h;
  return { outMs, inMs, okOut, okIn };
}

async function rctlSequence(name, seed) {
  const t0 = performance.now();
  await must(rctl('scale-out', '--name', name, '--masters', '1', '--replicas', '1', '--yes', '--json'), 'rctl scale-out');
  const okOut = await checkOk(seed);
  const outMs = performance.now() - t0;
  const t1 = performance.now();
  await must(rctl('scale-in', '--name', name, '--masters', '1', '--to', seed, '--yes', '--json'), 'rctl scale-in');
  const okIn = await checkOk(seed);
  return { outMs, inMs: performance.now() - t1, okOut, okIn };
}

const image = (await must(rctl('ls', '--json'), 'ls')) && process.env.RCTL_IMAGE;
const cfgImage = image ?? JSON.parse((await import('node:fs')).readFileSync(`${process.env.HOME}/.rctl/config.json`, 'utf8')).image ?? 'redis:7.2.5';
console.log(`bench:scale — 3x1 cluster with ${N} keys of 100 bytes; scale out by 1 master + 1 replica, then back in`);
const a = await freshCluster('bench-scale-cli', 20701);
const before1 = await totalKeys({ host: '127.0.0.1', port: 20701 });
const cli = await redisCliSequence(a.seed, 20701, cfgImage);
const after1 = await totalKeys({ host: '127.0.0.1', port: 20701 });
await rctl('destroy', '--name', 'bench-scale-cli', '--yes');
console.log(`  redis-cli sequence: out ${fmt(cli.outMs)}, in ${fmt(cli.inMs)}`);
const b = await freshCluster('bench-scale-rctl', 20801);
const before2 = await totalKeys({ host: '127.0.0.1', port: 20801 });
const rc = await rctlSequence('bench-scale-rctl', b.seed);
const after2 = await totalKeys({ host: '127.0.0.1', port: 20801 });
await rctl('destroy', '--name', 'bench-scale-rctl', '--yes');
console.log(`  rctl:               out ${fmt(rc.outMs)}, in ${fmt(rc.inMs)}`);

const t = new Table({ head: ['wall time (until redis-cli --cluster check passes)', 'redis-cli sequence', 'rctl', 'ratio (redis-cli / rctl)'], style: { head: [], border: [] } });
t.push(['scale-out by 1 master + 1 replica', fmt(cli.outMs), fmt(rc.outMs), `${(cli.outMs / rc.outMs).toFixed(2)}x`]);
t.push(['scale-in by 1 shard (slots back to the first master)', fmt(cli.inMs), fmt(rc.inMs), `${(cli.inMs / rc.inMs).toFixed(2)}x`]);
t.push(['both', fmt(cli.outMs + cli.inMs), fmt(rc.outMs + rc.inMs), `${((cli.outMs + cli.inMs) / (rc.outMs + rc.inMs)).toFixed(2)}x`]);
t.push(['keys before = after', `${before1} = ${after1} ${before1 === after1 ? 'yes' : 'NO'}`, `${before2} = ${after2} ${before2 === after2 ? 'yes' : 'NO'}`, '']);
t.push(['check OK after each step', cli.okOut && cli.okIn ? 'yes' : 'NO', rc.okOut && rc.okIn ? 'yes' : 'NO', '']);
console.log(t.toString());
