/**
 * Share groups (KIP-932) as a pure state machine over one JSON record, kept
 * in the same compare-and-set group record as classic and KIP-848 groups.
 *
 * Membership works as in KIP-848 (ShareGroupHeartbeat: join with epoch 0,
 * leave with -1; the member makes its own id), but there is no
 * reconciliation: a partition may be assigned to many members at once, since
 * the share-partition's record locks decide who gets which records. So a
 * member moves to the group's new assignment at its next heartbeat, without
 * revoking first.
 *
 * The assignment follows the idea of Kafka's SimpleAssignor for share groups
 * (broker/share_assignor.ts), per subscribed topic, members sorted by id:
 * every partition has a member and every member a partition (3 members on a
 * one-partition topic all share partition 0), balanced, and sticky: members
 * keep what the previous target gave them as far as the balance allows.
 */

import { ErrorCode } from "../protocol/errors.ts";
import type { TopicMeta, TopicPartitions } from "./consumer_group_state.ts";
import { assignShareTopic } from "./share_assignor.ts";

/** A member of a share group. */
export interface ShareMember {
  memberId: string;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  /** The epoch of the assignment the member was last given. */
  memberEpoch: number;
  assigned: TopicPartitions;
  lastSeenMs: number;
}

/** The whole state of a share group. */
export interface ShareGroup {
  type: "share";
  groupEpoch: number;
  assignmentEpoch: number;
  stateSinceMs: number;
  members: ShareMember[];
  /** The subscribed topics, by name, at the last epoch bump. */
  topics: Record<string, TopicMeta>;
  /** The target assignment of `assignmentEpoch`, by member id. */
  target: Record<string, TopicPartitions>;
}

/** Settings of share groups (Kafka's group.share.* broker configs). */
export interface ShareGroupConfig {
  /** group.share.session.timeout.ms */
  sessionTimeoutMs: number;
  /** group.share.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
}

/** Kafka's defaults. */
export const DEFAULT_SHARE_GROUP_CONFIG: ShareGroupConfig = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
};

/** The assignor ShareGroupDescribe names (Kafka's group.share.assignors default). */
export const SHARE_ASSIGNOR = "simple";

/** A share group with no members. */
export function emptyShareGroup(now: number): ShareGroup {
  return {
    type: "share",
    groupEpoch: 0,
    assignmentEpoch: 0,
    stateSinceMs: now,
    members: [],
    topics: {},
    target: {},
  };
}

/** The group's state as ShareGroupDescribe and ListGroups name it (Kafka's ShareGroupState). */
export function shareGroupState(g: ShareGroup): string {
  return g.members.length === 0 ? "Empty" : "Stable";
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
}

/** Computes the target assignment for the group's epoch (see the module doc). */
function computeTarget(g: ShareGroup): void {
  const members = [...g.members].sort((a, b) => a.memberId < b.memberId ? -1 : 1);
  const target: Record<string, TopicPartitions> = {};
  for (const m of members) target[m.memberId] = {};
  // Each member gets only partitions of topics it subscribes to: assign per topic set.
  const names = Object.keys(g.topics).sort();
  for (const name of names) {
    const t = g.topics[name];
    const subs = members.filter((m) => m.subscribedTopicNames.includes(name));
    if (subs.length === 0 || t.partitions === 0) continue;
    const previous = new Map<string, number[]>();
    for (const m of subs) {
      const had = g.target[m.memberId]?.[t.id];
      if (had) previous.set(m.memberId, had);
    }
    const ids = subs.map((m) => m.memberId);
    for (const [id, ps] of assignShareTopic(ids, t.partitions, previous)) {
      if (ps.length > 0) target[id][t.id] = ps;
    }
  }
  for (const a of Object.values(target)) {
    for (const ps of Object.values(a)) ps.sort((x, y) => x - y);
  }
  g.target = target;
  g.assignmentEpoch = g.groupEpoch;
}

/** Every topic name the group's members subscribe to. */
export function shareSubscriptions(g: ShareGroup): Set<string> {
  const out = new Set<string>();
  for (const m of g.members) for (const t of m.subscribedTopicNames) out.add(t);
  return out;
}

/** Bumps the epoch when the subscribed topics' metadata changed (a new topic, more partitions). */
function refreshTopics(g: ShareGroup, topics: Map<string, TopicMeta>): boolean {
  const wanted: Record<string, TopicMeta> = {};
  for (const name of [...shareSubscriptions(g)].sort()) {
    const t = topics.get(name);
    if (t) wanted[name] = { id: t.id, partitions: t.partitions };
  }
  if (JSON.stringify(wanted) === JSON.stringify(g.topics)) return false;
  g.topics = wanted;
  return true;
}

/**
 * Applies what time has decided: members not heard from within the session
 * timeout leave, and a new target is computed when the epoch moved.
 */
export function tickShare(
  g0: ShareGroup,
  now: number,
  heartbeats: Map<string, number>,
  cfg: ShareGroupConfig,
): ShareGroup {
  const g = structuredClone(g0);
  const before = g.members.length;
  g.members = g.members.filter((m) =>
    now - Math.max(m.lastSeenMs, heartbeats.get(m.memberId) ?? 0) <= cfg.sessionTimeoutMs
  );
  if (g.members.length !== before) g.groupEpoch++;
  if (g.groupEpoch !== g.assignmentEpoch) {
    computeTarget(g);
    g.stateSinceMs = now;
  }
  return g;
}

/** What a ShareGroupHeartbeat carries, plus what the handler knows of the client. */
export interface ShareHeartbeatInput {
  memberId: string;
  memberEpoch: number;
  rackId: string | null;
  subscribedTopicNames: string[] | null;
  clientId: string;
  clientHost: string;
}

/** The answer to a ShareGroupHeartbeat. */
export interface ShareHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** Null when the member already has its current assignment. */
  assignment: TopicPartitions | null;
}

/** The member ids that left the group in this transition (their records should be released). */
export function departedMembers(before: ShareGroup | null, after: ShareGroup | null): string[] {
  if (before === null) return [];
  const keep = new Set((after?.members ?? []).map((m) => m.memberId));
  return before.members.map((m) => m.memberId).filter((id) => !keep.has(id));
}

/**
 * ShareGroupHeartbeat: join (epoch 0), heartbeat (the member's epoch), or
 * leave (-1), following Kafka's GroupMetadataManager.shareGroupHeartbeat.
 */
export function shareHeartbeat(
  g0: ShareGroup | null,
  input: ShareHeartbeatInput,
  topics: Map<string, TopicMeta>,
  now: number,
  cfg: ShareGroupConfig,
): { group: ShareGroup | null; result: ShareHeartbeatResult } {
  const fail = (errorCode: number, errorMessage: string) => ({
    group: g0,
    result: {
      errorCode,
      errorMessage,
      memberId: input.memberId || null,
      memberEpoch: -1,
      heartbeatIntervalMs: 0,
      assignment: null,
    },
  });
  if (input.memberId === "") {
    return fail(ErrorCode.INVALID_REQUEST, "MemberId can't be empty.");
  }
  const g = g0 ? structuredClone(g0) : emptyShareGroup(now);
  const idx = g.members.findIndex((m) => m.memberId === input.memberId);
  if (input.memberEpoch === -1) {
    if (idx >= 0) {
      g.members.splice(idx, 1);
      g.groupEpoch++;
    }
    return {
      group: idx >= 0 ? g : g0,
      result: {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        memberId: input.memberId,
        memberEpoch: -1,
        heartbeatIntervalMs: 0,
        assignment: null,
      },
    };
  }
  let member: ShareMember;
  // One epoch bump for whatever this heartbeat changes (membership, subscription, metadata).
  let changed = false;
  if (input.memberEpoch === 0) {
    if (!input.subscribedTopicNames || input.subscribedTopicNames.length === 0) {
      return fail(ErrorCode.INVALID_REQUEST, "SubscribedTopicNames must be set in first request.");
    }
    if (idx >= 0) {
      member = g.members[idx];
      // A rejoin with the same id (the client lost its epoch): it starts over.
      member.memberEpoch = 0;
    } else {
      member = {
        memberId: input.memberId,
        rackId: input.rackId,
        clientId: input.clientId,
        clientHost: input.clientHost,
        subscribedTopicNames: [],
        memberEpoch: 0,
        assigned: {},
        lastSeenMs: now,
      };
      g.members.push(member);
      changed = true;
    }
  } else {
    if (idx < 0) {
      return fail(
        ErrorCode.UNKNOWN_MEMBER_ID,
        `Member ${input.memberId} is not a member of the share group.`,
      );
    }
    member = g.members[idx];
    if (input.memberEpoch !== member.memberEpoch) {
      return fail(
        ErrorCode.FENCED_MEMBER_EPOCH,
        `The share group member has a epoch ${input.memberEpoch} but the current epoch is ${member.memberEpoch}.`,
      );
    }
  }
  // Liveness of an existing member is its heartbeat row (MetaStore.touchMember), so that a
  // heartbeat that changes nothing leaves the record's version alone.
  if (input.rackId !== null) member.rackId = input.rackId;
  if (
    input.subscribedTopicNames !== null &&
    !sameSet(input.subscribedTopicNames, member.subscribedTopicNames)
  ) {
    member.subscribedTopicNames = [...new Set(input.subscribedTopicNames)].sort();
    changed = true;
  }
  if (refreshTopics(g, topics)) changed = true;
  if (changed) g.groupEpoch++;
  if (g.groupEpoch !== g.assignmentEpoch) {
    computeTarget(g);
    g.stateSinceMs = now;
  }
  let assignment: TopicPartitions | null = null;
  if (member.memberEpoch !== g.assignmentEpoch || input.memberEpoch === 0) {
    member.memberEpoch = g.assignmentEpoch;
    member.assigned = g.target[member.memberId] ?? {};
    assignment = member.assigned;
  }
  return {
    group: g,
    result: {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: cfg.heartbeatIntervalMs,
      assignment,
    },
  };
}
