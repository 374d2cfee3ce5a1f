// npm run bench:fixture [-- --reps 3 --port-range 13000-15999]
// Time from "start" to a usable ioredis Cluster client (issue 12's figure), for 3x0 and 3x1:
//   hand-written: what a test author writes today with plain testcontainers: N GenericContainers
//     (host network, cluster-enabled), `redis-cli --cluster create ... --cluster-yes` run inside
//     the first one, then polling until cluster_state:ok everywhere and every replica's link is up.
//   rctl: RedisClusterContainer from rctl/testcontainers (the built package, dist/): start(), then
//     createClient(). Right after start() returns (outside the timed part), one poll checks that
//     it did not return before every replica's link was up: start() must never hand out a cluster
//     whose replicas are not synced.
// Floor for both: a Redis Cluster master refuses to report cluster_state:ok until 2 s after its
// process started (cluster.c, CLUSTER_WRITABLE_DELAY), so no fixture gets a usable 3x0 client in
// less than container start + 2 s; 3x1 is where the contenders differ (redis-cli leaves replicas to
// Redis's 5 s repl-diskless-sync-delay, rctl's nodes sync at once).
// Both are judged by the same "ready" (bench/lib/cluster-ready.mjs) and measured from the moment
// the fixture starts its first container; alternating order, medians, ratio hand-written / rctl.
import Table from 'cli-table3';
import { GenericContainer, Wait } from 'testcontainers';
import { RedisClusterContainer, reservePorts } from '../dist/testcontainers/index.js';
import { resolveImage } from '../dist/provision/select.js';
import { usableClient, waitClusterReady } from './lib/cluster-ready.mjs';
import { arg, fmt, median } from './lib/nodes.mjs';

// testcontainers' reaper needs its own image from a registry; the fixture removes what it starts.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
const reps = Number(arg('reps', '3'));
const [lo, hi] = arg('port-range', '13000-15999').split('-').map(Number);
const range = { min: lo, max: hi };
const image = resolveImage(arg('image'));
const SHAPES = [
  { masters: 3, replicas: 0 },
  { masters: 3, replicas: 1 },
];

/** The hand-written fixture, as close as possible to what a user would write. */
async function handWritten({ masters, replicas }) {
  const count = masters * (1 + replicas);
  const ports = await reservePorts(count, { range });
  const started = [];
  try {
    const t0 = performance.now();
    started.push(
      ...(await Promise.all(
        ports.map((p) =>
          new GenericContainer(image)
            .withNetworkMode('host')
            .withCommand(['redis-server', '--port', String(p.port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-node-timeout', '5000', '--appendonly', 'yes'])
            .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
            .start(),
        ),
      )),
    );
    const addrs = ports.map((p) => ({ host: '127.0.0.1', port: p.port }));
    const create = await started[0].exec(['redis-cli', '--cluster', 'create', ...addrs.map((a) => `${a.host}:${a.port}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
    if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${create.output}`);
    await waitClusterReady(addrs, masters * replicas);
    const client = await usableClient([addrs[0]]);
    const ms = performance.now() - t0;
    client.disconnect();
    return ms;
  } finally {
    await Promise.all(started.map((c) => c.stop().catch(() => undefined)));
    for (const p of ports) p.release();
  }
}

/** rctl/testcontainers: the same nodes (image, node timeout, host network), formed by rctl's core. */
async function rctlModule({ masters, replicas }) {
  const t0 = performance.now();
  const cluster = await new RedisClusterContainer(image).withMasters(masters).withReplicas(replicas).withNodeTimeout(5000).withPortRange(range).start();
  try {
    const started = performance.now() - t0;
    const seeds = cluster.getSeeds().map((s) => ({ host: s.split(':')[0], port: Number(s.split(':')[1]) }));
    // Not timed: one poll, no waiting. Throws if start() returned before the cluster was ready.
    await waitClusterReady(seeds, masters * replicas, { timeoutMs: 0 });
    const t1 = performance.now();
    const client = await usableClient([seeds[0]]);
    const ms = started + (performance.now() - t1);
    client.disconnect();
    return ms;
  } finally {
    await cluster.stop();
  }
}

/** The contenders, each `(shape) => ms from start to a usable client`; the ratio is first / second. */
const contenders = [
  { name: 'hand-written', run: handWritten },
  { name: 'rctl', run: rctlModule },
];

console.log(`bench:fixture — ${reps} repetitions per shape; image ${image}; ports ${range.min}-${range.max}`);
const t = new Table({
  head: ['start() to usable client', ...contenders.map((c) => c.name), ...(contenders.length > 1 ? [`${contenders[0].name} / ${contenders[1].name}`] : [])],
  style: { head: [], border: [] },
});
for (const shape of SHAPES) {
  const runs = new Map(contenders.map((c) => [c.name, []]));
  for (let i = 0; i < reps; i++) {
    // Alternate which contender goes first so machine drift favours none.
    const order = i % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) runs.get(c.name).push(await c.run(shape));
    console.log(`  ${shape.masters}x${shape.replicas} rep ${i + 1}: ${contenders.map((c) => `${c.name} ${fmt(runs.get(c.name).at(-1))}`).join(', ')}`);
  }
  const med = contenders.map((c) => median(runs.get(c.name)));
  t.push([`${shape.masters} masters x ${shape.replicas} replica(s)`, ...med.map(fmt), ...(med.length > 1 ? [`${(med[0] / med[1]).toFixed(2)}x`] : [])]);
}
console.log(t.toString());
