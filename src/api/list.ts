import { listRecords, type ClusterRecord } from '../state/records.js';

/** The clusters and Sentinel groups rctl created (its records in ~/.rctl, or RCTL_HOME). */
export function listClusters(): Promise<ClusterRecord[]> {
  return listRecords();
}
