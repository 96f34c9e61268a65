/**
 * A share-partition (KIP-932: one share group on one topic partition) as a
 * pure state machine over one compact JSON record, which the meta store keeps
 * and swaps by compare-and-set (MetaStore.putShareState). So any broker can
 * acquire records for any member, and two brokers can never both acquire the
 * same record: the second write of the same version loses and retries on the
 * new state.
 *
 * The record holds the share-partition start offset (SPSO: every offset
 * below it is done), the end (the next offset never yet acquired) and, in
 * between, the in-flight records as ranges of equal state (Kafka's
 * InFlightBatch/InFlightState, kept as runs rather than one entry per
 * record): Available, Acquired (with the owning member and the lock's
 * deadline), Acknowledged or Archived, each with its delivery count.
 *
 * - Acquiring takes Available records first (redeliveries, their delivery
 *   count raised) and then new records from the end, up to the high
 *   watermark, as long as the in-flight window stays within
 *   `maxInFlight` records (Kafka's group.share.partition.max.record.locks).
 * - An acquisition lock that expired (checked on every transition) makes its
 *   records Available again, or Archived once they were delivered
 *   `deliveryLimit` times (share.delivery.count.limit).
 * - Accept makes records Acknowledged, Reject Archived, Release Available (or
 *   Archived at the limit); Renew (KIP-1222) restarts the lock; a Gap (offsets
 *   with no record, as after compaction) is Archived.
 * - The start moves past every leading Acknowledged/Archived run, which is
 *   then dropped, so the record stays as small as the in-flight window.
 */

/** State of a run of records (Kafka's RecordState). */
export type RecordState = "available" | "acquired" | "acknowledged" | "archived";

/** A run of consecutive offsets in the same state. */
export interface InFlightRange {
  first: number;
  last: number;
  state: RecordState;
  deliveryCount: number;
  /** The member holding the acquisition lock (acquired only). */
  owner?: string;
  /** When the lock expires, in ms since the epoch (acquired only). */
  deadlineMs?: number;
}

/** The stored state of a share-partition. */
export interface SharePartitionState {
  /** Share-partition start offset: every offset below is acknowledged or archived. */
  start: number;
  /** The next offset never acquired yet; `ranges` cover [start, end) exactly. */
  end: number;
  ranges: InFlightRange[];
}

/** Acknowledge types (ShareFetch/ShareAcknowledge AcknowledgeTypes). */
export const AckType = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const;

/** The share configs of a group (KIP-932 group configs), with Kafka's defaults. */
export interface ShareSettings {
  /** share.record.lock.duration.ms */
  lockDurationMs: number;
  /** share.delivery.count.limit */
  deliveryLimit: number;
  /** share.auto.offset.reset: where a share-partition starts when first fetched. */
  autoOffsetReset: "latest" | "earliest";
  /** group.share.partition.max.record.locks */
  maxInFlight: number;
  /** share.isolation.level=read_committed: only committed records, up to the last stable offset. */
  readCommitted: boolean;
}

export const DEFAULT_SHARE_SETTINGS: ShareSettings = {
  lockDurationMs: 30_000,
  deliveryLimit: 5,
  autoOffsetReset: "latest",
  maxInFlight: 2000,
  readCommitted: false,
};

/** A new share-partition starting at `start`. */
export function newSharePartition(start: number): SharePartitionState {
  return { start, end: start, ranges: [] };
}

/** Records acquired for a member, as ShareFetch answers them. */
export interface Acquired {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

function same(a: InFlightRange, b: InFlightRange): boolean {
  return a.state === b.state && a.deliveryCount === b.deliveryCount && a.owner === b.owner &&
    a.deadlineMs === b.deadlineMs;
}

/** Merges neighbouring equal runs and moves the start past finished ones. */
function compact(s: SharePartitionState): void {
  const out: InFlightRange[] = [];
  for (const r of s.ranges) {
    const prev = out[out.length - 1];
    if (prev && prev.last + 1 === r.first && same(prev, r)) prev.last = r.last;
    else out.push(r);
  }
  while (out.length > 0 && (out[0].state === "acknowledged" || out[0].state === "archived")) {
    s.start = out[0].last + 1;
    out.shift();
  }
  if (out.length === 0) s.start = s.end;
  s.ranges = out;
}

/** The state a record takes when its lock ends without an acknowledgement. */
function released(r: InFlightRange, limit: number): InFlightRange {
  const { owner: _o, deadlineMs: _d, ...rest } = r;
  return { ...rest, state: r.deliveryCount >= limit ? "archived" : "available" };
}

/** Makes records whose acquisition lock expired at `now` available again (or archives them). */
export function expireLocks(
  s0: SharePartitionState,
  now: number,
  limit: number,
): SharePartitionState {
  const s = structuredClone(s0);
  s.ranges = s.ranges.map((r) =>
    r.state === "acquired" && (r.deadlineMs ?? 0) <= now ? released(r, limit) : r
  );
  compact(s);
  return s;
}

/**
 * Moves the start up to the log start offset (records deleted by retention
 * or DeleteRecords can no longer be delivered). A share-partition whose end
 * is past the high watermark a broker read is left alone: that read is only
 * behind another broker's or request's (the log never shrinks, and a
 * recreated topic has a new topic id, so a new share-partition), and
 * resetting it there would hand acquired records out a second time.
 */
export function clampToLog(s0: SharePartitionState, logStart: number): SharePartitionState {
  if (s0.start >= logStart) return s0;
  const s = structuredClone(s0);
  s.ranges = s.ranges.filter((r) => r.last >= logStart).map((r) =>
    r.first < logStart ? { ...r, first: logStart } : r
  );
  s.start = logStart;
  if (s.end < logStart) s.end = logStart;
  compact(s);
  return s;
}

/**
 * Acquires up to `maxRecords` records for `member` until now + lockMs:
 * available ones first, then new ones below `highWatermark`.
 */
export function acquire(
  s0: SharePartitionState,
  member: string,
  maxRecords: number,
  highWatermark: number,
  now: number,
  cfg: ShareSettings,
): { state: SharePartitionState; acquired: Acquired[] } {
  const s = expireLocks(s0, now, cfg.deliveryLimit);
  const deadlineMs = now + cfg.lockDurationMs;
  const acquired: Acquired[] = [];
  let left = Math.max(1, maxRecords);
  const out: InFlightRange[] = [];
  for (const r of s.ranges) {
    if (left <= 0 || r.state !== "available") {
      out.push(r);
      continue;
    }
    const n = Math.min(left, r.last - r.first + 1);
    const take: InFlightRange = {
      first: r.first,
      last: r.first + n - 1,
      state: "acquired",
      deliveryCount: r.deliveryCount + 1,
      owner: member,
      deadlineMs,
    };
    out.push(take);
    acquired.push({
      firstOffset: take.first,
      lastOffset: take.last,
      deliveryCount: take.deliveryCount,
    });
    if (take.last < r.last) out.push({ ...r, first: take.last + 1 });
    left -= n;
  }
  s.ranges = out;
  const room = cfg.maxInFlight - (s.end - s.start);
  const n = Math.min(left, highWatermark - s.end, room);
  if (n > 0) {
    const take: InFlightRange = {
      first: s.end,
      last: s.end + n - 1,
      state: "acquired",
      deliveryCount: 1,
      owner: member,
      deadlineMs,
    };
    s.ranges.push(take);
    s.end += n;
    acquired.push({ firstOffset: take.first, lastOffset: take.last, deliveryCount: 1 });
  }
  compact(s);
  return { state: s, acquired: mergeAcquired(acquired) };
}

function mergeAcquired(a: Acquired[]): Acquired[] {
  const out: Acquired[] = [];
  for (const x of a.sort((p, q) => p.firstOffset - q.firstOffset)) {
    const prev = out[out.length - 1];
    if (prev && prev.lastOffset + 1 === x.firstOffset && prev.deliveryCount === x.deliveryCount) {
      prev.lastOffset = x.lastOffset;
    } else out.push({ ...x });
  }
  return out;
}

/** Applies `fn` to the offsets [first, last], splitting runs at the edges. */
function mapRange(
  s: SharePartitionState,
  first: number,
  last: number,
  fn: (r: InFlightRange) => InFlightRange,
): void {
  const out: InFlightRange[] = [];
  for (const r of s.ranges) {
    if (r.last < first || r.first > last) {
      out.push(r);
      continue;
    }
    if (r.first < first) out.push({ ...r, last: first - 1 });
    out.push(fn({ ...r, first: Math.max(r.first, first), last: Math.min(r.last, last) }));
    if (r.last > last) out.push({ ...r, first: last + 1 });
  }
  s.ranges = out;
}

/** One acknowledgement batch (offsets inclusive; one type for all, or one per offset). */
export interface AckBatch {
  firstOffset: number;
  lastOffset: number;
  acknowledgeTypes: number[];
}

/** Runs of one acknowledge type within a batch. */
function ackRuns(b: AckBatch): { first: number; last: number; type: number }[] {
  const types = b.acknowledgeTypes;
  if (types.length === 1) return [{ first: b.firstOffset, last: b.lastOffset, type: types[0] }];
  const runs: { first: number; last: number; type: number }[] = [];
  for (let i = 0; i < types.length; i++) {
    const o = b.firstOffset + i;
    const prev = runs[runs.length - 1];
    if (prev && prev.type === types[i]) prev.last = o;
    else runs.push({ first: o, last: o, type: types[i] });
  }
  return runs;
}

/** Whether every offset of [first, last] is acquired by `member` (lock not expired). */
function heldBy(s: SharePartitionState, first: number, last: number, member: string): boolean {
  let next = first;
  for (const r of s.ranges) {
    if (r.last < next) continue;
    if (r.first > next) return false;
    if (r.state !== "acquired" || r.owner !== member) return false;
    next = r.last + 1;
    if (next > last) return true;
  }
  return false;
}

/**
 * Acknowledges records `member` holds. All or nothing: an offset the member
 * does not hold (never acquired, acknowledged already, or its lock expired
 * and the record went to another member) fails the whole call with a reason
 * (Kafka answers INVALID_RECORD_STATE), and nothing changes.
 */
export function acknowledge(
  s0: SharePartitionState,
  member: string,
  batches: AckBatch[],
  now: number,
  cfg: ShareSettings,
): { state: SharePartitionState; error: string | null } {
  const s = expireLocks(s0, now, cfg.deliveryLimit);
  for (const b of batches) {
    const n = b.lastOffset - b.firstOffset + 1;
    if (
      n <= 0 || b.acknowledgeTypes.length === 0 ||
      (b.acknowledgeTypes.length !== 1 && b.acknowledgeTypes.length !== n) ||
      b.acknowledgeTypes.some((t) => t < 0 || t > 4)
    ) {
      return {
        state: s0,
        error:
          `Acknowledgement batch ${b.firstOffset}-${b.lastOffset} with ${b.acknowledgeTypes.length} types is malformed`,
      };
    }
    if (!heldBy(s, b.firstOffset, b.lastOffset, member)) {
      return {
        state: s0,
        error:
          `Records ${b.firstOffset}-${b.lastOffset} are not acquired by this member (lock expired, or acknowledged already)`,
      };
    }
  }
  for (const b of batches) {
    for (const run of ackRuns(b)) {
      mapRange(s, run.first, run.last, (r) => {
        switch (run.type) {
          case AckType.ACCEPT:
            return {
              first: r.first,
              last: r.last,
              state: "acknowledged",
              deliveryCount: r.deliveryCount,
            };
          case AckType.RELEASE:
            return released(r, cfg.deliveryLimit);
          case AckType.RENEW:
            return { ...r, deadlineMs: now + cfg.lockDurationMs };
          default: // REJECT and GAP
            return {
              first: r.first,
              last: r.last,
              state: "archived",
              deliveryCount: r.deliveryCount,
            };
        }
      });
    }
  }
  compact(s);
  return { state: s, error: null };
}

/** Releases every record `member` holds (its share session closed, or it left the group). */
export function releaseMember(
  s0: SharePartitionState,
  member: string,
  now: number,
  cfg: ShareSettings,
): SharePartitionState {
  const s = expireLocks(s0, now, cfg.deliveryLimit);
  s.ranges = s.ranges.map((r) =>
    r.state === "acquired" && r.owner === member ? released(r, cfg.deliveryLimit) : r
  );
  compact(s);
  return s;
}

/** When the first acquisition lock of a share-partition ends (ms since the epoch), or null. */
export function earliestLockDeadline(s: SharePartitionState): number | null {
  let min: number | null = null;
  for (const r of s.ranges) {
    if (
      r.state === "acquired" && r.deadlineMs !== undefined && (min === null || r.deadlineMs < min)
    ) {
      min = r.deadlineMs;
    }
  }
  return min;
}

/** Parses a stored record; null for one this broker cannot read. */
export function parseSharePartition(text: string): SharePartitionState | null {
  try {
    const s = JSON.parse(text);
    if (s && typeof s.start === "number" && typeof s.end === "number" && Array.isArray(s.ranges)) {
      return s as SharePartitionState;
    }
  } catch { /* below */ }
  return null;
}
