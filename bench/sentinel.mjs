// npm run bench:sentinel [-- --runs 3]
// Sentinel drill (kill the master, bounded Sentinel-aware writer) at down-after 1000, 3000 and
// 5000 ms: median time to +odown, to +switch-master, to every Sentinel and replica agreeing, and
// acknowledged writes lost. One run per setting on a fresh 1 master + 2 replicas + 3 Sentinels group.
import Table from 'cli-table3';
import { arg, fmt, median, must, rctl } from './lib/nodes.mjs';

const RUNS = Number(arg('runs', '3'));

console.log(`bench:sentinel — kill drills, ${RUNS} runs per down-after (1 master, 2 replicas, 3 Sentinels, quorum 2, process nodes)`);
const rows = [];
for (const [i, downAfter] of [1000, 3000, 5000].entries()) {
  const name = `bench-sent-${downAfter}`;
  await rctl('sentinel', 'destroy', '--name', name, '--yes');
  await must(rctl('sentinel', 'create', '--name', name, '--provider', 'process', '--down-after', String(downAfter), '--failover-timeout', '20000', '--port-base', String(22001 + i * 10), '--sentinel-port-base', String(22501 + i * 10)), 'create');
  const runs = [];
  try {
    for (let k = 0; k < RUNS; k++) {
      for (let w = 0; w < 100 && (await rctl('sentinel', 'status', '--name', name)).code !== 0; w++) await new Promise((r) => setTimeout(r, 200));
      const d = JSON.parse((await must(rctl('sentinel', 'drill', '--name', name, '--mode', 'kill', '--load', '--json'), 'drill')).stdout);
      runs.push({ odown: d.events['+odown'], sw: d.events['+switch-master'], agree: d.allAgreeMs, lost: d.load.lost, acked: d.load.acknowledged });
      console.log(`  down-after ${downAfter} run ${k + 1}: +odown ${fmt(d.events['+odown'])}, +switch-master ${fmt(d.events['+switch-master'])}, all agree ${fmt(d.allAgreeMs)}, lost ${d.load.lost}/${d.load.acknowledged}`);
    }
  } finally {
    await rctl('sentinel', 'destroy', '--name', name, '--yes');
  }
  const m = (k) => median(runs.map((r) => r[k]));
  rows.push([`${downAfter} ms`, fmt(m('odown')), fmt(m('sw')), fmt(m('agree')), `${m('lost')} / ${m('acked')}`, m('sw') <= downAfter + 2000 ? 'yes' : 'no']);
}
const t = new Table({ head: ['down-after', '+odown', '+switch-master', 'all agree', 'lost / acked (median)', 'switch ≤ down-after + 2 s'], style: { head: [], border: [] } });
rows.forEach((r) => t.push(r));
console.log(t.toString());
