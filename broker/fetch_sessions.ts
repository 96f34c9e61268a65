/**
 * Fetch sessions (KIP-227, incremental fetch requests): a consumer of many
 * partitions sends its partition list once, in a full fetch (session id 0,
 * epoch 0), and the broker answers a fresh session id; later fetches name the
 * session and the next epoch and carry only the partitions whose fetch
 * offset or byte limit changed, plus the ones to drop
 * (`forgotten_topics_data`). The broker remembers each partition's fetch
 * offset and what it last answered, and an incremental response holds only
 * the partitions with records, a changed high watermark, log start offset or
 * last stable offset, or an error.
 *
 * As in Kafka, sessions are a per-broker cache, not state: a client whose
 * session this broker does not hold (another broker, a restart, an eviction)
 * is told FETCH_SESSION_ID_NOT_FOUND and starts over with a full fetch. So
 * nothing here touches the stores.
 *
 * The cache is bounded like Kafka's FetchSessionCache
 * (max.incremental.fetch.session.cache.slots, 1000 by default; 0 turns
 * sessions off) and also by partitions, per session and in all: a full
 * fetch that finds no room gets session id 0 and goes on sessionless, which
 * every client handles. When the slots are full, a new session may take the
 * place of one unused for longer than the eviction time (Kafka's
 * min.incremental.fetch.session.eviction.ms, two minutes), or else of the
 * smallest session older than that, if the new one has more partitions
 * (KIP-227's eviction rule; every session here is a consumer's, so Kafka's
 * privilege of follower sessions never applies).
 */

/** Session id 0: no session. */
export const INVALID_SESSION_ID = 0;
/** Epoch 0: a full fetch that asks for a new session. */
export const INITIAL_EPOCH = 0;
/** Epoch -1: a full fetch that wants no session (and closes the one it names). */
export const FINAL_EPOCH = -1;

/** Error codes of a session-level failure (the top-level error of FetchResponse). */
export const FETCH_SESSION_ID_NOT_FOUND = 70;
export const INVALID_FETCH_SESSION_EPOCH = 71;
/** An incremental fetch whose version disagrees with its session's use of topic ids (v13+, KIP-516). */
export const FETCH_SESSION_TOPIC_ID_ERROR = 106;

/** The epoch a session expects after `epoch`: it wraps from the int32 maximum to 1, never to 0. */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch >= 0x7fffffff ? 1 : epoch + 1;
}

/** How the cache is bounded. */
export interface SessionLimits {
  /** max.incremental.fetch.session.cache.slots: sessions held at once (0: no sessions). */
  slots: number;
  /** Partitions one session may hold; a bigger full fetch goes on sessionless. */
  maxPartitionsPerSession: number;
  /** Partitions all sessions together may hold. */
  maxPartitions: number;
  /** min.incremental.fetch.session.eviction.ms: how long a session is safe from eviction. */
  evictionMs: number;
}

/** Kafka's defaults, and partition bounds that keep the cache to tens of MiB. */
export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  slots: 1000,
  maxPartitionsPerSession: 10_000,
  maxPartitions: 200_000,
  evictionMs: 120_000,
};

/** One partition of a session: how to fetch it, and what it was last answered. */
export interface SessionPartition {
  /** The topic as the session names it: its id from Fetch v13 (KIP-516), its name before. */
  topicKey: string;
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  /** Last answered; -1 until answered, and after an error, so that the next answer is sent. */
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
}

/** What a partition was answered in one fetch. */
export interface PartitionAnswer {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  recordBytes: number;
}

/** The key of a partition within a session. */
export function partitionKeyOf(topicKey: string, partition: number): string {
  return `${topicKey}\u0000${partition}`;
}

/** One fetch session. */
export class FetchSession {
  /** In fetch order: partitions answered are moved to the end, so the others go first next time. */
  readonly partitions = new Map<string, SessionPartition>();
  /** The epoch the next incremental fetch must carry. */
  epoch = nextEpoch(INITIAL_EPOCH);
  lastUsedMs: number;

  constructor(
    readonly id: number,
    readonly usesTopicIds: boolean,
    readonly createdMs: number,
  ) {
    this.lastUsedMs = createdMs;
  }
}

/** How a Fetch is to be served, decided before anything is read. */
export type FetchContext =
  /** A session-level error: answered with it and no partitions. */
  | { kind: "error"; errorCode: number }
  /** The request's partitions, all answered, session id 0. */
  | { kind: "sessionless" }
  /** The request's partitions, all answered; a session is created from them if there is room. */
  | { kind: "full" }
  /** The session's partitions; only the changed ones answered. */
  | { kind: "incremental"; session: FetchSession; expectedEpoch: number };

/** The session fields of a FetchRequest and the partitions it names. */
export interface SessionRequest {
  sessionId: number;
  sessionEpoch: number;
  usesTopicIds: boolean;
  /** Partitions to add to the session or update (fetch offset, byte limit). */
  partitions: SessionPartition[];
  /** Partitions to drop from the session, by topic key. */
  forgotten: { topicKey: string; partitions: number[] }[];
}

/** Counts of fetches by how they were served, for /metrics. */
export interface SessionCounts {
  full: number;
  incremental: number;
  sessionless: number;
  error: number;
}

/** The sessions of one broker. */
export class FetchSessionCache {
  /** By id, least recently used first (a session used is moved to the end). */
  private readonly sessions = new Map<number, FetchSession>();
  private cachedPartitions = 0;
  /** Sessions evicted to make room for new ones. */
  evictions = 0;
  readonly counts: SessionCounts = { full: 0, incremental: 0, sessionless: 0, error: 0 };

  constructor(
    private readonly limits: () => SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Sessions held. */
  get size(): number {
    return this.sessions.size;
  }

  /** Partitions held by all sessions. */
  get partitionCount(): number {
    return this.cachedPartitions;
  }

  get(id: number): FetchSession | undefined {
    return this.sessions.get(id);
  }

  /** Drops a session; false when there was none. */
  remove(id: number): boolean {
    const s = this.sessions.get(id);
    if (!s) return false;
    this.sessions.delete(id);
    this.cachedPartitions -= s.partitions.size;
    return true;
  }

  /**
   * Decides how a Fetch is served (Kafka's FetchManager.newContext). An
   * incremental fetch's additions and removals are applied, and its session's
   * epoch moves on, here, before any read: a long poll that answers nothing
   * has still used its epoch.
   */
  open(req: SessionRequest): FetchContext {
    const ctx = this.decide(req);
    this.counts[ctx.kind]++;
    return ctx;
  }

  private decide(req: SessionRequest): FetchContext {
    if (req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH) {
      // A full fetch closes the session it names (a client starting over).
      if (req.sessionId !== INVALID_SESSION_ID) this.remove(req.sessionId);
      return req.sessionEpoch === FINAL_EPOCH ? { kind: "sessionless" } : { kind: "full" };
    }
    const session = this.sessions.get(req.sessionId);
    if (!session) return { kind: "error", errorCode: FETCH_SESSION_ID_NOT_FOUND };
    if (session.epoch !== req.sessionEpoch) {
      return { kind: "error", errorCode: INVALID_FETCH_SESSION_EPOCH };
    }
    if (session.usesTopicIds !== req.usesTopicIds) {
      return { kind: "error", errorCode: FETCH_SESSION_TOPIC_ID_ERROR };
    }
    const before = session.partitions.size;
    for (const p of req.partitions) {
      const key = partitionKeyOf(p.topicKey, p.partition);
      const cached = session.partitions.get(key);
      if (cached) {
        cached.fetchOffset = p.fetchOffset;
        cached.partitionMaxBytes = p.partitionMaxBytes;
      } else {
        session.partitions.set(key, { ...p });
      }
    }
    for (const f of req.forgotten) {
      for (const partition of f.partitions) {
        session.partitions.delete(partitionKeyOf(f.topicKey, partition));
      }
    }
    const after = session.partitions.size;
    this.cachedPartitions += after - before;
    const limits = this.limits();
    if (
      after > limits.maxPartitionsPerSession ||
      (after > before && this.cachedPartitions > limits.maxPartitions)
    ) {
      // Grown past what a session may hold: the client starts over with a
      // full fetch, which then goes on without a session.
      this.remove(session.id);
      return { kind: "error", errorCode: FETCH_SESSION_ID_NOT_FOUND };
    }
    if (after === 0) {
      // Every partition forgotten: the session ends and this fetch is sessionless.
      this.remove(session.id);
      return { kind: "sessionless" };
    }
    this.touch(session);
    session.epoch = nextEpoch(session.epoch);
    return { kind: "incremental", session, expectedEpoch: session.epoch };
  }

  /**
   * After a full fetch is read: a new session holding its partitions and
   * their answers, when the cache has room; its id, or 0.
   */
  create(partitions: SessionPartition[], usesTopicIds: boolean): number {
    const limits = this.limits();
    const size = partitions.length;
    if (limits.slots <= 0 || size === 0 || size > limits.maxPartitionsPerSession) {
      return INVALID_SESSION_ID;
    }
    while (
      this.sessions.size >= limits.slots || this.cachedPartitions + size > limits.maxPartitions
    ) {
      if (!this.evictFor(size, limits)) return INVALID_SESSION_ID;
    }
    const session = new FetchSession(this.newId(), usesTopicIds, this.now());
    for (const p of partitions) session.partitions.set(partitionKeyOf(p.topicKey, p.partition), p);
    this.sessions.set(session.id, session);
    this.cachedPartitions += session.partitions.size;
    return session.id;
  }

  /**
   * After an incremental fetch is read: which of the session's partitions
   * (in `partitions`' order, each with its answer) go into the response, and
   * their answers remembered. Null when the session's epoch moved on during
   * the read (a duplicate request): the answer is then
   * INVALID_FETCH_SESSION_EPOCH, as Kafka's.
   */
  respond(
    ctx: { session: FetchSession; expectedEpoch: number },
    partitions: SessionPartition[],
    answers: PartitionAnswer[],
  ): boolean[] | null {
    const { session } = ctx;
    if (session.epoch !== ctx.expectedEpoch) return null;
    const include: boolean[] = new Array(partitions.length);
    const answered: SessionPartition[] = [];
    for (let i = 0; i < partitions.length; i++) {
      const p = partitions[i];
      const a = answers[i];
      let changed = a.recordBytes > 0 || a.errorCode !== 0;
      if (p.highWatermark !== a.highWatermark) changed = true;
      if (p.logStartOffset !== a.logStartOffset) changed = true;
      if (p.lastStableOffset !== a.lastStableOffset) changed = true;
      include[i] = changed;
      if (!changed) continue;
      // Errors are always sent, and leave the high watermark unknown so that
      // the partition's next good answer is sent too.
      p.highWatermark = a.errorCode !== 0 ? -1 : a.highWatermark;
      p.logStartOffset = a.logStartOffset;
      p.lastStableOffset = a.lastStableOffset;
      answered.push(p);
    }
    // Partitions answered go to the back of the session's fetch order.
    for (const p of answered) {
      const key = partitionKeyOf(p.topicKey, p.partition);
      if (session.partitions.get(key) !== p) continue; // forgotten meanwhile
      session.partitions.delete(key);
      session.partitions.set(key, p);
    }
    return include;
  }

  /** Moves a session to the most recently used end. */
  private touch(session: FetchSession): void {
    session.lastUsedMs = this.now();
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
  }

  /**
   * Makes room for a session of `size` partitions: evicts the least recently
   * used session when it has been idle past the eviction time, or else the
   * smallest session older than that time when the new one is bigger.
   */
  private evictFor(size: number, limits: SessionLimits): boolean {
    const now = this.now();
    const oldest = this.sessions.values().next().value;
    if (oldest === undefined) return false;
    if (now - oldest.lastUsedMs > limits.evictionMs) {
      this.remove(oldest.id);
      this.evictions++;
      return true;
    }
    let smallest: FetchSession | null = null;
    for (const s of this.sessions.values()) {
      if (now - s.createdMs <= limits.evictionMs) continue;
      if (
        smallest === null || s.partitions.size < smallest.partitions.size ||
        (s.partitions.size === smallest.partitions.size && s.id < smallest.id)
      ) smallest = s;
    }
    if (smallest === null || smallest.partitions.size >= size) return false;
    this.remove(smallest.id);
    this.evictions++;
    return true;
  }

  /** A random positive id not in use (never 0). */
  private newId(): number {
    const buf = new Uint32Array(1);
    for (;;) {
      crypto.getRandomValues(buf);
      const id = buf[0] & 0x7fffffff;
      if (id !== INVALID_SESSION_ID && !this.sessions.has(id)) return id;
    }
  }
}

/** Where a broker's cache lives and what bounds it: its config and metrics. */
export interface SessionHost {
  config: { maxIncrementalFetchSessionCacheSlots: number };
  metrics: {
    gauges: Map<string, () => number | Record<string, number>>;
    gaugeHelp: Map<string, string>;
  };
}

const caches = new WeakMap<SessionHost, FetchSessionCache>();

/**
 * The broker's fetch-session cache, made on its first Fetch; its slots are
 * read from the broker's config at each new session, so a change applies to
 * the sessions created after it.
 */
export function sessionsOf(broker: SessionHost): FetchSessionCache {
  let cache = caches.get(broker);
  if (cache) return cache;
  const config = broker.config;
  cache = new FetchSessionCache(() => ({
    ...DEFAULT_SESSION_LIMITS,
    slots: config.maxIncrementalFetchSessionCacheSlots,
  }));
  caches.set(broker, cache);
  const c = cache;
  const { gauges, gaugeHelp } = broker.metrics;
  gauges.set("skb_fetch_sessions", () => c.size);
  gaugeHelp.set("skb_fetch_sessions", "Incremental fetch sessions held (KIP-227).");
  gauges.set("skb_fetch_session_partitions", () => c.partitionCount);
  gaugeHelp.set("skb_fetch_session_partitions", "Partitions held by all fetch sessions.");
  gauges.set("skb_fetch_session_evictions", () => c.evictions);
  gaugeHelp.set("skb_fetch_session_evictions", "Fetch sessions evicted to make room, since start.");
  gauges.set("skb_fetch_requests_by_session", () => ({
    'kind="full"': c.counts.full,
    'kind="incremental"': c.counts.incremental,
    'kind="sessionless"': c.counts.sessionless,
    'kind="error"': c.counts.error,
  }));
  gaugeHelp.set(
    "skb_fetch_requests_by_session",
    "Fetches since start, by how their session was used: full, incremental, sessionless, or a session error.",
  );
  return cache;
}
