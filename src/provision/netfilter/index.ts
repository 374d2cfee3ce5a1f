export { addRules, deleteRules, ensureChain, heal, healChain, listTagged, type Healed, type Tagged } from './netfilter.js';
export { chainName, tagOf, type DropRule } from './rules.js';
export { iptables, IptablesFailed } from './iptables.js';
