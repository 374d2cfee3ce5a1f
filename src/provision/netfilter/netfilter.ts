import { IptablesFailed, iptables, parseRules } from './iptables.js';
import { CHAIN_PREFIX, TAG_PREFIX, chainName, jumpArgs, ruleArgs, tagOf, type DropRule } from './rules.js';

/**
 * A cluster's partition rules live in one chain of their own (RCTL-<hash of the name>), reached from
 * INPUT by one tagged jump. Healing never needs to know which rules were added: it removes the jump
 * and the whole chain, so it also works after a crash, from another process, any number of times.
 */

const notThere = (err: unknown): boolean =>
  err instanceof IptablesFailed && /No chain|does a matching rule exist|doesn't exist|Bad rule/i.test(err.stderr);

/** Create the chain and its jump from INPUT unless they exist. */
export async function ensureChain(cluster: string): Promise<void> {
  const chain = chainName(cluster);
  await iptables(['-N', chain]).catch((err: unknown) => {
    if (!(err instanceof IptablesFailed && /exists/i.test(err.stderr))) throw err;
  });
  const present = await iptables(['-C', 'INPUT', ...jumpArgs(cluster)]).then(
    () => true,
    (err: unknown) => (notThere(err) ? false : Promise.reject(err)),
  );
  // First in INPUT: an ACCEPT for loopback earlier in the chain would let the traffic through.
  if (!present) await iptables(['-I', 'INPUT', '1', ...jumpArgs(cluster)]);
}

/** Append drop rules to the cluster's chain (ensureChain first). */
export async function addRules(cluster: string, rules: readonly DropRule[]): Promise<void> {
  for (const r of rules) await iptables(['-A', chainName(cluster), ...ruleArgs(cluster, r)]);
}

/** Delete these rules from the chain; missing ones are fine. Returns how many rules are left in it. */
export async function deleteRules(cluster: string, rules: readonly DropRule[]): Promise<number> {
  for (const r of rules) {
    await iptables(['-D', chainName(cluster), ...ruleArgs(cluster, r)]).catch((err: unknown) => {
      if (!notThere(err)) throw err;
    });
  }
  return (await chainRules(cluster)).length;
}

export interface Healed {
  /** undefined: an untagged chain of rctl's, healed by its name. */
  readonly cluster: string | undefined;
  readonly chain: string;
  /** The rules that were in the chain, as `iptables -S` prints them. */
  readonly rules: readonly string[];
  /** Jumps from INPUT removed (normally 1; 0 when there was nothing to heal). */
  readonly jumps: number;
}

/** Remove every rule rctl added for the cluster: its jumps from INPUT, then its chain. Idempotent. */
export function heal(cluster: string): Promise<Healed> {
  return healChain(chainName(cluster), cluster);
}

/** heal() by chain name: also for a chain whose cluster no tag names any more (listTagged). */
export async function healChain(chain: string, cluster?: string): Promise<Healed> {
  if (!chain.startsWith(CHAIN_PREFIX)) throw new Error(`not an rctl chain: ${chain}`);
  const rules = (await chainRulesOf(chain)).map((a) => a.join(' '));
  // Found by target or by tag: a jump is removed whichever of the two survived.
  const jumps = parseRules(await iptables(['-S', 'INPUT'])).filter((a) => a[0] === '-A' && (a.at(-1) === chain || (cluster !== undefined && a.includes(tagOf(cluster)))));
  for (const j of jumps) {
    await iptables(['-D', ...j.slice(1)]).catch((err: unknown) => {
      if (!notThere(err)) throw err;
    });
  }
  for (const op of ['-F', '-X']) {
    await iptables([op, chain]).catch((err: unknown) => {
      if (!notThere(err)) throw err;
    });
  }
  return { cluster, chain, rules, jumps: jumps.length };
}

/** The rules in the cluster's chain as argument vectors ([] when there is no chain). */
const chainRules = (cluster: string): Promise<string[][]> => chainRulesOf(chainName(cluster));

async function chainRulesOf(chain: string): Promise<string[][]> {
  // The whole table, not `-S <chain>`: iptables-nft answers a missing chain with "incompatible, use
  // 'nft' tool", indistinguishable from a real incompatibility.
  return parseRules(await iptables(['-S'])).filter((a) => a[0] === '-A' && a[1] === chain);
}

export interface Tagged {
  /** The cluster named by the tag; undefined for a chain of rctl's whose jump and rules carry no tag any more. */
  readonly cluster: string | undefined;
  readonly chain: string;
  readonly rules: number;
}

/** Every chain rctl created that still exists, with the cluster it belongs to (for `rctl heal --all` and diagnostics). */
export async function listTagged(): Promise<Tagged[]> {
  const all = parseRules(await iptables(['-S']));
  const chains = all.filter((a) => a[0] === '-N' && a[1]?.startsWith(CHAIN_PREFIX)).map((a) => a[1]!);
  return chains.map((chain) => {
    const mine = all.filter((a) => a[0] === '-A' && (a[1] === chain || a.at(-1) === chain));
    const tag = mine.flatMap((a) => a.filter((w) => w.startsWith(TAG_PREFIX)))[0];
    const cluster = tag?.slice(TAG_PREFIX.length);
    return { cluster: cluster !== undefined && chainName(cluster) === chain ? cluster : undefined, chain, rules: mine.filter((a) => a[1] === chain).length };
  });
}
