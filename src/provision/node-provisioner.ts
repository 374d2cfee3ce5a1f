import type { NodeAddress } from '../redis/address.js';

/** How the executor gets nodes started and deleted (containers or processes) and the record kept. */
export interface NodeProvisioner {
  addressOf(index: number): NodeAddress;
  /** Start these nodes (skipping any already running) and wait until they answer. */
  start(indexes: readonly number[]): Promise<void>;
  /** Stop and delete these nodes and their data. */
  remove(indexes: readonly number[]): Promise<void>;
}
