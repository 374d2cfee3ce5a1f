import { Option } from 'commander';
import { DEFAULT_CONCURRENCY } from '../reshard/apply-plan.js';
import { intAtLeast } from './parse.js';

/**
 * --concurrency for every command that moves slots (reshard, rebalance, apply, scale-out, scale-in):
 * the most slot batches in flight at once across all source->target pairs, handed to the executor
 * as ApplyOptions.concurrency. Checked while parsing, like every numeric flag (exit 2 with a hint).
 */
export function concurrencyOption(): Option {
  return new Option('--concurrency <n>', 'most slot batches moving at once, across all source->target pairs (1: one batch at a time)')
    .argParser(intAtLeast(1, 'It is how many slot batches move at once: 1 moves one batch at a time.'))
    .default(DEFAULT_CONCURRENCY);
}
