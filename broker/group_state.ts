/**
 * The classic consumer group protocol (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup) as a pure state machine over one JSON record. No I/O and no
 * clock: every function takes the record and `now` and returns a new record
 * (inputs are never changed), so the coordinator can apply it inside a
 * compare-and-set loop on the shared meta store and any broker can drive any
 * group (see broker/group_coordinator.ts).
 *
 * The states and transitions follow Kafka's group coordinator
 * (`ClassicGroup` and `GroupMetadataManager` in Kafka 4):
 *
 * ```
 * Empty --join--> PreparingRebalance --all joined / rebalance timeout--> CompletingRebalance
 *   ^                 ^      |                                                |
 *   |                 |      +--no member left-------------------------> Empty
 *   |                 +--join, leave, expiry-- Stable <--leader's SyncGroup---+
 * ```
 *
 * Where Kafka keeps a parked request (a JoinGroup waiting at the barrier, a
 * SyncGroup waiting for the leader) as a future in memory, this record keeps
 * a flag (`awaitingJoin`, `pendingSync`) and the waiting broker watches the
 * record for the outcome; whichever broker sees a deadline pass (the
 * rebalance timeout, a session timeout) makes the transition.
 */

import { ErrorCode } from "../protocol/errors.ts";
import { Reader } from "../protocol/reader.ts";

/** Group states as Kafka names them (DescribeGroups, ListGroups). */
export type ClassicState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable";

/** One assignor a member offers, with its subscription metadata (base64). */
export interface ClassicProtocol {
  name: string;
  metadata: string;
}

/** A member of a classic group. */
export interface ClassicMember {
  memberId: string;
  /** Static membership (KIP-345): survives restarts of the client under a new member id. */
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** The member's assignors in its order of preference. */
  protocols: ClassicProtocol[];
  /** What the leader assigned it in the current generation (base64; "" = nothing). */
  assignment: string;
  /** Has (re)joined during the current PreparingRebalance and waits for the join phase to end. */
  awaitingJoin: boolean;
  /** Has not sent its SyncGroup for the current generation yet. */
  pendingSync: boolean;
  /**
   * When this record last saw the member alive (added, join phase ended, synced).
   * Heartbeats are kept apart (MetaStore.touchMember); liveness is the later of the two.
   */
  lastSeenMs: number;
}

/** A member id handed out with MEMBER_ID_REQUIRED that has not rejoined yet (KIP-394). */
export interface PendingMember {
  memberId: string;
  expiresAtMs: number;
}

/** The whole state of one classic group: the record the meta store keeps. */
export interface ClassicGroup {
  type: "classic";
  state: ClassicState;
  stateSinceMs: number;
  /** "consumer" for Kafka consumers; null for a group that only stores offsets. */
  protocolType: string | null;
  /** The assignor chosen for the current generation. */
  protocolName: string | null;
  generationId: number;
  leaderId: string | null;
  /** In join order: the first one is the leader when a new one must be picked. */
  members: ClassicMember[];
  pending: PendingMember[];
  /** PreparingRebalance: the join phase ends by this time even if members are missing. */
  joinDeadlineMs: number;
  /**
   * The first rebalance of an empty group waits group.initial.rebalance.delay.ms
   * for more members; 0 when this rebalance is not such a one.
   */
  initialDelayUntilMs: number;
  /** How much of the rebalance timeout the initial delay may still take. */
  initialRemainingMs: number;
  /** A new member joined during the initial delay, which extends it. */
  newMemberAdded: boolean;
  /** Members still pendingSync at this time are removed and the group rebalances (0: none). */
  syncDeadlineMs: number;
}

/** Group coordinator settings (Kafka's broker configs of the same meaning). */
export interface GroupConfig {
  /** group.initial.rebalance.delay.ms */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms */
  minSessionTimeoutMs: number;
  /** group.max.session.timeout.ms */
  maxSessionTimeoutMs: number;
}

/** Kafka's defaults. */
export const DEFAULT_GROUP_CONFIG: GroupConfig = {
  initialRebalanceDelayMs: 3000,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
};

/** A group with no members, as created by a first JoinGroup or an offset commit. */
export function emptyGroup(now: number): ClassicGroup {
  return {
    type: "classic",
    state: "Empty",
    stateSinceMs: now,
    protocolType: null,
    protocolName: null,
    generationId: 0,
    leaderId: null,
    members: [],
    pending: [],
    joinDeadlineMs: 0,
    initialDelayUntilMs: 0,
    initialRemainingMs: 0,
    newMemberAdded: false,
    syncDeadlineMs: 0,
  };
}

function clone(g: ClassicGroup): ClassicGroup {
  return structuredClone(g);
}

function member(g: ClassicGroup, memberId: string): ClassicMember | undefined {
  return g.members.find((m) => m.memberId === memberId);
}

/** The member id a static member's instance id maps to, if any. */
export function staticMemberId(g: ClassicGroup, groupInstanceId: string): string | null {
  return g.members.find((m) => m.groupInstanceId === groupInstanceId)?.memberId ?? null;
}

/** The group's rebalance timeout: the largest of its members' (Kafka: ClassicGroup.rebalanceTimeoutMs). */
export function rebalanceTimeoutMs(g: ClassicGroup): number {
  let max = 0;
  for (const m of g.members) max = Math.max(max, m.rebalanceTimeoutMs);
  return max;
}

function transitionTo(g: ClassicGroup, state: ClassicState, now: number): void {
  g.state = state;
  g.stateSinceMs = now;
}

function allMembersJoined(g: ClassicGroup): boolean {
  return g.members.every((m) => m.awaitingJoin) && g.pending.length === 0;
}

/** Whether a member offering these assignors may join: one of them must be supported by all. */
function supportsProtocols(g: ClassicGroup, protocolType: string, names: string[]): boolean {
  if (g.state === "Empty" || g.members.length === 0) {
    return protocolType !== "" && names.length > 0;
  }
  return g.protocolType === protocolType &&
    names.some((n) => g.members.every((m) => m.protocols.some((p) => p.name === n)));
}

/** Each member votes for its first assignor that every member supports; most votes wins. */
export function selectProtocol(g: ClassicGroup): string | null {
  const candidates = new Set(
    g.members[0]?.protocols.map((p) => p.name).filter((n) =>
      g.members.every((m) => m.protocols.some((p) => p.name === n))
    ) ?? [],
  );
  const votes = new Map<string, number>();
  for (const m of g.members) {
    const vote = m.protocols.find((p) => candidates.has(p.name))?.name;
    if (vote !== undefined) votes.set(vote, (votes.get(vote) ?? 0) + 1);
  }
  let best: string | null = null;
  let bestVotes = 0;
  for (const [name, n] of votes) {
    if (n > bestVotes) [best, bestVotes] = [name, n];
  }
  return best;
}

function protocolsMatch(a: ClassicProtocol[], b: ClassicProtocol[]): boolean {
  return a.length === b.length &&
    a.every((p, i) => p.name === b[i].name && p.metadata === b[i].metadata);
}

function removeMember(g: ClassicGroup, memberId: string): void {
  g.members = g.members.filter((m) => m.memberId !== memberId);
  g.pending = g.pending.filter((p) => p.memberId !== memberId);
  if (g.leaderId === memberId) g.leaderId = g.members[0]?.memberId ?? null;
}

/**
 * Starts a rebalance (Kafka: prepareRebalance). Members waiting in SyncGroup
 * see the state change and get REBALANCE_IN_PROGRESS. The first rebalance of
 * an empty group waits the initial delay so that members starting together
 * join one generation; later ones end as soon as every member has rejoined.
 */
function prepareRebalance(g: ClassicGroup, now: number, cfg: GroupConfig): void {
  if (g.state === "CompletingRebalance") {
    for (const m of g.members) m.assignment = "";
  }
  for (const m of g.members) m.pendingSync = false;
  g.syncDeadlineMs = 0;
  const initial = g.state === "Empty";
  const timeout = rebalanceTimeoutMs(g);
  if (initial) {
    g.initialDelayUntilMs = now + cfg.initialRebalanceDelayMs;
    g.initialRemainingMs = Math.max(timeout - cfg.initialRebalanceDelayMs, 0);
    g.newMemberAdded = false;
  } else {
    g.initialDelayUntilMs = 0;
  }
  transitionTo(g, "PreparingRebalance", now);
  g.joinDeadlineMs = now + timeout;
  if (!initial && allMembersJoined(g)) completeJoin(g, now);
}

/** Kafka: maybePrepareRebalanceOrCompleteJoin. */
function rebalanceOrCompleteJoin(g: ClassicGroup, now: number, cfg: GroupConfig): void {
  if (g.state === "PreparingRebalance") {
    if (g.initialDelayUntilMs === 0 && allMembersJoined(g)) completeJoin(g, now);
  } else {
    prepareRebalance(g, now, cfg);
  }
}

/**
 * Ends the join phase (Kafka: completeClassicGroupJoin): dynamic members that
 * did not rejoin are removed (static ones keep their place, KIP-345), a
 * leader that did not rejoin is replaced by one that did, the generation is
 * bumped and the assignor chosen. Every member must then send SyncGroup
 * within the rebalance timeout.
 */
function completeJoin(g: ClassicGroup, now: number): void {
  for (const m of [...g.members]) {
    if (!m.awaitingJoin && m.groupInstanceId === null) removeMember(g, m.memberId);
  }
  g.pending = [];
  if (g.members.length > 0) {
    const leader = g.leaderId === null ? undefined : member(g, g.leaderId);
    if (!leader || !leader.awaitingJoin) {
      const joined = g.members.find((m) => m.awaitingJoin);
      if (!joined) {
        // Only static members that did not rejoin are left: wait another rebalance timeout.
        g.joinDeadlineMs = now + rebalanceTimeoutMs(g);
        g.initialDelayUntilMs = 0;
        return;
      }
      g.leaderId = joined.memberId;
    }
  }
  g.generationId++;
  g.initialDelayUntilMs = 0;
  g.joinDeadlineMs = 0;
  g.newMemberAdded = false;
  if (g.members.length === 0) {
    g.protocolName = null;
    g.leaderId = null;
    g.syncDeadlineMs = 0;
    transitionTo(g, "Empty", now);
    return;
  }
  g.protocolName = selectProtocol(g);
  for (const m of g.members) {
    m.awaitingJoin = false;
    m.pendingSync = true;
    m.lastSeenMs = now;
  }
  g.syncDeadlineMs = now + rebalanceTimeoutMs(g);
  transitionTo(g, "CompletingRebalance", now);
}

/** Last sign of life of a member: the record's own, or its latest heartbeat. */
function lastAlive(m: ClassicMember, heartbeats: Map<string, number>): number {
  return Math.max(m.lastSeenMs, heartbeats.get(m.memberId) ?? 0);
}

/**
 * Applies whatever time has decided: pending member ids and members whose
 * session timed out are dropped, members that did not sync in time are
 * removed, and a join phase whose barrier or deadline is reached ends. Any
 * broker may run this on any operation; the outcome depends only on the
 * record, the heartbeats and `now`.
 */
export function tick(
  g0: ClassicGroup,
  now: number,
  heartbeats: Map<string, number>,
  cfg: GroupConfig,
): ClassicGroup {
  const g = clone(g0);
  g.pending = g.pending.filter((p) => p.expiresAtMs > now);

  // Session expiry. A member whose JoinGroup is parked at the barrier is kept (Kafka does
  // the same); the rebalance timeout bounds that wait instead.
  const expired = g.members.filter((m) =>
    !(g.state === "PreparingRebalance" && m.awaitingJoin) &&
    now - lastAlive(m, heartbeats) > m.sessionTimeoutMs
  );
  for (const m of expired) removeMember(g, m.memberId);
  if (expired.length > 0 && (g.state === "Stable" || g.state === "CompletingRebalance")) {
    prepareRebalance(g, now, cfg);
  }

  // Members that never sent SyncGroup for this generation (Kafka: expirePendingSync).
  if (
    (g.state === "CompletingRebalance" || g.state === "Stable") && g.syncDeadlineMs > 0 &&
    now >= g.syncDeadlineMs
  ) {
    const late = g.members.filter((m) => m.pendingSync);
    g.syncDeadlineMs = 0;
    if (late.length > 0) {
      for (const m of late) removeMember(g, m.memberId);
      prepareRebalance(g, now, cfg);
    }
  }

  if (g.state === "PreparingRebalance") {
    if (g.initialDelayUntilMs > 0) {
      if (now >= g.initialDelayUntilMs) {
        if (g.newMemberAdded && g.initialRemainingMs > 0) {
          // New members arrived during the delay: give the others a bit longer.
          const delay = Math.min(cfg.initialRebalanceDelayMs, g.initialRemainingMs);
          g.initialRemainingMs = Math.max(g.initialRemainingMs - delay, 0);
          g.initialDelayUntilMs = now + delay;
          g.newMemberAdded = false;
        } else {
          completeJoin(g, now);
        }
      }
    } else if (allMembersJoined(g) || now >= g.joinDeadlineMs) {
      completeJoin(g, now);
    }
  }
  return g;
}

// ---- JoinGroup ----

/** What JoinGroup carries, plus a fresh member id in case one must be handed out. */
export interface JoinInput {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: ClassicProtocol[];
  apiVersion: number;
  /** The id a new member gets: client id (or instance id) + "-" + a UUID, as Kafka makes them. */
  newMemberId: string;
}

/** A JoinGroup answer, in the record's terms (metadata in base64). */
export interface JoinResponse {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: string }[];
}

/** Either an answer now, or: wait until the join phase that started at `generationId` ends. */
export type JoinOutcome =
  | { kind: "respond"; response: JoinResponse }
  | { kind: "wait"; memberId: string; groupInstanceId: string | null; generationId: number };

/** A JoinGroup answer that only carries an error. */
export function joinError(errorCode: number, memberId: string): JoinOutcome {
  return {
    kind: "respond",
    response: {
      errorCode,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: "",
      skipAssignment: false,
      memberId,
      members: [],
    },
  };
}

/** The current generation as one member sees it; the leader also gets every member's metadata. */
export function currentGeneration(
  g: ClassicGroup,
  memberId: string,
  withMembers: boolean,
  skipAssignment = false,
): JoinResponse {
  return {
    errorCode: ErrorCode.NONE,
    generationId: g.generationId,
    protocolType: g.protocolType,
    protocolName: g.protocolName,
    leader: g.leaderId ?? "",
    skipAssignment,
    memberId,
    members: withMembers
      ? g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        metadata: m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? "",
      }))
      : [],
  };
}

function waitFor(m: ClassicMember, generationId: number): JoinOutcome {
  return {
    kind: "wait",
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    generationId,
  };
}

/** Kafka: validateMember. */
function validateMember(
  g: ClassicGroup,
  memberId: string,
  groupInstanceId: string | null,
): number {
  if (groupInstanceId !== null) {
    const existing = staticMemberId(g, groupInstanceId);
    if (existing === null) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
  }
  return member(g, memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
}

function updateMember(m: ClassicMember, input: JoinInput): void {
  m.protocols = input.protocols;
  m.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
  m.sessionTimeoutMs = input.sessionTimeoutMs;
  m.awaitingJoin = true;
}

function addMember(
  g: ClassicGroup,
  memberId: string,
  input: JoinInput,
  now: number,
  cfg: GroupConfig,
): JoinOutcome {
  const m: ClassicMember = {
    memberId,
    groupInstanceId: input.groupInstanceId,
    clientId: input.clientId,
    clientHost: input.clientHost,
    sessionTimeoutMs: input.sessionTimeoutMs,
    rebalanceTimeoutMs: input.rebalanceTimeoutMs,
    protocols: input.protocols,
    assignment: "",
    awaitingJoin: true,
    pendingSync: false,
    lastSeenMs: now,
  };
  if (g.state === "PreparingRebalance" && g.initialDelayUntilMs > 0) g.newMemberAdded = true;
  if (g.members.length === 0) g.protocolType = input.protocolType;
  g.members.push(m);
  g.pending = g.pending.filter((p) => p.memberId !== memberId);
  if (g.leaderId === null) g.leaderId = memberId;
  const generation = g.generationId;
  rebalanceOrCompleteJoin(g, now, cfg);
  return waitFor(m, generation);
}

/**
 * A static member rejoining under a new member id (KIP-345): it takes over the
 * old member's place and assignment. In a Stable group whose chosen assignor
 * does not change this needs no rebalance; the old id is fenced.
 */
function replaceStaticMember(
  g: ClassicGroup,
  oldMemberId: string,
  input: JoinInput,
  now: number,
  cfg: GroupConfig,
): JoinOutcome {
  const m = member(g, oldMemberId)!;
  const previousLeader = g.leaderId;
  m.memberId = input.newMemberId;
  m.lastSeenMs = now;
  if (g.leaderId === oldMemberId) g.leaderId = input.newMemberId;
  updateMember(m, input);
  const generation = g.generationId;
  if (g.state === "Stable") {
    if (selectProtocol(g) === g.protocolName) {
      m.awaitingJoin = false;
      // KIP-814 (JoinGroup v9): a rejoining static leader gets the members but need not assign.
      if (input.apiVersion >= 9) {
        const isLeader = g.leaderId === m.memberId;
        return {
          kind: "respond",
          response: currentGeneration(g, m.memberId, isLeader, isLeader),
        };
      }
      const r = currentGeneration(g, m.memberId, false);
      r.leader = previousLeader ?? "";
      return { kind: "respond", response: r };
    }
    rebalanceOrCompleteJoin(g, now, cfg);
  } else if (g.state === "CompletingRebalance") {
    // The leader may already have assigned to the old id: assign again.
    prepareRebalance(g, now, cfg);
  } else {
    rebalanceOrCompleteJoin(g, now, cfg);
  }
  return waitFor(m, generation);
}

/**
 * JoinGroup (Kafka: classicGroupJoin). `g0` null: the group does not exist
 * yet. Returns the new record (null when there is still no group) and the
 * answer or what to wait for.
 */
export function join(
  g0: ClassicGroup | null,
  input: JoinInput,
  now: number,
  cfg: GroupConfig,
): { group: ClassicGroup | null; outcome: JoinOutcome } {
  if (
    input.sessionTimeoutMs < cfg.minSessionTimeoutMs ||
    input.sessionTimeoutMs > cfg.maxSessionTimeoutMs
  ) {
    return { group: g0, outcome: joinError(ErrorCode.INVALID_SESSION_TIMEOUT, input.memberId) };
  }
  const unknown = input.memberId === "";
  if (g0 === null && !unknown) {
    return { group: g0, outcome: joinError(ErrorCode.UNKNOWN_MEMBER_ID, input.memberId) };
  }
  const g = g0 === null ? emptyGroup(now) : clone(g0);
  const names = input.protocols.map((p) => p.name);
  if (!supportsProtocols(g, input.protocolType, names)) {
    return {
      group: g0,
      outcome: joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, unknown ? "" : input.memberId),
    };
  }

  if (unknown) {
    if (input.groupInstanceId !== null) {
      const existing = staticMemberId(g, input.groupInstanceId);
      const outcome = existing !== null
        ? replaceStaticMember(g, existing, input, now, cfg)
        : addMember(g, input.newMemberId, input, now, cfg);
      return { group: g, outcome };
    }
    if (input.apiVersion >= 4) {
      // KIP-394: the member must come back with the id we give it, so that a client
      // whose JoinGroup timed out does not leave a stranger behind in the group.
      g.pending.push({ memberId: input.newMemberId, expiresAtMs: now + input.sessionTimeoutMs });
      return { group: g, outcome: joinError(ErrorCode.MEMBER_ID_REQUIRED, input.newMemberId) };
    }
    return { group: g, outcome: addMember(g, input.newMemberId, input, now, cfg) };
  }

  if (g.pending.some((p) => p.memberId === input.memberId)) {
    return { group: g, outcome: addMember(g, input.memberId, input, now, cfg) };
  }
  const invalid = validateMember(g, input.memberId, input.groupInstanceId);
  if (invalid !== ErrorCode.NONE) return { group: g0, outcome: joinError(invalid, input.memberId) };
  const m = member(g, input.memberId)!;
  const generation = g.generationId;
  switch (g.state) {
    case "PreparingRebalance":
      updateMember(m, input);
      rebalanceOrCompleteJoin(g, now, cfg);
      return { group: g, outcome: waitFor(m, generation) };
    case "CompletingRebalance":
      if (protocolsMatch(m.protocols, input.protocols)) {
        // The member missed its JoinGroup answer: give it again.
        return {
          group: g0,
          outcome: {
            kind: "respond",
            response: currentGeneration(g, m.memberId, g.leaderId === m.memberId),
          },
        };
      }
      updateMember(m, input);
      rebalanceOrCompleteJoin(g, now, cfg);
      return { group: g, outcome: waitFor(m, generation) };
    case "Stable":
      if (g.leaderId === m.memberId || !protocolsMatch(m.protocols, input.protocols)) {
        // A rejoining leader forces a rebalance: it may have seen topic metadata change.
        updateMember(m, input);
        rebalanceOrCompleteJoin(g, now, cfg);
        return { group: g, outcome: waitFor(m, generation) };
      }
      return {
        group: g0,
        outcome: { kind: "respond", response: currentGeneration(g, m.memberId, false) },
      };
    default:
      return { group: g0, outcome: joinError(ErrorCode.UNKNOWN_MEMBER_ID, input.memberId) };
  }
}

/**
 * The answer to a parked JoinGroup, once the record shows the join phase
 * that started at `generationId` has ended; null while it has not.
 */
export function joinResult(
  g: ClassicGroup | null,
  wait: { memberId: string; groupInstanceId: string | null; generationId: number },
): JoinResponse | null {
  if (g === null) {
    return (joinError(ErrorCode.UNKNOWN_MEMBER_ID, wait.memberId) as { response: JoinResponse })
      .response;
  }
  const m = member(g, wait.memberId);
  if (!m) {
    const fenced = wait.groupInstanceId !== null &&
      staticMemberId(g, wait.groupInstanceId) !== null;
    const code = fenced ? ErrorCode.FENCED_INSTANCE_ID : ErrorCode.UNKNOWN_MEMBER_ID;
    return (joinError(code, fenced ? wait.memberId : "") as { response: JoinResponse }).response;
  }
  if (g.generationId > wait.generationId) {
    return currentGeneration(g, m.memberId, g.leaderId === m.memberId);
  }
  return null;
}

// ---- SyncGroup ----

/** What SyncGroup carries (assignments in base64). */
export interface SyncInput {
  memberId: string;
  groupInstanceId: string | null;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: string }[];
}

/** A SyncGroup answer (assignment in base64). */
export interface SyncResponse {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: string;
}

/** Either an answer now, or: wait for the leader's assignment of this generation. */
export type SyncOutcome =
  | { kind: "respond"; response: SyncResponse }
  | { kind: "wait"; memberId: string; groupInstanceId: string | null; generationId: number };

function syncError(errorCode: number): SyncOutcome {
  return {
    kind: "respond",
    response: { errorCode, protocolType: null, protocolName: null, assignment: "" },
  };
}

function syncAnswer(g: ClassicGroup, m: ClassicMember): SyncOutcome {
  return {
    kind: "respond",
    response: {
      errorCode: ErrorCode.NONE,
      protocolType: g.protocolType,
      protocolName: g.protocolName,
      assignment: m.assignment,
    },
  };
}

/** Kafka: the request names a protocol type or name different from the group's. */
function inconsistent(requested: string | null, actual: string | null): boolean {
  return requested !== null && actual !== null && requested !== actual;
}

/** SyncGroup (Kafka: classicGroupSync): the leader hands in every member's assignment. */
export function sync(
  g0: ClassicGroup | null,
  input: SyncInput,
  now: number,
): { group: ClassicGroup | null; outcome: SyncOutcome } {
  if (g0 === null) return { group: g0, outcome: syncError(ErrorCode.UNKNOWN_MEMBER_ID) };
  const invalid = validateMember(g0, input.memberId, input.groupInstanceId);
  if (invalid !== ErrorCode.NONE) return { group: g0, outcome: syncError(invalid) };
  if (input.generationId !== g0.generationId) {
    return { group: g0, outcome: syncError(ErrorCode.ILLEGAL_GENERATION) };
  }
  if (
    inconsistent(input.protocolType, g0.protocolType) ||
    inconsistent(input.protocolName, g0.protocolName)
  ) {
    return { group: g0, outcome: syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL) };
  }
  switch (g0.state) {
    case "Empty":
      return { group: g0, outcome: syncError(ErrorCode.UNKNOWN_MEMBER_ID) };
    case "PreparingRebalance":
      return { group: g0, outcome: syncError(ErrorCode.REBALANCE_IN_PROGRESS) };
    case "CompletingRebalance": {
      const g = clone(g0);
      const m = member(g, input.memberId)!;
      m.pendingSync = false;
      m.lastSeenMs = now;
      if (g.leaderId !== m.memberId) {
        return {
          group: g,
          outcome: {
            kind: "wait",
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            generationId: g.generationId,
          },
        };
      }
      // The leader's assignment: members it left out get an empty one.
      const given = new Map(input.assignments.map((a) => [a.memberId, a.assignment]));
      for (const x of g.members) x.assignment = given.get(x.memberId) ?? "";
      transitionTo(g, "Stable", now);
      if (!g.members.some((x) => x.pendingSync)) g.syncDeadlineMs = 0;
      return { group: g, outcome: syncAnswer(g, m) };
    }
    case "Stable": {
      const m = member(g0, input.memberId)!;
      if (!m.pendingSync) return { group: g0, outcome: syncAnswer(g0, m) };
      const g = clone(g0);
      const mm = member(g, input.memberId)!;
      mm.pendingSync = false;
      mm.lastSeenMs = now;
      if (!g.members.some((x) => x.pendingSync)) g.syncDeadlineMs = 0;
      return { group: g, outcome: syncAnswer(g, mm) };
    }
  }
}

/** The answer to a parked SyncGroup, once the record decides it; null while it has not. */
export function syncResult(
  g: ClassicGroup | null,
  wait: { memberId: string; groupInstanceId: string | null; generationId: number },
): SyncResponse | null {
  const done = (o: SyncOutcome) => (o as { response: SyncResponse }).response;
  if (g === null) return done(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  const m = member(g, wait.memberId);
  if (!m) {
    const fenced = wait.groupInstanceId !== null &&
      staticMemberId(g, wait.groupInstanceId) !== null;
    return done(syncError(fenced ? ErrorCode.FENCED_INSTANCE_ID : ErrorCode.UNKNOWN_MEMBER_ID));
  }
  if (g.generationId !== wait.generationId || g.state === "PreparingRebalance") {
    return done(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
  }
  if (g.state === "Stable") return done(syncAnswer(g, m));
  if (g.state === "Empty") return done(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  return null;
}

// ---- Heartbeat, LeaveGroup, OffsetCommit ----

/** Heartbeat (Kafka: classicGroupHeartbeat): the error code to answer; liveness is recorded apart. */
export function heartbeat(
  g: ClassicGroup | null,
  input: { memberId: string; groupInstanceId: string | null; generationId: number },
): number {
  if (g === null) return ErrorCode.UNKNOWN_MEMBER_ID;
  const invalid = validateMember(g, input.memberId, input.groupInstanceId);
  if (invalid !== ErrorCode.NONE) return invalid;
  if (input.generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
  if (g.state === "Empty") return ErrorCode.UNKNOWN_MEMBER_ID;
  // Members learn of a rebalance from their heartbeat's answer and rejoin.
  if (g.state === "PreparingRebalance") return ErrorCode.REBALANCE_IN_PROGRESS;
  return ErrorCode.NONE;
}

/**
 * LeaveGroup (Kafka: classicGroupLeave), for one member or a batch (KIP-345):
 * a member is named by member id, or by instance id alone when an admin
 * removes a static member. Returns an error code per member.
 */
export function leave(
  g0: ClassicGroup | null,
  leaving: { memberId: string; groupInstanceId: string | null }[],
  now: number,
  cfg: GroupConfig,
): { group: ClassicGroup | null; results: number[] } {
  if (g0 === null) {
    return { group: g0, results: leaving.map(() => ErrorCode.UNKNOWN_MEMBER_ID) };
  }
  const g = clone(g0);
  let left = 0;
  const results = leaving.map((l) => {
    if (l.memberId === "") {
      const id = l.groupInstanceId === null ? null : staticMemberId(g, l.groupInstanceId);
      if (id === null) return ErrorCode.UNKNOWN_MEMBER_ID;
      removeMember(g, id);
      left++;
      return ErrorCode.NONE;
    }
    if (g.pending.some((p) => p.memberId === l.memberId)) {
      g.pending = g.pending.filter((p) => p.memberId !== l.memberId);
      left++;
      return ErrorCode.NONE;
    }
    const invalid = validateMember(g, l.memberId, l.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    removeMember(g, l.memberId);
    left++;
    return ErrorCode.NONE;
  });
  if (left === 0) return { group: g0, results };
  if (g.state === "Stable" || g.state === "CompletingRebalance") {
    prepareRebalance(g, now, cfg);
  } else if (g.state === "PreparingRebalance") {
    rebalanceOrCompleteJoin(g, now, cfg);
  }
  return { group: g, results };
}

/**
 * Whether an OffsetCommit may be stored (Kafka: ClassicGroup.validateOffsetCommit).
 * Commits with generation -1 and no member come from admin tools or consumers
 * that assign partitions themselves: allowed while the group is Empty.
 */
export function validateOffsetCommit(
  g: ClassicGroup,
  input: { generationId: number; memberId: string; groupInstanceId: string | null },
): number {
  if (input.generationId < 0 && g.state === "Empty") return ErrorCode.NONE;
  if (input.generationId >= 0 || input.memberId !== "" || input.groupInstanceId !== null) {
    const invalid = validateMember(g, input.memberId, input.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if (input.generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
  } else if (g.state !== "Empty") {
    return ErrorCode.UNKNOWN_MEMBER_ID;
  }
  // The member has its JoinGroup answer but not its assignment yet.
  if (g.state === "CompletingRebalance") return ErrorCode.REBALANCE_IN_PROGRESS;
  return ErrorCode.NONE;
}

/**
 * Topics the members subscribe to, read from the consumer protocol's
 * subscription (version, then the topic list, a prefix every version keeps);
 * null when the group does not use the "consumer" protocol or it cannot be read.
 */
export function subscribedTopics(g: ClassicGroup): Set<string> | null {
  if (g.protocolType !== "consumer") return null;
  const topics = new Set<string>();
  if (g.members.length === 0) return topics;
  if (g.protocolName === null) return null;
  try {
    for (const m of g.members) {
      const meta = m.protocols.find((p) => p.name === g.protocolName)?.metadata;
      if (meta === undefined) return null;
      const r = new Reader(fromBase64(meta));
      r.int16();
      const n = r.int32();
      for (let i = 0; i < n; i++) topics.add(r.string());
    }
  } catch {
    return null;
  }
  return topics;
}

// ---- encoding helpers ----

/** Bytes as base64 (the record is JSON). */
export function toBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) {
    s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Base64 back to bytes. */
export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
