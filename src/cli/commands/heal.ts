import type { Command } from 'commander';
import { heal, healAll, type Healed } from '../../index.js';
import { assertValidName } from '../../state/records.js';
import { runCommand } from '../run.js';
import { DEFAULT_NAME } from '../target.js';

interface HealFlags {
  name?: string;
  all?: boolean;
  json?: boolean;
}

/**
 * Remove the network rules rctl added to cut a cluster's nodes apart (drills, `partition()`), also
 * those a killed rctl left behind. Needs no record: the rules are found by the cluster's chain.
 */
export function registerHeal(program: Command): void {
  program
    .command('heal')
    .description('remove every network rule rctl added to partition a cluster (also after a crash); needs iptables and root')
    .option('--name <name>', `cluster whose rules to remove (default "${DEFAULT_NAME}")`)
    .option('--all', 'remove the rules of every cluster rctl partitioned')
    .option('--json', 'machine-readable output')
    .action((flags: HealFlags) =>
      runCommand(flags, async () => {
        let healed: Healed[];
        if (flags.all) {
          healed = await healAll();
        } else {
          const name = flags.name ?? DEFAULT_NAME;
          assertValidName(name);
          healed = [await heal(name)];
        }
        const removed = healed.filter((h) => h.jumps > 0 || h.rules.length > 0);
        return {
          data: { healed: removed.map((h) => ({ cluster: h.cluster ?? null, chain: h.chain, rules: h.rules, jumps: h.jumps })) },
          human:
            removed.length === 0
              ? `No rctl network rules ${flags.all ? 'found' : `for cluster "${flags.name ?? DEFAULT_NAME}"`}: nothing to heal.`
              : removed.map((h) => `Healed ${h.cluster ? `cluster "${h.cluster}"` : 'an untagged rctl chain'} (chain ${h.chain}): removed ${h.rules.length} rule(s)${h.rules.map((r) => `\n  ${r}`).join('')}`).join('\n'),
        };
      }),
    );
}
