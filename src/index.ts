/**
 * rctl's public API: every use case a CLI command runs, for programs and tests. The CLI is one
 * client of it. Semver covers what is exported here (README "Use rctl in your tests"); modules not
 * re-exported are internal and may change in any release.
 */
export { openCluster, ClusterHandle, type OpenOptions, type SlotOwner } from './api/cluster-handle.js';
export { createCluster, formCluster, destroyCluster, type CreateOptions, type Created, type FormOptions, type Destroyed } from './api/lifecycle.js';
export { listClusters, type ListedCluster, type LiveState } from './api/list.js';
export { createSentinel, openSentinel, destroySentinel, SentinelHandle, DEFAULT_SENTINEL_NAME, type SentinelTarget, type SentinelCreateOptions, type SentinelDrillOptions } from './api/sentinel.js';
export { DEFAULT_NAME, type ClusterTarget, type ResolvedTarget } from './api/target.js';
export { DeclinedError, type Confirm, type OperationOptions } from './api/operation.js';
export type { CheckReport, FixOptions, FixReport } from './api/check.js';
export type { MoveOptions, MoveOutcome } from './api/moves.js';
export type { AddNodeOptions, AddNodeResult, DelNodeOptions, DelNodeReport, AttachResult } from './api/membership.js';
export type { ScaleOptions, ScaleReport, ScaleKind, ScaleStepView } from './api/scale.js';
export type { DrillOptions, FailoverOptions, FaultedNode } from './api/failover.js';
export type { NodeSelector } from './api/node-select.js';
export type { WriteSafetyOptions, WriteSafetyResult } from './api/write-safety.js';
export type { NodeWriteSafety } from './cluster/write-safety.js';
export { heal, healAll, type Healed, type PartitionHandle, type PartitionDrillReport, type IsolateSpec, type PartitionMode, type PartitionOptions, type PartitionDrillOptions } from './api/partition.js';
export type { LostWriteReport } from './failover/lost-writes-report.js';
export type { Prediction, Agreement } from './failover/loss-prediction.js';
export { recordedFaults, type FaultBackend, type FaultableNode, type FaultMode } from './api/faults.js';

// Errors: every failure is an RctlError with a stable code, a hint and the CLI's exit code.
export { RctlError, ExitCode, isRctlError, usageError, type ErrorCode } from './errors.js';
export { StalePlanError } from './reshard/apply-plan.js';
export type { RctlEvent, EventSink } from './events.js';

// Plans: pure, serialisable, checked against the cluster's fingerprint when applied.
export { toPlanFile, fromPlanFile, planSlots, planMoves, summarize, type Plan, type PlanFile, type SlotBatch, type Wave } from './reshard/plan.js';
export type { ReshardIntent } from './reshard/plan-reshard.js';
export type { RebalanceIntent } from './reshard/plan-rebalance.js';
export type { DrainIntent } from './reshard/plan-drain.js';
export type { ApplyResult } from './reshard/apply-plan.js';

// What reports are made of.
export type { Snapshot, NodeState } from './cluster/snapshot.js';
export type { CheckResult, Finding, Severity } from './cluster/check.js';
export type { FormResult } from './cluster/form.js';
export type { DrillReport } from './failover/drill.js';
export type { LoadSummary } from './failover/load-generator.js';
export type { FailoverResult, FailoverMode } from './failover/manual-failover.js';
export type { SentinelStatus } from './sentinel/status.js';
export type { SentinelDrillReport } from './sentinel/drill.js';
export type { ClusterRecord, NodeRecord, ProviderKind, NetworkMode } from './state/records.js';
export type { NodeAddress } from './redis/address.js';
export { keySlot } from './cluster/keyslot.js';
export { RCTL_VERSION } from './version.js';
