/**
 * The KIP-848 consumer group protocol (ConsumerGroupHeartbeat) as a pure
 * state machine over one JSON record, like broker/group_state.ts for the
 * classic protocol. The broker assigns partitions (server-side "uniform" and
 * "range" assignors) and each member reconciles towards its target
 * assignment through its heartbeats:
 *
 * - Membership, subscription or topic metadata changes bump the group epoch;
 *   a new target assignment is then computed for that epoch.
 * - A member first revokes partitions it must give up (it stays at its epoch,
 *   state "unrevoked_partitions"), then moves to the target epoch with the
 *   partitions that are free; partitions still owned by another member are
 *   added once released ("unreleased_partitions").
 *
 * This follows Kafka's GroupMetadataManager and CurrentAssignmentBuilder.
 * Simplifications: a static member leaving with epoch -2 leaves like a
 * dynamic one (its partitions are reassigned at once), and regular
 * expressions are JavaScript's, not RE2/J's.
 */

import { ErrorCode } from "../protocol/errors.ts";

/** Partitions by topic id (sorted partition numbers). */
export type TopicPartitions = Record<string, number[]>;

/** Reconciliation state of a member (Kafka's MemberState). */
export type MemberState = "stable" | "unrevoked_partitions" | "unreleased_partitions";

/** A member of a consumer group. */
export interface ConsumerMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  /** What the member may consume now. */
  assigned: TopicPartitions;
  /** What it must give up before moving on. */
  pendingRevocation: TopicPartitions;
  /** Its share of the target assignment (of `assignmentEpoch`). */
  target: TopicPartitions;
  /** Unrevoked partitions must be revoked by this time, or the member is fenced (0: none). */
  revokeDeadlineMs: number;
  lastSeenMs: number;
}

/** A topic as the group saw it when it last computed an assignment. */
export interface TopicMeta {
  id: string;
  partitions: number;
}

/** The whole state of a KIP-848 consumer group. */
export interface ConsumerGroup {
  type: "consumer";
  groupEpoch: number;
  /** The epoch the target assignment was computed for. */
  assignmentEpoch: number;
  stateSinceMs: number;
  members: ConsumerMember[];
  /** The subscribed topics, by name, at the last epoch bump. */
  topics: Record<string, TopicMeta>;
}

/** Settings of KIP-848 groups (Kafka's broker configs of the same meaning). */
export interface ConsumerGroupConfig {
  /** group.consumer.session.timeout.ms */
  sessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
  /** A group's own settings (KIP-848 group configs), overriding the two above for it. */
  forGroup?: (groupId: string) => Partial<ConsumerGroupConfig> | undefined;
}

/** Kafka's defaults. */
export const DEFAULT_CONSUMER_GROUP_CONFIG: ConsumerGroupConfig = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
};

/** The server-side assignors (group.consumer.assignors), the first is the default. */
export const SERVER_ASSIGNORS = ["uniform", "range"];

/** A consumer group with no members. */
export function emptyConsumerGroup(now: number): ConsumerGroup {
  return {
    type: "consumer",
    groupEpoch: 0,
    assignmentEpoch: 0,
    stateSinceMs: now,
    members: [],
    topics: {},
  };
}

/** The group's state as ConsumerGroupDescribe and ListGroups name it. */
export function consumerGroupState(g: ConsumerGroup): string {
  if (g.members.length === 0) return "Empty";
  if (g.groupEpoch !== g.assignmentEpoch) return "Assigning";
  if (g.members.some((m) => m.memberEpoch !== g.assignmentEpoch || m.state !== "stable")) {
    return "Reconciling";
  }
  return "Stable";
}

// ---- assignment helpers ----

function count(a: TopicPartitions): number {
  let n = 0;
  for (const ps of Object.values(a)) n += ps.length;
  return n;
}

function has(a: TopicPartitions, topicId: string, p: number): boolean {
  return a[topicId]?.includes(p) ?? false;
}

function normalize(a: TopicPartitions): TopicPartitions {
  const out: TopicPartitions = {};
  for (const id of Object.keys(a).sort()) {
    if (a[id].length > 0) out[id] = [...new Set(a[id])].sort((x, y) => x - y);
  }
  return out;
}

function same(a: TopicPartitions, b: TopicPartitions): boolean {
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

/** Partitions as the heartbeat carries them. */
export function fromWire(list: { topicId: string; partitions: number[] }[]): TopicPartitions {
  const out: TopicPartitions = {};
  for (const t of list) out[t.topicId] = [...(out[t.topicId] ?? []), ...t.partitions];
  return normalize(out);
}

/** Partitions as the heartbeat answers them. */
export function toWire(a: TopicPartitions): { topicId: string; partitions: number[] }[] {
  return Object.entries(normalize(a)).map(([topicId, partitions]) => ({ topicId, partitions }));
}

/** Topic names a member subscribes to, by name or (KIP-848 v1) by regular expression. */
export function memberTopics(m: ConsumerMember, allTopics: Iterable<string>): string[] {
  const names = new Set(m.subscribedTopicNames);
  if (m.subscribedTopicRegex) {
    try {
      const re = new RegExp(`^(?:${m.subscribedTopicRegex})$`);
      for (const t of allTopics) if (re.test(t)) names.add(t);
    } catch { /* validated when subscribed */ }
  }
  return [...names].sort();
}

function subscribedIds(g: ConsumerGroup, m: ConsumerMember): Set<string> {
  return new Set(
    memberTopics(m, Object.keys(g.topics)).map((n) => g.topics[n]?.id).filter((x) =>
      x !== undefined
    ),
  );
}

// ---- the server-side assignors ----

/**
 * "range": per topic, the members subscribed to it (by member id) each take
 * a contiguous range, the first ones one more when it does not divide evenly.
 */
function rangeAssign(g: ConsumerGroup): Map<string, TopicPartitions> {
  const out = new Map(g.members.map((m) => [m.memberId, {} as TopicPartitions]));
  for (const [name, t] of Object.entries(g.topics).sort()) {
    const subs = g.members.filter((m) => subscribedIds(g, m).has(t.id))
      .map((m) => m.memberId).sort();
    if (subs.length === 0) continue;
    const per = Math.floor(t.partitions / subs.length);
    const extra = t.partitions % subs.length;
    let p = 0;
    subs.forEach((id, i) => {
      const n = per + (i < extra ? 1 : 0);
      if (n > 0) out.get(id)![t.id] = Array.from({ length: n }, (_, k) => p + k);
      p += n;
    });
    void name;
  }
  return out;
}

/**
 * "uniform": balanced and sticky, like Kafka's UniformAssignor (KIP-848).
 * Balanced means that partition counts differ by at most one between members
 * that could take each other's partitions: with P partitions and N members
 * subscribed to the same topics, P mod N members have ceil(P/N) and the rest
 * floor(P/N). Sticky means that as few partitions as possible move, since
 * every move costs a revocation round (KIP-848: a partition is given to its
 * new owner only once the old one has revoked it).
 *
 * 1. Each member keeps the partitions of its previous target that it still
 *    subscribes to.
 * 2. Partitions nobody kept go one by one to the least loaded subscribed member.
 * 3. While a member holds a partition that a member with at least two fewer
 *    partitions subscribes to, it gives it up to the least loaded such member.
 *
 * Capping step 1 at ceil(P/N) instead does not balance: a member joining 18
 * members that hold 20 partitions (two of them two each) may keep
 * ceil(20/19) = 2, so everyone keeps everything and the newcomer gets none;
 * such a group never reaches a balanced assignment.
 */
function uniformAssign(g: ConsumerGroup): Map<string, TopicPartitions> {
  const members = [...g.members].sort((a, b) => a.memberId.localeCompare(b.memberId));
  const subs = new Map(members.map((m) => [m.memberId, subscribedIds(g, m)]));
  const partitions = new Map<string, number>();
  for (const t of Object.values(g.topics)) partitions.set(t.id, t.partitions);
  /** What each member holds, in the order it was given. */
  const held = new Map(members.map((m) => [m.memberId, [] as [string, number][]]));
  const taken = new Set<string>();
  const load = (memberId: string) => held.get(memberId)!.length;
  for (const m of members) {
    for (const [topicId, ps] of Object.entries(m.target)) {
      if (!subs.get(m.memberId)!.has(topicId)) continue;
      for (const p of ps) {
        if (p >= (partitions.get(topicId) ?? 0) || taken.has(`${topicId}/${p}`)) continue;
        held.get(m.memberId)!.push([topicId, p]);
        taken.add(`${topicId}/${p}`);
      }
    }
  }
  for (const [topicId, n] of [...partitions].sort(([a], [b]) => a.localeCompare(b))) {
    for (let p = 0; p < n; p++) {
      if (taken.has(`${topicId}/${p}`)) continue;
      let best: string | null = null;
      for (const m of members) {
        if (!subs.get(m.memberId)!.has(topicId)) continue;
        if (best === null || load(m.memberId) < load(best)) best = m.memberId;
      }
      if (best !== null) held.get(best)!.push([topicId, p]);
    }
  }
  // Every move lowers the sum of the squared loads, so this ends.
  for (let moved = true; moved;) {
    moved = false;
    const byLoad = members.map((m) => m.memberId).sort((a, b) => load(a) - load(b));
    for (let hi = byLoad.length - 1; hi > 0 && !moved; hi--) {
      const from = held.get(byLoad[hi])!;
      for (let lo = 0; lo < hi && load(byLoad[lo]) < from.length - 1; lo++) {
        const to = subs.get(byLoad[lo])!;
        const i = from.findLastIndex(([topicId]) => to.has(topicId));
        if (i < 0) continue;
        held.get(byLoad[lo])!.push(...from.splice(i, 1));
        moved = true;
        break;
      }
    }
  }
  const out = new Map<string, TopicPartitions>();
  for (const [memberId, list] of held) {
    const a: TopicPartitions = {};
    for (const [topicId, p] of list) (a[topicId] ??= []).push(p);
    out.set(memberId, a);
  }
  return out;
}

/** The assignor the group uses: the one most members ask for, else the default. */
export function groupAssignor(g: ConsumerGroup): string {
  const votes = new Map<string, number>();
  for (const m of g.members) {
    if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
  }
  let best = SERVER_ASSIGNORS[0];
  let n = 0;
  for (const [name, v] of votes) if (v > n) [best, n] = [name, v];
  return best;
}

/** Computes the target assignment of the current group epoch. */
function computeTarget(g: ConsumerGroup): void {
  const assign = groupAssignor(g) === "range" ? rangeAssign(g) : uniformAssign(g);
  for (const m of g.members) m.target = normalize(assign.get(m.memberId) ?? {});
  g.assignmentEpoch = g.groupEpoch;
}

// ---- reconciliation (Kafka's CurrentAssignmentBuilder) ----

/** Whether a partition is held (assigned or still being revoked) by a member other than `self`. */
function heldByOther(g: ConsumerGroup, self: string, topicId: string, p: number): boolean {
  return g.members.some((o) =>
    o.memberId !== self && (has(o.assigned, topicId, p) || has(o.pendingRevocation, topicId, p))
  );
}

function ownsAny(owned: TopicPartitions | null, which: TopicPartitions): boolean {
  if (owned === null) return true;
  for (const [topicId, ps] of Object.entries(which)) {
    if (ps.some((p) => has(owned, topicId, p))) return true;
  }
  return false;
}

/** Moves one member towards its target assignment. */
function reconcile(
  g: ConsumerGroup,
  m: ConsumerMember,
  owned: TopicPartitions | null,
  now: number,
): void {
  if (m.state === "unrevoked_partitions" && ownsAny(owned, m.pendingRevocation)) return;
  if (m.state === "stable" && m.memberEpoch === g.assignmentEpoch) return;
  const subscribed = subscribedIds(g, m);
  const assigned: TopicPartitions = {};
  const revoke: TopicPartitions = {};
  const toAssign: TopicPartitions = {};
  let unreleased = false;
  const topics = new Set([...Object.keys(m.target), ...Object.keys(m.assigned)]);
  for (const topicId of topics) {
    const target = subscribed.has(topicId) ? m.target[topicId] ?? [] : [];
    const current = m.assigned[topicId] ?? [];
    const keep = current.filter((p) => target.includes(p));
    const gone = current.filter((p) => !keep.includes(p));
    const fresh = target.filter((p) => !keep.includes(p)).filter((p) => {
      const busy = heldByOther(g, m.memberId, topicId, p) && !has(m.pendingRevocation, topicId, p);
      if (busy) unreleased = true;
      return !busy;
    });
    if (keep.length > 0) assigned[topicId] = keep;
    if (gone.length > 0) revoke[topicId] = gone;
    if (fresh.length > 0) toAssign[topicId] = fresh;
  }
  if (count(revoke) > 0 && ownsAny(owned, revoke)) {
    // Revoke first: the member keeps its epoch until it reports the partitions gone.
    m.state = "unrevoked_partitions";
    m.assigned = normalize(assigned);
    m.pendingRevocation = normalize(revoke);
    if (m.revokeDeadlineMs === 0) m.revokeDeadlineMs = now + m.rebalanceTimeoutMs;
    return;
  }
  for (const [topicId, ps] of Object.entries(toAssign)) {
    assigned[topicId] = [...(assigned[topicId] ?? []), ...ps];
  }
  if (m.memberEpoch !== g.assignmentEpoch) {
    m.previousMemberEpoch = m.memberEpoch;
    m.memberEpoch = g.assignmentEpoch;
  }
  m.state = unreleased ? "unreleased_partitions" : "stable";
  m.assigned = normalize(assigned);
  m.pendingRevocation = {};
  m.revokeDeadlineMs = 0;
}

// ---- time ----

/**
 * Applies what time has decided: members silent for longer than the session
 * timeout, and members that did not revoke partitions within their
 * rebalance timeout, are removed (fenced); the group epoch is bumped and a
 * new target assignment computed.
 */
export function tickConsumer(
  g0: ConsumerGroup,
  now: number,
  heartbeats: Map<string, number>,
  cfg: ConsumerGroupConfig,
): ConsumerGroup {
  const g = structuredClone(g0);
  const gone = g.members.filter((m) =>
    now - Math.max(m.lastSeenMs, heartbeats.get(m.memberId) ?? 0) > cfg.sessionTimeoutMs ||
    (m.revokeDeadlineMs > 0 && now > m.revokeDeadlineMs)
  );
  if (gone.length > 0) {
    g.members = g.members.filter((m) => !gone.includes(m));
    g.groupEpoch++;
  }
  if (g.groupEpoch !== g.assignmentEpoch) {
    computeTarget(g);
    g.stateSinceMs = now;
  }
  return g;
}

// ---- ConsumerGroupHeartbeat ----

/** What a ConsumerGroupHeartbeat carries, plus what the handler knows of the client. */
export interface ConsumerHeartbeatInput {
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  /** Partitions the member owns; null if unchanged since its last heartbeat. */
  owned: TopicPartitions | null;
  clientId: string;
  clientHost: string;
  apiVersion: number;
  /** The id to give a member joining without one (v0). */
  newMemberId: string;
}

/** The heartbeat's answer. */
export interface ConsumerHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** Null when the member's assignment did not change and the request was not a full one. */
  assignment: TopicPartitions | null;
}

function hbError(errorCode: number, errorMessage: string, memberId: string | null = null) {
  return {
    errorCode,
    errorMessage,
    memberId,
    memberEpoch: -1,
    heartbeatIntervalMs: 0,
    assignment: null,
  };
}

/**
 * ConsumerGroupHeartbeat (Kafka: consumerGroupHeartbeat). `topics` holds the
 * current metadata of every topic the group's members might subscribe to.
 * Returns the new record and the answer; an error leaves the record as it was.
 */
export function consumerHeartbeat(
  g0: ConsumerGroup | null,
  input: ConsumerHeartbeatInput,
  topics: Map<string, TopicMeta>,
  now: number,
  cfg: ConsumerGroupConfig,
): { group: ConsumerGroup | null; result: ConsumerHeartbeatResult } {
  const fail = (code: number, message: string) => ({
    group: g0,
    result: hbError(code, message, input.memberId || null),
  });
  if (input.memberEpoch === 0) {
    if (input.apiVersion >= 1 && input.memberId === "") {
      return fail(
        ErrorCode.INVALID_REQUEST,
        "MemberId can't be empty (KIP-1082: the client makes it)",
      );
    }
    if (input.rebalanceTimeoutMs === -1) {
      return fail(ErrorCode.INVALID_REQUEST, "RebalanceTimeoutMs must be provided when joining");
    }
    if (input.subscribedTopicNames === null && input.subscribedTopicRegex === null) {
      return fail(
        ErrorCode.INVALID_REQUEST,
        "SubscribedTopicNames or SubscribedTopicRegex must be provided when joining",
      );
    }
    if (input.owned === null) {
      return fail(
        ErrorCode.INVALID_REQUEST,
        "TopicPartitions must be provided (empty) when joining",
      );
    }
  }
  if (input.subscribedTopicRegex) {
    try {
      new RegExp(input.subscribedTopicRegex);
    } catch {
      return fail(
        ErrorCode.INVALID_REGULAR_EXPRESSION,
        `SubscribedTopicRegex ${
          JSON.stringify(input.subscribedTopicRegex)
        } is not a valid regular expression`,
      );
    }
  }
  if (input.serverAssignor !== null && !SERVER_ASSIGNORS.includes(input.serverAssignor)) {
    return fail(
      ErrorCode.UNSUPPORTED_ASSIGNOR,
      `Assignor ${JSON.stringify(input.serverAssignor)} is not one of ${
        SERVER_ASSIGNORS.join(", ")
      }`,
    );
  }
  const g = g0 === null ? emptyConsumerGroup(now) : structuredClone(g0);
  const memberId = input.memberId === "" ? input.newMemberId : input.memberId;
  let m = g.members.find((x) => x.memberId === memberId);

  if (input.memberEpoch === -1 || input.memberEpoch === -2) {
    // Leaving (-2: a static member leaving to come back; here it leaves like any other).
    if (!m) {
      return fail(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${JSON.stringify(memberId)} is not in the group`,
      );
    }
    g.members = g.members.filter((x) => x !== m);
    g.groupEpoch++;
    computeTarget(g);
    return {
      group: g,
      result: {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        memberId,
        memberEpoch: input.memberEpoch,
        heartbeatIntervalMs: 0,
        assignment: null,
      },
    };
  }

  const before = m ? structuredClone(m) : null;
  /** Whether this heartbeat changes the group: membership, subscriptions or topic metadata. */
  let bump = false;
  if (input.memberEpoch === 0) {
    if (input.instanceId !== null) {
      const other = g.members.find((x) =>
        x.instanceId === input.instanceId && x.memberId !== memberId
      );
      if (other) {
        return fail(
          ErrorCode.UNRELEASED_INSTANCE_ID,
          `Static member ${JSON.stringify(input.instanceId)} is still member ${
            JSON.stringify(other.memberId)
          }; it must leave first`,
        );
      }
    }
    if (!m) {
      m = {
        memberId,
        instanceId: input.instanceId,
        rackId: input.rackId,
        clientId: input.clientId,
        clientHost: input.clientHost,
        rebalanceTimeoutMs: input.rebalanceTimeoutMs,
        subscribedTopicNames: [],
        subscribedTopicRegex: null,
        serverAssignor: null,
        memberEpoch: 0,
        previousMemberEpoch: -1,
        state: "stable",
        assigned: {},
        pendingRevocation: {},
        target: {},
        revokeDeadlineMs: 0,
        lastSeenMs: now,
      };
      g.members.push(m);
    } else {
      // A member rejoining with epoch 0 lost its state: it owns nothing any more.
      m.memberEpoch = 0;
      m.previousMemberEpoch = -1;
      m.assigned = {};
      m.pendingRevocation = {};
      m.state = "stable";
      m.revokeDeadlineMs = 0;
      m.lastSeenMs = now;
    }
    bump = true;
  } else {
    if (!m) {
      return fail(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${JSON.stringify(memberId)} is not in the group`,
      );
    }
    if (input.memberEpoch > m.memberEpoch) {
      return fail(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `Member epoch ${input.memberEpoch} is ahead of the group's ${m.memberEpoch}; rejoin`,
      );
    }
    if (input.memberEpoch < m.memberEpoch) {
      // The answer that bumped its epoch may have been lost: accept the previous epoch if the
      // member owns nothing it was not given.
      const subset = input.owned !== null &&
        Object.entries(input.owned).every(([t, ps]) => ps.every((p) => has(m!.assigned, t, p)));
      if (input.memberEpoch !== m.previousMemberEpoch || !subset) {
        return fail(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `Member epoch ${input.memberEpoch} is behind the group's ${m.memberEpoch}; rejoin`,
        );
      }
    }
  }

  // Fields sent only when they change.
  let resubscribed = false;
  if (input.subscribedTopicNames !== null) {
    const names = [...new Set(input.subscribedTopicNames)].sort();
    if (JSON.stringify(names) !== JSON.stringify(m.subscribedTopicNames)) {
      m.subscribedTopicNames = names;
      resubscribed = true;
    }
  }
  if (input.subscribedTopicRegex !== null) {
    const re = input.subscribedTopicRegex === "" ? null : input.subscribedTopicRegex;
    if (re !== m.subscribedTopicRegex) {
      m.subscribedTopicRegex = re;
      resubscribed = true;
    }
  }
  if (input.serverAssignor !== null && input.serverAssignor !== m.serverAssignor) {
    m.serverAssignor = input.serverAssignor;
    resubscribed = true;
  }
  if (input.rebalanceTimeoutMs !== -1) m.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
  if (input.rackId !== null) m.rackId = input.rackId;
  if (resubscribed) bump = true;

  // Topic metadata of everything subscribed: a change (a topic created, partitions added)
  // makes a new epoch.
  const wanted = new Set<string>();
  for (const x of g.members) for (const t of memberTopics(x, topics.keys())) wanted.add(t);
  const meta: Record<string, TopicMeta> = {};
  for (const name of [...wanted].sort()) {
    const t = topics.get(name);
    if (t) meta[name] = { id: t.id, partitions: t.partitions };
  }
  if (JSON.stringify(meta) !== JSON.stringify(g.topics)) {
    g.topics = meta;
    bump = true;
  }
  if (bump) g.groupEpoch++;
  if (g.groupEpoch !== g.assignmentEpoch) {
    computeTarget(g);
    g.stateSinceMs = now;
  }
  reconcile(g, m, input.owned, now);

  const full = input.memberEpoch === 0 ||
    (input.rebalanceTimeoutMs !== -1 && input.subscribedTopicNames !== null &&
      input.owned !== null);
  const changed = before === null || !same(before.assigned, m.assigned);
  return {
    group: g,
    result: {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: cfg.heartbeatIntervalMs,
      assignment: full || changed ? m.assigned : null,
    },
  };
}

/**
 * Whether an OffsetCommit may be stored (Kafka: ConsumerGroup.validateOffsetCommit):
 * a member commits with its current epoch (v9+); commits from outside any
 * group need an empty group.
 */
export function validateConsumerCommit(
  g: ConsumerGroup,
  input: { generationId: number; memberId: string; apiVersion: number },
): number {
  if (input.generationId < 0 && input.memberId === "" && g.members.length === 0) {
    return ErrorCode.NONE;
  }
  const m = g.members.find((x) => x.memberId === input.memberId);
  if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (input.apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
  if (input.generationId !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

/** OffsetFetch v9 from a member (KIP-848): its epoch must be current. */
export function validateConsumerFetch(
  g: ConsumerGroup,
  input: { memberId: string | null; memberEpoch: number },
): number {
  if (input.memberId === null || input.memberEpoch < 0) return ErrorCode.NONE;
  const m = g.members.find((x) => x.memberId === input.memberId);
  if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (input.memberEpoch !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}
