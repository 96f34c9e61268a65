/**
 * The share-group fetch service (KIP-932): share sessions, acquiring records
 * and acknowledging them, over the share-partition records of the meta store
 * (broker/share_partition_state.ts).
 *
 * Share sessions (a member's set of share-partitions and its share session
 * epoch) are kept in this broker's memory only, as Kafka keeps them on the
 * partition leader: they are a cache of what to fetch, not state. A member
 * whose requests move to another broker is answered SHARE_SESSION_NOT_FOUND
 * there and opens a new session (epoch 0), exactly what a Kafka client does
 * when a leader moves. The records' states, locks and delivery counts are in
 * the meta store, so nothing is lost or delivered twice when that happens.
 */

import { getLogger } from "@logtape/logtape";
import { ErrorCode } from "../protocol/errors.ts";
import type { MetaStore } from "../stores/types.ts";
import {
  type AckBatch,
  acknowledge,
  acquire,
  type Acquired,
  clampToLog,
  DEFAULT_SHARE_SETTINGS,
  earliestLockDeadline,
  newSharePartition,
  parseSharePartition,
  releaseMember,
  type SharePartitionState,
  type ShareSettings,
} from "./share_partition_state.ts";

const log = getLogger(["skb", "share"]);

/** How many compare-and-set conflicts in a row an update tolerates. */
const MAX_CAS_ATTEMPTS = 100;

/** Share sessions one broker keeps at most. */
const MAX_SESSIONS = 10_000;

/** A share-partition: a topic id and partition. */
export interface ShareKey {
  topicId: string;
  partition: number;
}

/** A member's share session on this broker. */
interface ShareSession {
  epoch: number;
  partitions: Map<string, ShareKey>;
  /** The client connection that opened it (any object standing for that connection). */
  connection: object | null;
}

function keyOf(k: ShareKey): string {
  return `${k.topicId}:${k.partition}`;
}

/** The next share session epoch (Kafka wraps from Integer.MAX_VALUE to 1). */
function nextEpoch(e: number): number {
  return e === 0x7fffffff ? 1 : e + 1;
}

/** What opening, continuing or closing a share session decided. */
export type SessionOutcome =
  | { ok: true; partitions: ShareKey[]; closing: boolean }
  | { ok: false; errorCode: number; message: string };

/** A share-partition's bounds in the log. */
export interface LogBounds {
  logStartOffset: number;
  highWatermark: number;
  /** Where acquiring stops: the high watermark, or the last stable offset under read_committed. */
  acquireLimit?: number;
}

/** The share configs of a group, from its group configs (KIP-932) over Kafka's defaults. */
export function shareSettingsOf(configs: Record<string, string>): ShareSettings {
  const num = (name: string, fallback: number) => {
    const v = configs[name];
    return v !== undefined && /^\d+$/.test(v.trim()) && Number(v) > 0 ? Number(v) : fallback;
  };
  const reset = configs["share.auto.offset.reset"]?.trim().toLowerCase();
  return {
    lockDurationMs: num("share.record.lock.duration.ms", DEFAULT_SHARE_SETTINGS.lockDurationMs),
    deliveryLimit: num("share.delivery.count.limit", DEFAULT_SHARE_SETTINGS.deliveryLimit),
    autoOffsetReset: reset === "earliest" ? "earliest" : "latest",
    maxInFlight: DEFAULT_SHARE_SETTINGS.maxInFlight,
    readCommitted: configs["share.isolation.level"]?.trim().toLowerCase() === "read_committed",
  };
}

/** Share sessions and share-partition operations of one broker. */
export class ShareService {
  private readonly sessions = new Map<string, ShareSession>();
  /** The sessions each client connection opened (ids; a session may have moved on since). */
  private readonly byConnection = new WeakMap<object, Set<string>>();
  private readonly settingsCache = new Map<string, { at: number; s: ShareSettings }>();
  /** The first lock deadline of each share-partition as this broker last wrote or read it. */
  private readonly lockDeadlines = new Map<string, number>();

  constructor(
    private readonly meta: MetaStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A request's share session (Kafka's ShareSessionCache rules): epoch 0
   * opens a new session with the request's partitions (replacing any), -1
   * closes it after its acknowledgements, and any other epoch must be the
   * session's next one; then the request's partitions are added and the
   * forgotten ones removed.
   */
  session(
    groupId: string,
    memberId: string,
    epoch: number,
    add: ShareKey[],
    forget: ShareKey[],
    connection: object | null = null,
  ): SessionOutcome {
    const id = JSON.stringify([groupId, memberId]);
    if (epoch === 0) {
      const s: ShareSession = { epoch: 1, partitions: new Map(), connection };
      for (const k of add) s.partitions.set(keyOf(k), k);
      this.sessions.delete(id);
      this.sessions.set(id, s);
      if (connection) {
        let ids = this.byConnection.get(connection);
        if (!ids) this.byConnection.set(connection, ids = new Set());
        ids.add(id);
      }
      // Bounded like Kafka's group.share.max.share.sessions: the oldest session goes (its member
      // is answered SHARE_SESSION_NOT_FOUND and opens a new one).
      if (this.sessions.size > MAX_SESSIONS) {
        this.sessions.delete(this.sessions.keys().next().value!);
      }
      return { ok: true, partitions: [...s.partitions.values()], closing: false };
    }
    const s = this.sessions.get(id);
    if (!s) {
      return {
        ok: false,
        errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND,
        message: `No share session for member ${memberId} of group ${groupId} on this broker`,
      };
    }
    if (epoch === -1) {
      this.sessions.delete(id);
      return { ok: true, partitions: [...s.partitions.values()], closing: true };
    }
    if (epoch !== s.epoch) {
      return {
        ok: false,
        errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH,
        message: `Share session epoch ${epoch} is not the expected ${s.epoch}`,
      };
    }
    s.epoch = nextEpoch(s.epoch);
    for (const k of add) s.partitions.set(keyOf(k), k);
    for (const k of forget) s.partitions.delete(keyOf(k));
    return { ok: true, partitions: [...s.partitions.values()], closing: false };
  }

  /**
   * A client connection closed: its share sessions end and what their members
   * hold goes back for redelivery at once, as Kafka's share session cache
   * does on a disconnect (a client that crashed does not keep its records
   * until their locks expire). Returns the share-partitions released.
   */
  async connectionClosed(connection: object): Promise<ShareKey[]> {
    const ended: { groupId: string; memberId: string; keys: ShareKey[] }[] = [];
    const ids = this.byConnection.get(connection) ?? new Set<string>();
    this.byConnection.delete(connection);
    for (const id of ids) {
      const s = this.sessions.get(id);
      if (!s || s.connection !== connection) continue;
      this.sessions.delete(id);
      const [groupId, memberId] = JSON.parse(id) as [string, string];
      ended.push({ groupId, memberId, keys: [...s.partitions.values()] });
    }
    const released: ShareKey[] = [];
    for (const e of ended) {
      try {
        await this.release(e.groupId, e.memberId, e.keys);
        released.push(...e.keys);
      } catch (err) {
        log.warn("Share group {groupId}: records of a closed connection stay locked: {err}", {
          groupId: e.groupId,
          err: String(err),
        });
      }
    }
    return released;
  }

  /** The group's share settings (its group configs re-read at most once a second). */
  async settings(groupId: string): Promise<ShareSettings> {
    const c = this.settingsCache.get(groupId);
    const now = this.now();
    if (c && now - c.at < 1000) return c.s;
    const [configs] = await this.meta.entityConfigs("groups", [groupId]);
    const s = shareSettingsOf(configs?.configs ?? {});
    this.settingsCache.set(groupId, { at: now, s });
    if (this.settingsCache.size > 10_000) this.settingsCache.clear();
    return s;
  }

  /**
   * The compare-and-set loop over one share-partition record: reads it,
   * applies `fn` (null when it does not exist yet), and writes the result
   * when it changed; another broker's write in between makes it retry.
   */
  private async update<T>(
    groupId: string,
    k: ShareKey,
    fn: (s: SharePartitionState | null) => { state: SharePartitionState | null; result: T },
  ): Promise<T> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const stored = await this.meta.getShareState(groupId, k.topicId, k.partition);
      const parsed = stored ? parseSharePartition(stored.state) : null;
      if (stored && !parsed) {
        log.warn("Share group {groupId}: unreadable record for {topicId}:{partition}", {
          groupId,
          topicId: k.topicId,
          partition: k.partition,
        });
        throw new Error(`Share-partition record of ${groupId} is unreadable`);
      }
      const out = fn(parsed);
      if (out.state === null) return out.result;
      const text = JSON.stringify(out.state);
      if (stored && text === stored.state) return out.result;
      const v = await this.meta.putShareState(
        groupId,
        k.topicId,
        k.partition,
        stored?.version ?? 0,
        text,
      );
      if (v !== null) return out.result;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(20, 2 * attempt)));
    }
    throw new Error(
      `Share-partition ${k.topicId}:${k.partition} of ${groupId} kept changing; retry`,
    );
  }

  /** Acquires up to `maxRecords` records of one share-partition for a member. */
  async acquire(
    groupId: string,
    memberId: string,
    k: ShareKey,
    maxRecords: number,
    bounds: LogBounds,
  ): Promise<Acquired[]> {
    const cfg = await this.settings(groupId);
    return await this.update(groupId, k, (s) => {
      const now = this.now();
      const start = s ??
        newSharePartition(
          cfg.autoOffsetReset === "earliest" ? bounds.logStartOffset : bounds.highWatermark,
        );
      const clamped = clampToLog(start, bounds.logStartOffset);
      const limit = Math.min(bounds.acquireLimit ?? bounds.highWatermark, bounds.highWatermark);
      const r = acquire(clamped, memberId, maxRecords, limit, now, cfg);
      const lockKey = JSON.stringify([groupId, keyOf(k)]);
      const deadline = earliestLockDeadline(r.state);
      if (deadline === null) this.lockDeadlines.delete(lockKey);
      else this.lockDeadlines.set(lockKey, deadline);
      if (this.lockDeadlines.size > 10_000) this.lockDeadlines.clear();
      return { state: r.state, result: r.acquired };
    });
  }

  /**
   * The earliest acquisition lock deadline among these share-partitions, as
   * their last acquire here saw it (null when none is locked): a ShareFetch
   * waiting for records wakes then, so records whose lock expired are handed
   * over as the lock ends rather than at its next poll round.
   */
  nextLockExpiry(groupId: string, keys: ShareKey[]): number | null {
    let min: number | null = null;
    for (const k of keys) {
      const d = this.lockDeadlines.get(JSON.stringify([groupId, keyOf(k)]));
      if (d !== undefined && (min === null || d < min)) min = d;
    }
    return min;
  }

  /** Applies a member's acknowledgements to one share-partition; null, or why they were refused. */
  async acknowledge(
    groupId: string,
    memberId: string,
    k: ShareKey,
    batches: AckBatch[],
  ): Promise<string | null> {
    if (batches.length === 0) return null;
    const cfg = await this.settings(groupId);
    return await this.update(groupId, k, (s) => {
      if (s === null) {
        return { state: null, result: "The share-partition has no records in flight" };
      }
      const r = acknowledge(s, memberId, batches, this.now(), cfg);
      return { state: r.error === null ? r.state : null, result: r.error };
    });
  }

  /** Makes every record the member holds in these share-partitions available again. */
  async release(groupId: string, memberId: string, keys: ShareKey[]): Promise<void> {
    const cfg = await this.settings(groupId);
    for (const k of keys) {
      await this.update(groupId, k, (s) => ({
        state: s === null ? null : releaseMember(s, memberId, this.now(), cfg),
        result: null,
      }));
    }
  }

  /**
   * Replaces a share-partition's record whatever it holds (AlterShareGroupOffsets,
   * DeleteShareGroupOffsets on an empty group): a new start offset, or none (null).
   */
  async replace(groupId: string, k: ShareKey, start: number | null): Promise<void> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const stored = await this.meta.getShareState(groupId, k.topicId, k.partition);
      if (stored === null && start === null) return;
      const text = start === null ? null : JSON.stringify(newSharePartition(start));
      const v = await this.meta.putShareState(
        groupId,
        k.topicId,
        k.partition,
        stored?.version ?? 0,
        text,
      );
      if (v !== null) return;
    }
    throw new Error(
      `Share-partition ${k.topicId}:${k.partition} of ${groupId} kept changing; retry`,
    );
  }

  /**
   * Releases what departed members held in every share-partition of the group.
   * Their share sessions stay: a client that leaves may close its session
   * (epoch -1) after its leave heartbeat, as librdkafka does, and Kafka keeps
   * the session until that final request or its eviction. Returns the
   * share-partitions of the group.
   */
  async releaseDeparted(groupId: string, memberIds: string[]): Promise<ShareKey[]> {
    if (memberIds.length === 0) return [];
    const keys = (await this.meta.listShareStates(groupId)).map((x) => ({
      topicId: x.topicId,
      partition: x.partition,
    }));
    for (const id of memberIds) await this.release(groupId, id, keys);
    return keys;
  }
}

const services = new WeakMap<MetaStore, ShareService>();

/** The broker's share service (one per meta store handle, made on first use). */
export function shareServiceFor(meta: MetaStore): ShareService {
  let s = services.get(meta);
  if (!s) {
    s = new ShareService(meta);
    services.set(meta, s);
  }
  return s;
}
