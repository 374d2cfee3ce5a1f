/**
 * Typed errors. Every failure a user can cause or meet carries a stable code, one sentence
 * saying what happened, and a hint saying what to do. Only the CLI layer prints them and exits.
 */

/** Documented exit codes (README "Exit codes"). */
export const ExitCode = {
  ok: 0,
  /** `check` (and `status`) found problems. */
  problems: 1,
  /** Invalid flags or values, impossible counts. */
  usage: 2,
  /** A seed or node could not be reached. */
  unreachable: 3,
  /** Wrong or missing password. */
  auth: 4,
  /** The environment is missing something: Docker, an image, redis-server, a free port. */
  environment: 5,
  /** rctl refused: the target is not in a state it can safely act on. */
  refused: 6,
  /** A bounded wait ran out. */
  timeout: 7,
  /** Redis answered with an error rctl did not expect. */
  redis: 8,
  /** The user answered "no" to a confirmation: nothing was changed (not a failure, not "problems found"). */
  declined: 10,
  /** Another operation holds the cluster's lease. */
  locked: 11,
  /** Keys went missing during an operation; nothing further was moved. */
  keysLost: 12,
  /** A drill's CI gate failed (--max-lost, --max-failover-ms): the drill ran, its numbers are over the limit. */
  gateFailed: 13,
  /** A bug in rctl. */
  internal: 70,
  /** Interrupted by Ctrl-C. */
  interrupted: 130,
} as const;

export type ErrorCode =
  | 'USAGE'
  | 'UNREACHABLE'
  | 'LOADING'
  | 'AUTH'
  | 'NO_DOCKER'
  | 'IMAGE_MISSING'
  | 'NO_REDIS_SERVER'
  | 'NO_IPTABLES'
  | 'PORT_IN_USE'
  | 'PROVISION_FAILED'
  | 'NODE_NOT_EMPTY'
  | 'NODE_IN_OTHER_CLUSTER'
  | 'NOT_CLUSTER_ENABLED'
  | 'UNKNOWN_CLUSTER'
  | 'CLUSTER_EXISTS'
  | 'NOT_CREATED_BY_RCTL'
  | 'UNKNOWN_NODE'
  | 'REFUSED'
  | 'TIMEOUT'
  | 'REDIS_ERROR'
  | 'INTERRUPTED'
  | 'DECLINED'
  | 'INTERNAL'
  | 'LOCKED'
  | 'KEYS_LOST';

const exitFor: Record<ErrorCode, number> = {
  USAGE: ExitCode.usage,
  UNREACHABLE: ExitCode.unreachable,
  LOADING: ExitCode.unreachable,
  AUTH: ExitCode.auth,
  NO_DOCKER: ExitCode.environment,
  IMAGE_MISSING: ExitCode.environment,
  NO_REDIS_SERVER: ExitCode.environment,
  NO_IPTABLES: ExitCode.environment,
  PORT_IN_USE: ExitCode.environment,
  PROVISION_FAILED: ExitCode.environment,
  NODE_NOT_EMPTY: ExitCode.refused,
  NODE_IN_OTHER_CLUSTER: ExitCode.refused,
  NOT_CLUSTER_ENABLED: ExitCode.refused,
  UNKNOWN_CLUSTER: ExitCode.refused,
  CLUSTER_EXISTS: ExitCode.refused,
  NOT_CREATED_BY_RCTL: ExitCode.refused,
  UNKNOWN_NODE: ExitCode.usage,
  REFUSED: ExitCode.refused,
  TIMEOUT: ExitCode.timeout,
  REDIS_ERROR: ExitCode.redis,
  INTERRUPTED: ExitCode.interrupted,
  DECLINED: ExitCode.declined,
  INTERNAL: ExitCode.internal,
  LOCKED: ExitCode.locked,
  KEYS_LOST: ExitCode.keysLost,
};

/** Used when a throw site gives no hint of its own: every error tells the user what to do next. */
const defaultHint: Record<ErrorCode, string> = {
  USAGE: 'Run the command with --help to see its options.',
  UNREACHABLE: 'Check the address and that the node is running (`rctl ls` lists clusters rctl created).',
  AUTH: 'Pass --password or set RCTL_PASSWORD.',
  LOADING: 'The node is loading its dataset (a restart or a full sync); try again when it is done.',
  NO_DOCKER: 'Check `docker info`, or use --provider process.',
  IMAGE_MISSING: 'Pass --image (or RCTL_IMAGE) with a local Redis image, or run `rctl setup`.',
  NO_REDIS_SERVER: 'Install redis-server (`rctl setup`), or use --provider docker.',
  NO_IPTABLES: 'Partitions need iptables and root (or CAP_NET_ADMIN) on Linux: install iptables (apt-get install iptables) and run rctl as root.',
  PORT_IN_USE: 'Choose another --port-base.',
  PROVISION_FAILED: 'Nothing was left behind; fix the cause and run the command again.',
  NODE_NOT_EMPTY: 'Use an empty node, or flush it first.',
  NODE_IN_OTHER_CLUSTER: 'Use another node, or CLUSTER RESET it if that cluster is gone.',
  NOT_CLUSTER_ENABLED: 'Point rctl at a node started with --cluster-enabled yes.',
  UNKNOWN_CLUSTER: 'See `rctl ls`, or pass --seed host:port.',
  CLUSTER_EXISTS: 'Choose another --name, or destroy the existing cluster first.',
  NOT_CREATED_BY_RCTL: 'rctl only removes what it created.',
  UNKNOWN_NODE: '`rctl info` lists the nodes with their ids and addresses.',
  REFUSED: 'Run `rctl check` to see the cluster state.',
  TIMEOUT: 'Run `rctl check` to see the cluster state.',
  REDIS_ERROR: 'Run `rctl check` to see the cluster state.',
  INTERRUPTED: 'Run `rctl check` to see where things stand.',
  DECLINED: 'Nothing was changed; run the command again and confirm, or pass --yes.',
  INTERNAL: 'This is a bug in rctl; rerun with RCTL_DEBUG=1 and report the stack trace.',
  LOCKED: 'Wait for the other operation to finish, or break its lease with --break-lock if its process is gone.',
  KEYS_LOST: 'Stop every other operation on this cluster and run `rctl check`.',
};

export class RctlError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly exitCode: number;
  /** Extra machine-readable facts for --json output. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RctlError';
    this.code = code;
    this.hint = opts.hint ?? defaultHint[code];
    this.exitCode = exitFor[code];
    this.details = opts.details;
  }
}

export const usageError = (message: string, hint?: string): RctlError => new RctlError('USAGE', message, hint === undefined ? {} : { hint });

export function isRctlError(err: unknown): err is RctlError {
  return err instanceof RctlError;
}

/** Best-effort message of an unknown thrown value. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
