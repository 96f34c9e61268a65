/**
 * Streams groups (KIP-1071) as a pure state machine over one JSON record,
 * kept in the same compare-and-set group record as classic, KIP-848 and
 * share groups, so that any broker serves any streams group.
 *
 * The broker, not a client leader, assigns Kafka Streams tasks:
 *
 * - The first member to join brings the topology (subtopologies, their
 *   source, repartition and changelog topics, with a topology epoch); the
 *   broker keeps it and configures it against the topics that exist
 *   (broker/streams_topology.ts). Members joining with an older topology
 *   epoch are told STALE_TOPOLOGY.
 * - Membership, member metadata (process, rack, client tags, endpoint),
 *   topic metadata, the topology becoming ready, or the group's
 *   num.standby.replicas changing bump the group epoch; a new target
 *   assignment is then computed for that epoch by the sticky assignor
 *   (broker/streams_assignor.ts).
 * - Each member reconciles towards its target as in Kafka's streams
 *   `CurrentAssignmentBuilder`: it first revokes the tasks it must give up
 *   (it keeps its epoch, state "unrevoked_tasks"), then moves to the target
 *   epoch with the tasks that are free; a task still held by its old owner
 *   (or, for a standby or warm-up, by the same process) is given once the old
 *   owner no longer reports it ("unreleased_tasks").
 * - Members not heard from within streams.session.timeout.ms, or that did
 *   not revoke within their rebalance timeout, are removed.
 *
 * Simplifications: a static member leaving with epoch -2 leaves like a
 * dynamic one; the sticky assignor gives no warm-up tasks (as Kafka's does
 * not either); topology descriptions (KIP-1331) are not stored.
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { TopicMeta } from "./consumer_group_state.ts";
import { assignTasks, noTasks, type Tasks, type TaskSet } from "./streams_assignor.ts";
import {
  type ConfiguredTopology,
  configureTopology,
  isReady,
  isStateful,
  StreamsStatus,
  type StreamsTopology,
  topologyProblem,
  topologyTopics,
} from "./streams_topology.ts";

/** Reconciliation state of a member (Kafka's streams MemberState). */
export type StreamsMemberState = "stable" | "unrevoked_tasks" | "unreleased_tasks";

/** A user endpoint for interactive queries (application.server). */
export interface Endpoint {
  host: string;
  port: number;
}

/** A member of a streams group: one stream thread's consumer. */
export interface StreamsMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  /** The topology epoch the member runs. */
  topologyEpoch: number;
  /** The Streams instance; its threads are members of one process. */
  processId: string;
  userEndpoint: Endpoint | null;
  clientTags: [string, string][];
  /** Cumulative changelog offsets per task, as last reported: [subtopology, partition, offset]. */
  taskOffsets: [string, number, number][];
  taskEndOffsets: [string, number, number][];
  memberEpoch: number;
  previousMemberEpoch: number;
  state: StreamsMemberState;
  /** What the member may run now. */
  assigned: TaskSet;
  /** What it must give up before it moves on. */
  pendingRevocation: TaskSet;
  /** What it last said it owns (each kind is sent only when it changes). */
  owned: TaskSet;
  /** Unrevoked tasks must be revoked by this time, or the member is removed (0: none). */
  revokeDeadlineMs: number;
  lastSeenMs: number;
}

/** The whole state of a streams group. */
export interface StreamsGroup {
  type: "streams";
  groupEpoch: number;
  /** The epoch the target assignment was computed for. */
  assignmentEpoch: number;
  stateSinceMs: number;
  members: StreamsMember[];
  /** The topology the first member brought; null until one joined. */
  topology: StreamsTopology | null;
  /** The topology as last configured against the topics. */
  configured: ConfiguredTopology | null;
  /** The topology epoch that was last found ready (-1: none). */
  validatedTopologyEpoch: number;
  /** The metadata (id, partitions) of every topic the topology touches, when last configured. */
  topics: Record<string, TopicMeta>;
  /** The target assignment of `assignmentEpoch`, by member id. */
  target: Record<string, TaskSet>;
  /** num.standby.replicas the target was computed with. */
  numStandbyReplicas: number;
  /** streams.session.timeout.ms as of the last heartbeat (time-driven expiry reads it here). */
  sessionTimeoutMs: number;
  /** Bumped whenever a member with an endpoint gets new tasks (interactive queries). */
  endpointInformationEpoch: number;
  /** A member that asked the whole application to shut down (KIP-1071). */
  shutdownRequestMemberId: string | null;
}

/** Settings of one streams group (Kafka's group.streams.* configs, or its group configs). */
export interface StreamsGroupConfig {
  /** streams.session.timeout.ms */
  sessionTimeoutMs: number;
  /** streams.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
  /** streams.num.standby.replicas */
  numStandbyReplicas: number;
}

/** Kafka's defaults. */
export const DEFAULT_STREAMS_GROUP_CONFIG: StreamsGroupConfig = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
  numStandbyReplicas: 0,
};

/** A streams group with no members. */
export function emptyStreamsGroup(now: number): StreamsGroup {
  return {
    type: "streams",
    groupEpoch: 0,
    assignmentEpoch: 0,
    stateSinceMs: now,
    members: [],
    topology: null,
    configured: null,
    validatedTopologyEpoch: -1,
    topics: {},
    target: {},
    numStandbyReplicas: 0,
    sessionTimeoutMs: DEFAULT_STREAMS_GROUP_CONFIG.sessionTimeoutMs,
    endpointInformationEpoch: 0,
    shutdownRequestMemberId: null,
  };
}

/** The group's state as StreamsGroupDescribe and ListGroups name it (Kafka's StreamsGroupState). */
export function streamsGroupState(g: StreamsGroup): string {
  if (g.members.length === 0) return "Empty";
  if (g.topology === null || !isReady(g.configured)) return "NotReady";
  if (g.groupEpoch !== g.assignmentEpoch) return "Assigning";
  if (g.members.some((m) => m.memberEpoch !== g.assignmentEpoch || m.state !== "stable")) {
    return "Reconciling";
  }
  return "Stable";
}

// ---- task set helpers ----

const KINDS = ["active", "standby", "warmup"] as const;

function normalize(a: Tasks): Tasks {
  const out: Tasks = {};
  for (const s of Object.keys(a).sort()) {
    if (a[s].length > 0) out[s] = [...new Set(a[s])].sort((x, y) => x - y);
  }
  return out;
}

function has(a: Tasks, s: string, p: number): boolean {
  return a[s]?.includes(p) ?? false;
}

function isEmpty(t: TaskSet): boolean {
  return KINDS.every((k) => Object.keys(t[k]).length === 0);
}

function sameTasks(a: TaskSet, b: TaskSet): boolean {
  return KINDS.every((k) => JSON.stringify(normalize(a[k])) === JSON.stringify(normalize(b[k])));
}

function containsAny(owned: TaskSet, which: TaskSet): boolean {
  return KINDS.some((k) =>
    Object.entries(which[k]).some(([s, ps]) => ps.some((p) => has(owned[k], s, p)))
  );
}

/** Tasks as the heartbeat carries them. */
export function tasksFromWire(list: { subtopologyId: string; partitions: number[] }[]): Tasks {
  const out: Tasks = {};
  for (const t of list) out[t.subtopologyId] = [...(out[t.subtopologyId] ?? []), ...t.partitions];
  return normalize(out);
}

/** Tasks as the heartbeat and describe answer them. */
export function tasksToWire(a: Tasks): { subtopologyId: string; partitions: number[] }[] {
  return Object.entries(normalize(a)).map(([subtopologyId, partitions]) => ({
    subtopologyId,
    partitions,
  }));
}

// ---- assignment ----

/** Computes the target assignment of the current group epoch. */
function computeTarget(g: StreamsGroup, numStandbyReplicas: number): void {
  const c = g.configured;
  if (!isReady(c)) {
    // Nothing can run until every topic exists as the topology needs it.
    g.target = Object.fromEntries(g.members.map((m) => [m.memberId, noTasks()]));
  } else {
    const out = assignTasks(
      g.members.map((m) => ({
        memberId: m.memberId,
        processId: m.processId,
        previous: g.target[m.memberId] ?? noTasks(),
      })),
      c!.subtopologies!.map((s) => ({
        subtopologyId: s.subtopologyId,
        numTasks: s.numTasks,
        stateful: isStateful(s),
      })),
      numStandbyReplicas,
    );
    g.target = Object.fromEntries(out);
  }
  g.numStandbyReplicas = numStandbyReplicas;
  g.assignmentEpoch = g.groupEpoch;
}

/**
 * Whether another member (or, for standbys and warm-ups, the same process)
 * still holds a task the member is to get (Kafka's isUnreleasedTask).
 */
function unreleased(
  g: StreamsGroup,
  self: StreamsMember,
  kind: (typeof KINDS)[number],
  s: string,
  p: number,
): boolean {
  for (const o of g.members) {
    // The member's own tasks pending revocation are released once it stops reporting them.
    const holds = (k: (typeof KINDS)[number]) =>
      has(o.assigned[k], s, p) || (o !== self && has(o.pendingRevocation[k], s, p));
    if (kind === "active") {
      if (o !== self && holds("active")) return true;
      if (o.processId === self.processId && (holds("standby") || holds("warmup"))) return true;
    } else if (o.processId === self.processId) {
      if (holds("active") || holds("standby") || holds("warmup")) {
        // The member's own copy of the same kind is simply kept.
        if (!(o === self && has(o.assigned[kind], s, p))) return true;
      }
    }
  }
  return false;
}

/** Moves one member towards its target assignment (Kafka's streams CurrentAssignmentBuilder). */
function reconcile(g: StreamsGroup, m: StreamsMember, now: number): void {
  if (m.state === "unrevoked_tasks") {
    if (containsAny(m.owned, m.pendingRevocation)) return;
    // Revoked: tasks it gave up are free for their new owners.
    m.pendingRevocation = noTasks();
  } else if (m.state === "stable" && m.memberEpoch === g.assignmentEpoch) {
    return;
  }
  const target = g.target[m.memberId] ?? noTasks();
  const kept = noTasks();
  const revoke = noTasks();
  const fresh = noTasks();
  let waiting = false;
  for (const k of KINDS) {
    const subs = new Set([...Object.keys(target[k]), ...Object.keys(m.assigned[k])]);
    for (const s of subs) {
      const want = target[k][s] ?? [];
      const cur = m.assigned[k][s] ?? [];
      const keep = cur.filter((p) => want.includes(p));
      const gone = cur.filter((p) => !want.includes(p));
      const add = want.filter((p) => !cur.includes(p)).filter((p) => {
        const busy = unreleased(g, m, k, s, p);
        if (busy) waiting = true;
        return !busy;
      });
      if (keep.length > 0) kept[k][s] = keep;
      if (gone.length > 0) revoke[k][s] = gone;
      if (add.length > 0) fresh[k][s] = add;
    }
  }
  if (!isEmpty(revoke) && containsAny(m.owned, revoke)) {
    // Revoke first: the member keeps its epoch until it stops reporting them.
    m.state = "unrevoked_tasks";
    m.assigned = kept;
    m.pendingRevocation = revoke;
    if (m.revokeDeadlineMs === 0) m.revokeDeadlineMs = now + m.rebalanceTimeoutMs;
    return;
  }
  for (const k of KINDS) {
    for (const [s, ps] of Object.entries(fresh[k])) {
      kept[k][s] = normalize({ x: [...(kept[k][s] ?? []), ...ps] }).x;
    }
  }
  if (m.memberEpoch !== g.assignmentEpoch) {
    m.previousMemberEpoch = m.memberEpoch;
    m.memberEpoch = g.assignmentEpoch;
  }
  m.state = waiting ? "unreleased_tasks" : "stable";
  m.assigned = {
    active: normalize(kept.active),
    standby: normalize(kept.standby),
    warmup: normalize(kept.warmup),
  };
  m.pendingRevocation = noTasks();
  m.revokeDeadlineMs = 0;
}

// ---- time ----

/**
 * Applies what time has decided: members silent for longer than the session
 * timeout, and members that did not revoke tasks within their rebalance
 * timeout, are removed; the group epoch is bumped and a new target computed.
 */
export function tickStreams(
  g0: StreamsGroup,
  now: number,
  heartbeats: Map<string, number>,
): StreamsGroup {
  const g = structuredClone(g0);
  const gone = g.members.filter((m) =>
    now - Math.max(m.lastSeenMs, heartbeats.get(m.memberId) ?? 0) > g.sessionTimeoutMs ||
    (m.revokeDeadlineMs > 0 && now > m.revokeDeadlineMs)
  );
  if (gone.length > 0) {
    removeMembers(g, gone.map((m) => m.memberId));
    g.groupEpoch++;
  }
  if (g.groupEpoch !== g.assignmentEpoch) {
    computeTarget(g, g.numStandbyReplicas);
    g.stateSinceMs = now;
  }
  return g;
}

function removeMembers(g: StreamsGroup, ids: string[]): void {
  g.members = g.members.filter((m) => !ids.includes(m.memberId));
  for (const id of ids) delete g.target[id];
  if (g.members.length === 0) g.shutdownRequestMemberId = null;
}

// ---- StreamsGroupHeartbeat ----

/** What a StreamsGroupHeartbeat carries, plus what the handler knows of the client. */
export interface StreamsHeartbeatInput {
  memberId: string;
  memberEpoch: number;
  endpointInformationEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  topology: StreamsTopology | null;
  activeTasks: Tasks | null;
  standbyTasks: Tasks | null;
  warmupTasks: Tasks | null;
  processId: string | null;
  userEndpoint: Endpoint | null;
  clientTags: [string, string][] | null;
  taskOffsets: [string, number, number][] | null;
  taskEndOffsets: [string, number, number][] | null;
  shutdownApplication: boolean;
  clientId: string;
  clientHost: string;
}

/** The source partitions of one member's tasks, for interactive queries. */
export interface EndpointPartitions {
  userEndpoint: Endpoint;
  activePartitions: { topic: string; partitions: number[] }[];
  standbyPartitions: { topic: string; partitions: number[] }[];
}

/** The heartbeat's answer. */
export interface StreamsHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  status: { statusCode: number; statusDetail: string }[] | null;
  /** Null when the member's tasks did not change and it is not joining. */
  tasks: TaskSet | null;
  endpointInformationEpoch: number;
  /** Null when the member has the group's current endpoint information. */
  partitionsByUserEndpoint: EndpointPartitions[] | null;
}

function hbError(code: number, message: string, memberId: string): StreamsHeartbeatResult {
  return {
    errorCode: code,
    errorMessage: message,
    memberId,
    memberEpoch: -1,
    heartbeatIntervalMs: 0,
    status: null,
    tasks: null,
    endpointInformationEpoch: 0,
    partitionsByUserEndpoint: null,
  };
}

/** Problems with a heartbeat before the group is looked at (Kafka's request validation). */
export function streamsHeartbeatProblem(input: StreamsHeartbeatInput): string | null {
  if (input.memberId === "") return "MemberId can't be empty.";
  if (input.memberEpoch < -2) return `MemberEpoch ${input.memberEpoch} is invalid.`;
  if (input.memberEpoch === 0) {
    if (input.rebalanceTimeoutMs === -1) {
      return "RebalanceTimeoutMs must be provided when joining (epoch 0).";
    }
    if (input.topology === null) return "Topology must be provided when joining (epoch 0).";
    if (input.processId === null || input.processId === "") {
      return "ProcessId must be provided when joining (epoch 0).";
    }
    const problem = topologyProblem(input.topology);
    if (problem) return problem;
  }
  if (input.instanceId !== null && input.instanceId === "") return "InstanceId can't be empty.";
  if (input.rackId !== null && input.rackId === "") return "RackId can't be empty.";
  return null;
}

/** The partitions each member with an endpoint serves (Kafka's EndpointToPartitionsManager). */
function endpointPartitions(g: StreamsGroup): EndpointPartitions[] {
  const subs = new Map((g.configured?.subtopologies ?? []).map((s) => [s.subtopologyId, s]));
  const partitionsOf = (name: string) => g.topics[name]?.partitions ?? 0;
  const collect = (tasks: Tasks[]) => {
    const byTopic = new Map<string, Set<number>>();
    for (const t of tasks) {
      for (const [sid, ps] of Object.entries(t)) {
        const s = subs.get(sid);
        if (!s) continue;
        const topics = [...s.sourceTopics, ...s.repartitionSourceTopics.map((r) => r.name)];
        for (const topic of topics) {
          for (const p of ps) {
            if (p < partitionsOf(topic)) {
              if (!byTopic.has(topic)) byTopic.set(topic, new Set());
              byTopic.get(topic)!.add(p);
            }
          }
        }
      }
    }
    return [...byTopic].sort(([a], [b]) => a < b ? -1 : 1).map(([topic, ps]) => ({
      topic,
      partitions: [...ps].sort((a, b) => a - b),
    }));
  };
  return g.members.filter((m) => m.userEndpoint !== null).map((m) => ({
    userEndpoint: m.userEndpoint!,
    activePartitions: collect([m.assigned.active]),
    standbyPartitions: collect([m.assigned.standby, m.assigned.warmup]),
  }));
}

/** Partition counts of the topics the caller loaded, by name. */
function partitionCounts(topics: Map<string, TopicMeta>): Map<string, number> {
  return new Map([...topics].map(([n, t]) => [n, t.partitions]));
}

/** The topic metadata the topology depends on (changes bump the group epoch). */
function relevantTopics(
  t: StreamsTopology,
  configured: ConfiguredTopology,
  topics: Map<string, TopicMeta>,
): Record<string, TopicMeta> {
  const names = topologyTopics(t);
  for (const s of configured.subtopologies ?? []) s.sourceTopics.forEach((x) => names.add(x));
  const out: Record<string, TopicMeta> = {};
  for (const n of [...names].sort()) {
    const m = topics.get(n);
    if (m) out[n] = { id: m.id, partitions: m.partitions };
  }
  return out;
}

/**
 * StreamsGroupHeartbeat (Kafka: GroupMetadataManager.streamsGroupHeartbeat).
 * `topics` holds the metadata of every topic the group's topology touches
 * (all topics when it subscribes by regular expression). Returns the new
 * record and the answer; an error leaves the record as it was.
 */
export function streamsHeartbeat(
  g0: StreamsGroup | null,
  input: StreamsHeartbeatInput,
  topics: Map<string, TopicMeta>,
  now: number,
  cfg: StreamsGroupConfig,
): { group: StreamsGroup | null; result: StreamsHeartbeatResult } {
  const fail = (code: number, message: string) => ({
    group: g0,
    result: hbError(code, message, input.memberId),
  });
  const problem = streamsHeartbeatProblem(input);
  if (problem) return fail(ErrorCode.INVALID_REQUEST, problem);
  if (g0 === null && input.memberEpoch !== 0) {
    if (input.memberEpoch < 0) {
      return {
        group: null,
        result: {
          ...hbError(ErrorCode.NONE, "", input.memberId),
          errorMessage: null,
          memberEpoch: input.memberEpoch,
        },
      };
    }
    return fail(
      ErrorCode.GROUP_ID_NOT_FOUND,
      "The streams group does not exist; rejoin with epoch 0.",
    );
  }
  const g = g0 === null ? emptyStreamsGroup(now) : structuredClone(g0);
  let m = g.members.find((x) => x.memberId === input.memberId);

  if (input.memberEpoch === -1 || input.memberEpoch === -2) {
    // Leaving (-2: a static member that will come back; here it leaves like any other).
    if (!m) {
      return fail(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${JSON.stringify(input.memberId)} is not a member of the streams group.`,
      );
    }
    removeMembers(g, [m.memberId]);
    g.groupEpoch++;
    computeTarget(g, cfg.numStandbyReplicas);
    return {
      group: g,
      result: {
        ...hbError(ErrorCode.NONE, "", input.memberId),
        errorMessage: null,
        memberEpoch: input.memberEpoch,
      },
    };
  }

  const before = m ? structuredClone(m) : null;
  let bump = false;
  if (input.memberEpoch === 0) {
    if (input.instanceId !== null) {
      const other = g.members.find((x) =>
        x.instanceId === input.instanceId && x.memberId !== input.memberId
      );
      if (other) {
        return fail(
          ErrorCode.UNRELEASED_INSTANCE_ID,
          `Static member ${JSON.stringify(input.instanceId)} is still member ${
            JSON.stringify(other.memberId)
          }; it must leave first.`,
        );
      }
    }
    const owned: TaskSet = {
      active: input.activeTasks ?? {},
      standby: input.standbyTasks ?? {},
      warmup: input.warmupTasks ?? {},
    };
    if (!m) {
      m = {
        memberId: input.memberId,
        instanceId: input.instanceId,
        rackId: input.rackId,
        clientId: input.clientId,
        clientHost: input.clientHost,
        rebalanceTimeoutMs: input.rebalanceTimeoutMs,
        topologyEpoch: input.topology!.epoch,
        processId: input.processId!,
        userEndpoint: input.userEndpoint,
        clientTags: input.clientTags ?? [],
        taskOffsets: [],
        taskEndOffsets: [],
        memberEpoch: 0,
        previousMemberEpoch: -1,
        state: "stable",
        assigned: noTasks(),
        pendingRevocation: noTasks(),
        owned,
        revokeDeadlineMs: 0,
        lastSeenMs: now,
      };
      g.members.push(m);
      bump = true;
    } else {
      // A member rejoining with epoch 0 lost its state: it holds nothing any more.
      m.memberEpoch = 0;
      m.previousMemberEpoch = -1;
      m.assigned = noTasks();
      m.pendingRevocation = noTasks();
      m.owned = owned;
      m.state = "stable";
      m.revokeDeadlineMs = 0;
      m.lastSeenMs = now;
    }
  } else {
    if (!m) {
      return fail(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${JSON.stringify(input.memberId)} is not a member of the streams group.`,
      );
    }
    const reported: TaskSet = {
      active: input.activeTasks ?? m.owned.active,
      standby: input.standbyTasks ?? m.owned.standby,
      warmup: input.warmupTasks ?? m.owned.warmup,
    };
    if (input.memberEpoch > m.memberEpoch) {
      return fail(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The streams group member has a greater member epoch (${input.memberEpoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its tasks and rejoin.`,
      );
    }
    if (input.memberEpoch < m.memberEpoch) {
      // The answer that bumped its epoch may have been lost: accept the previous epoch if the
      // member owns nothing it was not given.
      const subset = KINDS.every((k) =>
        Object.entries(reported[k]).every(([s, ps]) => ps.every((p) => has(m!.assigned[k], s, p)))
      );
      if (input.memberEpoch !== m.previousMemberEpoch || !subset) {
        return fail(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The streams group member has a smaller member epoch (${input.memberEpoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its tasks and rejoin.`,
        );
      }
    }
    m.owned = reported;
  }

  // Member metadata (sent only when it changes); a change makes a new epoch.
  const meta = (x: StreamsMember) =>
    JSON.stringify([
      x.instanceId,
      x.rackId,
      x.processId,
      x.userEndpoint,
      x.clientTags,
      x.topologyEpoch,
    ]);
  const metaBefore = meta(m);
  if (input.instanceId !== null) m.instanceId = input.instanceId;
  if (input.rackId !== null) m.rackId = input.rackId;
  if (input.rebalanceTimeoutMs !== -1) m.rebalanceTimeoutMs = input.rebalanceTimeoutMs;
  if (input.processId !== null) m.processId = input.processId;
  if (input.userEndpoint !== null) m.userEndpoint = input.userEndpoint;
  if (input.clientTags !== null) m.clientTags = [...input.clientTags].sort();
  if (input.topology !== null) m.topologyEpoch = input.topology.epoch;
  if (input.taskOffsets !== null) m.taskOffsets = input.taskOffsets;
  if (input.taskEndOffsets !== null) m.taskEndOffsets = input.taskEndOffsets;
  m.clientId = input.clientId;
  m.clientHost = input.clientHost;
  if (meta(m) !== metaBefore) bump = true;

  // The topology: the first member's initializes the group's; an equal epoch must be equal.
  if (input.topology !== null) {
    if (g.topology === null) {
      g.topology = structuredClone(input.topology);
      bump = true;
    } else if (input.topology.epoch > g.topology.epoch) {
      // A newer version of the application: its topology replaces the old one.
      g.topology = structuredClone(input.topology);
      bump = true;
    } else if (
      input.topology.epoch === g.topology.epoch &&
      JSON.stringify(input.topology) !== JSON.stringify(g.topology)
    ) {
      return fail(
        ErrorCode.STREAMS_INVALID_TOPOLOGY,
        `The topology of epoch ${input.topology.epoch} differs from the group's topology of the same epoch; bump the topology epoch to change it.`,
      );
    }
  }
  if (g.topology === null) {
    return fail(ErrorCode.INVALID_REQUEST, "The group has no topology; rejoin with epoch 0.");
  }

  // Configure the topology against the topics as they are now.
  const configured = configureTopology(g.topology, partitionCounts(topics));
  const relevant = relevantTopics(g.topology, configured, topics);
  if (JSON.stringify(relevant) !== JSON.stringify(g.topics)) {
    g.topics = relevant;
    bump = true;
  }
  if (JSON.stringify(configured) !== JSON.stringify(g.configured)) {
    g.configured = configured;
    bump = true;
  }
  const validated = isReady(configured) ? g.topology.epoch : -1;
  if (validated !== g.validatedTopologyEpoch) {
    g.validatedTopologyEpoch = validated;
    bump = true;
  }
  if (cfg.numStandbyReplicas !== g.numStandbyReplicas) bump = true;
  g.sessionTimeoutMs = cfg.sessionTimeoutMs;
  if (bump) g.groupEpoch++;
  if (g.groupEpoch !== g.assignmentEpoch) {
    computeTarget(g, cfg.numStandbyReplicas);
    g.stateSinceMs = now;
  }
  // Each member reconciles on its own heartbeat, which answers what changed (as in Kafka).
  reconcile(g, m, now);
  if (input.shutdownApplication) g.shutdownRequestMemberId = m.memberId;

  const changed = before === null || !sameTasks(before.assigned, m.assigned);
  // Interactive queries: other members learn where this one's tasks now run.
  if ((changed || input.memberEpoch === 0) && m.userEndpoint !== null) {
    g.endpointInformationEpoch++;
  }

  const status: { statusCode: number; statusDetail: string }[] = [];
  if (m.topologyEpoch < g.topology.epoch) {
    status.push({
      statusCode: StreamsStatus.STALE_TOPOLOGY,
      statusDetail:
        `The member's topology epoch ${m.topologyEpoch} is behind the group's topology epoch ${g.topology.epoch}.`,
    });
  }
  if (configured.status !== null) {
    status.push({ statusCode: configured.status.code, statusDetail: configured.status.detail });
  }
  if (g.shutdownRequestMemberId !== null) {
    status.push({
      statusCode: StreamsStatus.SHUTDOWN_APPLICATION,
      statusDetail:
        `Streams group member ${g.shutdownRequestMemberId} encountered a fatal error and requested a shutdown for the entire application.`,
    });
  }
  const anyEndpoint = g.members.some((x) => x.userEndpoint !== null);
  return {
    group: g,
    result: {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      heartbeatIntervalMs: cfg.heartbeatIntervalMs,
      status: status.length > 0 ? status : null,
      tasks: input.memberEpoch === 0 || changed ? structuredClone(m.assigned) : null,
      endpointInformationEpoch: g.endpointInformationEpoch,
      partitionsByUserEndpoint: anyEndpoint &&
          input.endpointInformationEpoch !== g.endpointInformationEpoch
        ? endpointPartitions(g)
        : null,
    },
  };
}

/** The internal topics the group's topology still lacks (the heartbeat's caller creates them). */
export function missingInternalTopics(g: StreamsGroup | null) {
  return g?.configured?.toCreate ?? [];
}

/**
 * Whether an OffsetCommit may be stored (Kafka: StreamsGroup.validateOffsetCommit):
 * a member commits with its current epoch; commits from outside the group
 * (admin tools, epoch -1) need an empty group. Kafka also refuses
 * OffsetCommit below v9 from members; that check is left out here, since
 * transactional commits (TxnOffsetCommit, exactly-once Streams) come through
 * the same check without a version of their own.
 */
export function validateStreamsCommit(
  g: StreamsGroup,
  input: { generationId: number; memberId: string },
): number {
  if (input.generationId < 0 && g.members.length === 0) return ErrorCode.NONE;
  const m = g.members.find((x) => x.memberId === input.memberId);
  if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (input.generationId !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

/**
 * OffsetFetch (Kafka: StreamsGroup.validateOffsetFetch): a member's epoch
 * must be current (STALE_MEMBER_EPOCH otherwise); without a member id and
 * epoch (admin tools) anything may be read.
 */
export function validateStreamsFetch(
  g: StreamsGroup,
  input: { memberId: string | null; memberEpoch: number },
): number {
  if (input.memberId === null && input.memberEpoch < 0) return ErrorCode.NONE;
  const m = g.members.find((x) => x.memberId === input.memberId);
  if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (input.memberEpoch !== m.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

/**
 * The topics a streams group reads (for OffsetDelete's GROUP_SUBSCRIBED_TO_TOPIC):
 * as Kafka's StreamsGroup.isSubscribedToTopic, the source and repartition
 * topics of the configured topology, none while it is not ready.
 */
export function streamsSubscriptions(g: StreamsGroup): Set<string> {
  const out = new Set<string>();
  if (!isReady(g.configured)) return out;
  for (const s of g.configured!.subtopologies!) {
    s.sourceTopics.forEach((x) => out.add(x));
    s.repartitionSourceTopics.forEach((x) => out.add(x.name));
  }
  return out;
}

/** Every topic name the group's stored topology touches (for loading metadata). */
export function streamsTopicNames(g: StreamsGroup | null): Set<string> {
  return g?.topology ? topologyTopics(g.topology) : new Set();
}
