import { RCTL_VERSION } from '../../version.js';

/** Labels on everything rctl creates in Docker: how `destroy` finds it and refuses what rctl did not create. */
export const LABEL_CLUSTER = 'io.rctl.cluster';
export const LABEL_INDEX = 'io.rctl.index';
export const LABEL_VERSION = 'io.rctl.version';
export const LABEL_KIND = 'io.rctl.kind';

export const labelsFor = (cluster: string, kind: string, index?: number): Record<string, string> => ({
  [LABEL_CLUSTER]: cluster,
  [LABEL_KIND]: kind,
  [LABEL_VERSION]: RCTL_VERSION,
  ...(index === undefined ? {} : { [LABEL_INDEX]: String(index) }),
});

export const containerName = (cluster: string, index: number, role: 'node' | 'sentinel' = 'node'): string => `${cluster}-${role}-${index}`;
export const volumeName = (cluster: string, index: number, role: 'node' | 'sentinel' = 'node'): string => `${cluster}-${role}-${index}-data`;
export const networkName = (cluster: string): string => `${cluster}-net`;
