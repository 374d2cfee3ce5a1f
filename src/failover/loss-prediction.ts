import type { LostWrites } from './lost-writes-report.js';

/**
 * What the Redis documentation predicts a partition drill loses, and whether a measurement agrees.
 * Pure. Sources (quoted in `text`):
 * - Redis Cluster specification (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/),
 *   "Write safety" and "Availability": "after node timeout has elapsed without a master node to be
 *   able to sense the majority of the other master nodes, it enters an error state and stops
 *   accepting writes"; a master is failed over after node timeout (PFAIL -> FAIL), and its replica
 *   starts the election after "DELAY = 500 milliseconds + random delay between 0 and 500
 *   milliseconds + REPLICA_RANK * 1000 milliseconds".
 * - Replication (https://redis.io/docs/latest/operate/oss_and_stack/management/replication/),
 *   "Allow writes only with N attached replicas": with min-replicas-to-write N the master stops
 *   accepting writes when fewer than N replicas acknowledged within min-replicas-max-lag seconds
 *   (replicas ACK once a second).
 * - Sentinel (https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/), "Example 2"
 *   and "Consistency under partitions": the isolated old master keeps accepting writes, lost when it
 *   rejoins as a replica, unless min-replicas-to-write bounds them.
 */
export type PartitionKind = 'cluster-bus-partition' | 'replica-isolated' | 'sentinel-partition';

export interface PredictionInput {
  readonly kind: PartitionKind;
  /** How long the partition lasts. */
  readonly durationMs: number;
  /** cluster-node-timeout (cluster kinds). */
  readonly nodeTimeoutMs: number;
  readonly minReplicasToWrite?: number | undefined;
  /** min-replicas-max-lag in seconds (Redis' default: 10). */
  readonly minReplicasMaxLagS?: number | undefined;
  /** Sentinel's down-after-milliseconds. */
  readonly downAfterMs?: number | undefined;
  /**
   * Whether the cut also stops replication from the isolated master to its replicas (default: true,
   * every packet between the node sets dropped). If only the bus ports are cut, the replica keeps
   * receiving the old master's writes until it is promoted, by which time the old master already
   * refuses writes: the documentation then predicts no loss beyond replication lag.
   */
  readonly replicationCut?: boolean | undefined;
}

export interface Prediction {
  readonly failover: boolean;
  readonly lossExpected: boolean;
  /** How long the isolated master acknowledges writes that will be lost (ms after the cut). */
  readonly windowMs?: number;
  /** The duration is too close to the failover threshold to say whether a failover happens. */
  readonly borderline: boolean;
  /**
   * `windowMs` is an upper bound, not an estimate: min-replicas-to-write fences the master somewhere
   * between the cut and max-lag + 1 s after it (the lag counts whole seconds since the last ACK).
   */
  readonly windowIsBound?: boolean;
  readonly text: string;
}

/** Replica election delay at rank 0, worst case: 500 + 500 ms (spec), plus gossip of FAIL. */
const ELECTION_MAX_MS = 1000;
/** A Sentinel failover after ODOWN: vote, pick, promote; a second or two in practice (Sentinel docs). */
const SENTINEL_FAILOVER_MS = 2000;
/** Replicas ACK every second and the master recounts good replicas every second (replicationCron). */
const ACK_PERIOD_MS = 1000;

export function predictLoss(i: PredictionInput): Prediction {
  const nt = i.nodeTimeoutMs;
  const minRep = i.minReplicasToWrite ?? 0;
  const lagMs = (i.minReplicasMaxLagS ?? 10) * 1000;
  // With min-replicas-to-write, a master cut from its replicas refuses writes once their last ACK is
  // older than max-lag: between max-lag and max-lag + ACK period + recount period after the cut.
  const fencedAfterMs = minRep > 0 ? lagMs + ACK_PERIOD_MS : undefined;
  if (i.kind === 'replica-isolated') {
    const fence = minRep > 0 ? ` With min-replicas-to-write ${minRep}, its master may refuse writes after ~${Math.round(lagMs / 1000)} s if this was one of too few replicas: failed writes, not lost ones.` : '';
    return {
      failover: false,
      lossExpected: false,
      borderline: false,
      text: `A replica owns no slots: isolating it causes no failover and no acknowledged write is lost; it resyncs after heal (Redis Cluster spec, replication docs).${fence}`,
    };
  }
  if (i.kind === 'sentinel-partition') {
    const down = i.downAfterMs ?? 30_000;
    const threshold = down + SENTINEL_FAILOVER_MS;
    const failover = i.durationMs > down;
    const borderline = i.durationMs > down && i.durationMs < threshold;
    if (!failover) {
      return { failover, lossExpected: false, borderline: i.durationMs > down - 500, text: `The partition (${i.durationMs} ms) is shorter than down-after-milliseconds (${down} ms): Sentinels do not agree the master is down, no failover, no acknowledged write lost (Sentinel docs).` };
    }
    // No self-fencing in Sentinel: the old master acknowledges until the cut ends (then it is made a
    // replica of the new master and its own writes are discarded), unless min-replicas fences it.
    const windowMs = Math.min(i.durationMs, fencedAfterMs ?? Infinity);
    return {
      failover,
      lossExpected: true,
      windowMs,
      borderline,
      ...(fencedAfterMs ? { windowIsBound: true } : {}),
      text:
        `The old master is cut from Sentinels and replicas for ${i.durationMs} ms > down-after-milliseconds ${down} ms: the Sentinels fail over; the old master keeps accepting writes (nothing in Redis stops it) and they are lost when it rejoins as a replica (Sentinel docs, "Consistency under partitions").` +
        (fencedAfterMs
          ? ` With min-replicas-to-write ${minRep} / max-lag ${lagMs / 1000} s it stops within ~${Math.round(fencedAfterMs / 1000)} s of the cut: window at most ≈ ${windowMs} ms (replication docs).`
          : ` Window ≈ the time it stays exposed: the partition (${windowMs} ms), and after the heal until a Sentinel reconfigures it as a replica (Sentinels re-check a node they list as a replica every 10 s: up to ~10 s more).`),
    };
  }
  // cluster-bus-partition: the isolated master and its clients on the minority side.
  const failover = i.durationMs > nt;
  const borderline = Math.abs(i.durationMs - nt) < nt / 2 || (i.durationMs > nt && i.durationMs < nt * 1.5 + ELECTION_MAX_MS);
  if (!failover) {
    return {
      failover,
      lossExpected: false,
      borderline,
      text: `The partition (${i.durationMs} ms) is shorter than cluster-node-timeout (${nt} ms): the master is never marked FAIL, no replica is promoted, and every acknowledged write is kept (Redis Cluster spec, "Availability").`,
    };
  }
  if (i.replicationCut === false) {
    return {
      failover,
      lossExpected: false,
      borderline,
      text: `Only the cluster bus is cut: the replica keeps replicating until it is promoted (after node-timeout ${nt} ms + election delay up to ${ELECTION_MAX_MS} ms), and the old master stops accepting writes after node-timeout (Redis Cluster spec, "Write safety"): no acknowledged write lost beyond replication lag.`,
    };
  }
  // The minority master acknowledges from the cut until it notices it cannot reach the majority
  // (≈ node-timeout); the promoted replica never got those writes.
  const windowMs = Math.min(nt, fencedAfterMs ?? Infinity, i.durationMs);
  return {
    failover,
    lossExpected: true,
    windowMs,
    borderline,
    ...(fencedAfterMs !== undefined && fencedAfterMs <= nt ? { windowIsBound: true } : {}),
    text:
      `The master is cut from the majority for ${i.durationMs} ms > cluster-node-timeout ${nt} ms: its replica is promoted; until then the old master "stops accepting writes" only after node-timeout (Redis Cluster spec, "Write safety"), so the writes it acknowledged during ≈ ${nt} ms are lost on heal.` +
      (fencedAfterMs ? ` With min-replicas-to-write ${minRep} / max-lag ${lagMs / 1000} s it refuses writes ~${Math.round(fencedAfterMs / 1000)} s after the cut: window ≈ ${windowMs} ms (replication docs).` : ''),
  };
}

/** What a drill measured, for `agrees`. */
export interface Measured {
  /** Whether a failover happened (from the drill's observation), if known. */
  readonly failover?: boolean | undefined;
  readonly lost: Pick<LostWrites, 'count' | 'lastAckMs'>;
}

/**
 * Tolerances: the loss window (the last lost write's ack, ms after the cut) must be within
 * max(WINDOW_SLACK_MS, WINDOW_RELATIVE × predicted) of the prediction. Why that wide: failure
 * detection starts from the last pong, and pings go out every node-timeout/2, so a master notices
 * it is cut between ~node-timeout/2 and ~1.5 × node-timeout; replica ACKs and the master's recount
 * each tick once a second. No loss predicted means exactly 0 lost; a failover must match unless the
 * prediction is borderline.
 */
export const WINDOW_SLACK_MS = 1000;
export const WINDOW_RELATIVE = 0.5;

export interface Agreement {
  readonly agrees: boolean;
  /** One line per check, e.g. "lost 0, predicted 0: ok". */
  readonly reasons: readonly string[];
}

export function agrees(p: Prediction, m: Measured): Agreement {
  const reasons: string[] = [];
  let ok = true;
  const note = (pass: boolean, line: string): void => {
    ok &&= pass;
    reasons.push(`${line}: ${pass ? 'agrees' : 'disagrees'}`);
  };
  if (m.failover !== undefined) {
    const pass = p.borderline || m.failover === p.failover;
    note(pass, `failover ${m.failover ? 'happened' : 'did not happen'}, predicted ${p.failover ? 'yes' : 'no'}${p.borderline ? ' (borderline: either is fine)' : ''}`);
  }
  // A failover that did not happen (borderline) loses nothing, whatever the window prediction.
  const lossExpected = p.lossExpected && m.failover !== false;
  if (!lossExpected) {
    note(m.lost.count === 0, `lost ${m.lost.count}, predicted 0`);
    return { agrees: ok, reasons };
  }
  if (m.lost.count === 0 || m.lost.lastAckMs === undefined) {
    // Nothing lost although loss was possible: the writer may simply not have hit the window, so it
    // is not a disagreement about Redis; say so rather than fail.
    reasons.push(`lost 0, loss predicted over ≈ ${p.windowMs} ms: no write was acknowledged in the window (is the writer on the isolated side?)`);
    return { agrees: ok, reasons };
  }
  // How long after the cut the isolated master went on acknowledging writes that were then lost.
  const measuredMs = Math.max(0, m.lost.lastAckMs);
  const predicted = p.windowMs ?? 0;
  const slack = Math.max(WINDOW_SLACK_MS, WINDOW_RELATIVE * predicted);
  if (p.windowIsBound) note(measuredMs <= predicted + slack, `lost ${m.lost.count} acknowledged over ${measuredMs} ms after the cut, predicted at most ≈ ${predicted} ms (+ ${Math.round(slack)} ms)`);
  else note(Math.abs(measuredMs - predicted) <= slack, `lost ${m.lost.count} acknowledged over ${measuredMs} ms after the cut, predicted ≈ ${predicted} ms (± ${Math.round(slack)} ms)`);
  return { agrees: ok, reasons };
}
