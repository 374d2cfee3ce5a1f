// What "ready" means in bench:fixture, judged the same way for every contender, the way a test
// author would judge it by hand: every node says cluster_state:ok, every replica's link to its
// master is up, and an ioredis Cluster client can write and read back a key on every master.
import { Cluster, Redis } from 'ioredis';

const plain = (addr, password) =>
  new Redis({ ...addr, ...(password ? { password } : {}), lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });

async function nodeState(addr, password) {
  const r = plain(addr, password);
  r.on('error', () => {});
  try {
    await r.connect();
    const [cluster, repl] = await Promise.all([r.call('CLUSTER', 'INFO'), r.info('replication')]);
    return { ok: /cluster_state:ok/.test(cluster), replica: /role:slave/.test(repl), linkUp: /master_link_status:up/.test(repl) };
  } finally {
    r.disconnect();
  }
}

/** Poll (5 ms apart, bounded) until cluster_state:ok everywhere and `replicas` replicas have their link up. */
export async function waitClusterReady(addrs, replicas, { password, timeoutMs = 60_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'not polled yet';
  for (;;) {
    try {
      const states = await Promise.all(addrs.map((a) => nodeState(a, password)));
      const notOk = states.filter((s) => !s.ok).length;
      const up = states.filter((s) => s.replica && s.linkUp).length;
      if (notOk === 0 && up === replicas) return;
      last = `${notOk} node(s) not cluster_state:ok, ${up}/${replicas} replica links up`;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) throw new Error(`cluster not ready within ${timeoutMs} ms: ${last}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An ioredis Cluster client that has written and read a key in every master's slots. */
export async function usableClient(seeds, { password, natMap } = {}) {
  const c = new Cluster(seeds, { ...(natMap ? { natMap } : {}), redisOptions: { ...(password ? { password } : {}) }, enableReadyCheck: true });
  // Three keys whose slots (by hash tags) fall on the three default masters' ranges: 0-5460, 5461-10922, 10923-16383.
  for (const k of ['{a}', '{b}', '{c}']) {
    await c.set(`bench:${k}`, 'v');
    if ((await c.get(`bench:${k}`)) !== 'v') throw new Error('read back failed');
  }
  return c;
}
