/**
 * The group coordinator every broker runs for every group. It keeps nothing
 * of its own: each operation reads the group's record from the meta store,
 * applies a pure transition (broker/group_state.ts for the classic protocol,
 * broker/consumer_group_state.ts for KIP-848) and writes it back by
 * compare-and-set, re-reading and retrying when another broker changed it
 * first. Requests that must wait (a JoinGroup at the barrier, a SyncGroup for
 * the leader's assignment) watch the shared record: they poll it, and are
 * woken at once when this broker changes it. So a client whose requests land
 * on different brokers still rebalances correctly, and a broker that dies in
 * the middle of a rebalance costs that rebalance, never a committed offset.
 *
 * Time-driven transitions (session expiry, rebalance and sync deadlines) are
 * applied by whichever broker reads the record after they are due: on any
 * group operation, and in the periodic sweep (`sweep()`, every second).
 * Brokers compare their own clocks with timestamps other brokers wrote, so
 * their clocks should agree to well within a session timeout.
 */

import { getLogger } from "@logtape/logtape";
import { Waiter } from "./waiter.ts";
import { ErrorCode, KafkaError } from "../protocol/errors.ts";
import type { CommittedOffset, MetaStore } from "../stores/types.ts";
import {
  type ConsumerGroup,
  type ConsumerGroupConfig,
  consumerHeartbeat,
  type ConsumerHeartbeatInput,
  type ConsumerHeartbeatResult,
  DEFAULT_CONSUMER_GROUP_CONFIG,
  memberTopics,
  tickConsumer,
  type TopicMeta,
  validateConsumerCommit,
  validateConsumerFetch,
} from "./consumer_group_state.ts";
import {
  type ClassicGroup,
  emptyGroup,
  type GroupConfig,
  heartbeat,
  join,
  joinError,
  type JoinInput,
  type JoinResponse,
  joinResult,
  leave,
  rebalanceTimeoutMs,
  subscribedTopics,
  sync,
  type SyncInput,
  type SyncResponse,
  syncResult,
  tick,
  validateOffsetCommit,
} from "./group_state.ts";
import {
  DEFAULT_SHARE_GROUP_CONFIG,
  departedMembers,
  type ShareGroup,
  type ShareGroupConfig,
  shareHeartbeat,
  type ShareHeartbeatInput,
  type ShareHeartbeatResult,
  shareSubscriptions,
  tickShare,
} from "./share_group_state.ts";
import {
  type StreamsGroup,
  type StreamsGroupConfig,
  streamsHeartbeat,
  type StreamsHeartbeatInput,
  type StreamsHeartbeatResult,
  streamsSubscriptions,
  tickStreams,
  validateStreamsCommit,
  validateStreamsFetch,
} from "./streams_group_state.ts";

const log = getLogger(["skb", "groups"]);

/** Coordinator settings: Kafka's group configs plus how often waiters re-read the record. */
export interface CoordinatorConfig extends GroupConfig {
  /** How often a waiting JoinGroup/SyncGroup re-reads the shared record. */
  pollMs: number;
  /** KIP-848 consumer groups (group.consumer.*); Kafka's defaults when absent. */
  consumer?: ConsumerGroupConfig;
  /** Share groups (group.share.*); Kafka's defaults when absent. */
  share?: ShareGroupConfig;
}

/**
 * A group's record: a classic group, a KIP-848 consumer group, a KIP-932
 * share group, or a KIP-1071 streams group.
 */
export type GroupRecord = ClassicGroup | ConsumerGroup | ShareGroup | StreamsGroup;

/** How many compare-and-set conflicts in a row an operation tolerates before giving up. */
const MAX_CAS_ATTEMPTS = 100;

/** A group as the admin APIs see it. */
export interface GroupView {
  groupId: string;
  group: GroupRecord;
}

/** Reads a stored record; null (and a warning) for a record this broker cannot read. */
export function parseGroup(groupId: string, state: string): GroupRecord | null {
  try {
    const g = JSON.parse(state);
    if (
      g && (g.type === "classic" || g.type === "consumer" || g.type === "share" ||
        g.type === "streams")
    ) {
      return g as GroupRecord;
    }
  } catch { /* logged below */ }
  log.warn("Group {groupId} has a record this broker cannot read; treating it as absent", {
    groupId,
  });
  return null;
}

const NO_HEARTBEATS = new Map<string, number>();

/**
 * A group as a classic-protocol request sees it: a KIP-848 group without
 * members can be taken over (its offsets stay); one with members cannot.
 */
function asClassic(g: GroupRecord | null): ClassicGroup | null | "consumer" {
  if (g === null || g.type === "classic") return g;
  // A share group is never taken over: its share-partition state belongs to it; nor is a
  // streams group, whose topology and internal topics belong to its application.
  if (g.type === "share" || g.type === "streams") return "consumer";
  return g.members.length === 0 ? null : "consumer";
}

/**
 * The member ids whose heartbeat rows a record accounts for: its members and,
 * in a classic group, the ids handed out with MEMBER_ID_REQUIRED (KIP-394)
 * that have not joined or expired yet.
 */
function memberIds(g: GroupRecord | null): Set<string> {
  const ids = new Set<string>();
  if (g === null) return ids;
  for (const m of g.members) ids.add(m.memberId);
  if (g.type === "classic") g.pending.forEach((p) => ids.add(p.memberId));
  return ids;
}

/** Topics the members of a group subscribe to; null when that cannot be known. */
export function groupSubscriptions(g: GroupRecord): Set<string> | null {
  if (g.type === "classic") return subscribedTopics(g);
  if (g.type === "share") return shareSubscriptions(g);
  if (g.type === "streams") return streamsSubscriptions(g);
  const out = new Set<string>();
  for (const m of g.members) for (const t of memberTopics(m, Object.keys(g.topics))) out.add(t);
  return out;
}

/** The coordinator of every group, over the shared meta store. */
export class GroupCoordinator {
  /** This broker's requests waiting on a group, woken when this broker changes it. */
  private readonly waiter: Waiter;

  constructor(
    private readonly meta: MetaStore,
    private readonly cfg: CoordinatorConfig,
    private readonly closing: AbortSignal,
    private readonly now: () => number = Date.now,
  ) {
    this.waiter = new Waiter(closing);
  }

  /** Wakes this broker's requests waiting on a group (its record changed here). */
  private wake(groupId: string): void {
    this.waiter.wake(groupId);
  }

  /** Resolves when this broker changes the group, after `ms`, or when the broker closes. */
  private async changed(groupId: string, ms: number): Promise<void> {
    await this.waiter.wait([groupId], ms);
  }

  /**
   * The compare-and-set loop: reads the record, applies what time has decided
   * (`tick`), then `fn`, then `tick` again (a transition may make a deadline
   * due at once), and writes the result if it differs from what was read.
   */
  private tick(
    groupId: string,
    g: GroupRecord,
    now: number,
    heartbeats: Map<string, number>,
  ): GroupRecord {
    if (g.type === "share") {
      return tickShare(g, now, heartbeats, this.cfg.share ?? DEFAULT_SHARE_GROUP_CONFIG);
    }
    if (g.type === "streams") return tickStreams(g, now, heartbeats);
    return g.type === "classic"
      ? tick(g, now, heartbeats, this.cfg)
      : tickConsumer(g, now, heartbeats, this.consumerCfg(groupId));
  }

  /** The KIP-848 settings of one group: its own group configs over the broker's. */
  private consumerCfg(groupId: string): ConsumerGroupConfig {
    const base = this.cfg.consumer ?? DEFAULT_CONSUMER_GROUP_CONFIG;
    const own = base.forGroup?.(groupId);
    return own ? { ...base, ...own } : base;
  }

  /**
   * Forgets the heartbeat rows of those of `ids` that `g` (the group as just
   * written or read; null when there is none) does not count as members:
   * members that left, expired, were fenced or replaced, and ids that
   * heartbeated without being members. Kafka drops a member's session with
   * the member; here the row would otherwise outlive it. Best effort: a
   * failure leaves rows that nothing reads but the sweep.
   */
  private async forget(groupId: string, g: GroupRecord | null, ids: Iterable<string>) {
    const keep = memberIds(g);
    const gone = [...new Set(ids)].filter((id) => id !== "" && !keep.has(id));
    if (gone.length === 0) return;
    try {
      await this.meta.forgetMembers(groupId, gone);
    } catch (e) {
      log.warn("Group {groupId}: could not forget heartbeats of {members}: {error}", {
        groupId,
        members: gone,
        error: e,
      });
    }
  }

  private async update<T>(
    groupId: string,
    fn: (g: GroupRecord | null, now: number) => { group: GroupRecord | null; result: T },
  ): Promise<{ group: GroupRecord | null; result: T }> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const stored = await this.meta.getGroup(groupId);
      const parsed = stored ? parseGroup(groupId, stored.state) : null;
      if (stored && !parsed) {
        // Never overwrite a record this broker does not understand (a newer version's?).
        throw new KafkaError(
          ErrorCode.COORDINATOR_NOT_AVAILABLE,
          `Group ${JSON.stringify(groupId)} has a record this broker cannot read`,
        );
      }
      const heartbeats = parsed && parsed.members.length > 0
        ? await this.meta.memberHeartbeats(groupId)
        : NO_HEARTBEATS;
      const now = this.now();
      const before = parsed ? this.tick(groupId, parsed, now, heartbeats) : null;
      const out = fn(before, now);
      const group = out.group ? this.tick(groupId, out.group, now, heartbeats) : null;
      if (group === null) return { group, result: out.result };
      const text = JSON.stringify(group);
      if (stored && text === stored.state) return { group, result: out.result };
      const version = await this.meta.putGroup(groupId, stored?.version ?? 0, text);
      if (version !== null) {
        logTransition(groupId, parsed, group);
        this.wake(groupId);
        // Members this transition removed (left, expired, fenced, replaced) need no heartbeat row.
        await this.forget(groupId, group, memberIds(parsed));
        return { group, result: out.result };
      }
      // Another broker changed the group first: read it again (with a little jitter).
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
    }
    throw new KafkaError(
      ErrorCode.COORDINATOR_NOT_AVAILABLE,
      `Group ${
        JSON.stringify(groupId)
      } kept changing under ${MAX_CAS_ATTEMPTS} attempts to update it`,
    );
  }

  /** The group as stored now (time-driven transitions applied and written). */
  async current(groupId: string): Promise<GroupRecord | null> {
    return (await this.update(groupId, (g) => ({ group: g, result: null }))).group;
  }

  /** The classic group as stored now; null when there is none (or it is a KIP-848 group). */
  private async currentClassic(groupId: string): Promise<ClassicGroup | null> {
    const g = await this.current(groupId);
    return g?.type === "classic" ? g : null;
  }

  /** JoinGroup: joins, then waits at the barrier until the join phase ends. */
  async join(groupId: string, input: JoinInput): Promise<JoinResponse> {
    const first = await this.update(groupId, (g, now) => {
      const c = asClassic(g);
      if (c === "consumer") {
        // A KIP-848 group with members: classic members cannot join it here.
        return {
          group: g,
          result: joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, input.memberId),
        };
      }
      const r = join(c, input, now, this.cfg);
      return { group: r.group ?? g, result: r.outcome };
    });
    const outcome = first.result;
    if (outcome.kind === "respond") return outcome.response;
    let g = first.group?.type === "classic" ? first.group : null;
    // The barrier ends by the rebalance timeout (applied by tick); this bound only guards
    // against a record that never moves, and answers with a retriable error.
    const timeout = Math.max(input.rebalanceTimeoutMs, g ? rebalanceTimeoutMs(g) : 0);
    const deadline = this.now() + timeout + this.cfg.initialRebalanceDelayMs + 30_000;
    for (;;) {
      const r = joinResult(g, outcome);
      if (r) return r;
      if (this.closing.aborted || this.now() > deadline) {
        // The client finds the coordinator again and rejoins with its member id.
        return {
          errorCode: this.closing.aborted
            ? ErrorCode.NOT_COORDINATOR
            : ErrorCode.REBALANCE_IN_PROGRESS,
          generationId: -1,
          protocolType: null,
          protocolName: null,
          leader: "",
          skipAssignment: false,
          memberId: outcome.memberId,
          members: [],
        };
      }
      await this.changed(groupId, this.cfg.pollMs);
      g = await this.currentClassic(groupId);
    }
  }

  /** SyncGroup: the leader's assignment is stored; followers wait for it. */
  async sync(groupId: string, input: SyncInput): Promise<SyncResponse> {
    const first = await this.update(groupId, (g, now) => {
      const c = asClassic(g);
      const r = sync(c === "consumer" ? null : c, input, now);
      return { group: r.group ?? g, result: r.outcome };
    });
    const outcome = first.result;
    if (outcome.kind === "respond") return outcome.response;
    let g = first.group?.type === "classic" ? first.group : null;
    const deadline = this.now() + (g ? rebalanceTimeoutMs(g) : 0) + 30_000;
    let touched = this.now();
    let touchedAny = false;
    for (;;) {
      const r = syncResult(g, outcome);
      if (r) {
        // Removed while parked here: the row written meanwhile belongs to no member.
        if (touchedAny) await this.forget(groupId, g, [outcome.memberId]);
        return r;
      }
      if (this.closing.aborted || this.now() > deadline) {
        return {
          errorCode: this.closing.aborted
            ? ErrorCode.NOT_COORDINATOR
            : ErrorCode.REBALANCE_IN_PROGRESS,
          protocolType: null,
          protocolName: null,
          assignment: "",
        };
      }
      await this.changed(groupId, this.cfg.pollMs);
      if (this.now() - touched >= 1000) {
        // A member parked here is alive: its client is waiting on this broker.
        touched = this.now();
        touchedAny = true;
        await this.meta.touchMember(groupId, outcome.memberId, touched);
      }
      g = await this.currentClassic(groupId);
    }
  }

  /** Heartbeat: records liveness, then answers from the record. */
  async heartbeat(
    groupId: string,
    input: { memberId: string; groupInstanceId: string | null; generationId: number },
  ): Promise<number> {
    if (input.memberId !== "") await this.meta.touchMember(groupId, input.memberId, this.now());
    const { group, result } = await this.update(groupId, (g) => {
      const c = asClassic(g);
      return { group: g, result: heartbeat(c === "consumer" ? null : c, input) };
    });
    // An unknown id (expired, replaced, or a group that is gone) just wrote a row: drop it.
    await this.forget(groupId, group, [input.memberId]);
    return result;
  }

  /** LeaveGroup: removes members (one, or a batch from v3); an error code per member. */
  async leave(
    groupId: string,
    members: { memberId: string; groupInstanceId: string | null }[],
  ): Promise<number[]> {
    return (await this.update(groupId, (g, now) => {
      const c = asClassic(g);
      const r = leave(c === "consumer" ? null : c, members, now, this.cfg);
      return { group: r.group ?? g, result: r.results };
    })).result;
  }

  /**
   * Checks an OffsetCommit against the group (creating an empty group for a
   * commit from outside any group) and stores the offsets when allowed.
   * Returns the error code for every partition.
   */
  async commitOffsets(
    groupId: string,
    input: {
      generationId: number;
      memberId: string;
      groupInstanceId: string | null;
      apiVersion: number;
    },
    offsets: CommittedOffset[],
  ): Promise<number> {
    const { result } = await this.update(groupId, (g, now) => {
      if (g === null) {
        if (input.generationId < 0) return { group: emptyGroup(now), result: ErrorCode.NONE };
        // v9+ says so plainly; older clients expect ILLEGAL_GENERATION (as Kafka answers).
        return {
          group: null,
          result: input.apiVersion >= 9
            ? ErrorCode.GROUP_ID_NOT_FOUND
            : ErrorCode.ILLEGAL_GENERATION,
        };
      }
      if (g.type === "share") return { group: g, result: ErrorCode.GROUP_ID_NOT_FOUND };
      return {
        group: g,
        result: g.type === "classic"
          ? validateOffsetCommit(g, input)
          : g.type === "streams"
          ? validateStreamsCommit(g, input)
          : validateConsumerCommit(g, input),
      };
    });
    if (result === ErrorCode.NONE && offsets.length > 0) {
      await this.meta.commitOffsets(groupId, offsets);
    }
    return result;
  }

  /**
   * OffsetFetch v9 from a KIP-848 member: its epoch must be current
   * (STALE_MEMBER_EPOCH otherwise). Others need no check.
   */
  async validateFetch(
    groupId: string,
    memberId: string | null,
    memberEpoch: number,
  ): Promise<number> {
    if (memberId === null) return ErrorCode.NONE;
    const g = await this.current(groupId);
    if (g === null) return memberEpoch >= 0 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE;
    if (g.type === "streams") return validateStreamsFetch(g, { memberId, memberEpoch });
    return g.type === "consumer"
      ? validateConsumerFetch(g, { memberId, memberEpoch })
      : ErrorCode.NONE;
  }

  /** Committed offsets of a group (all, or the partitions asked for). */
  fetchOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[] | null,
  ): Promise<CommittedOffset[]> {
    return this.meta.fetchOffsets(groupId, partitions);
  }

  /** Every group with its record (time-driven transitions not applied). */
  async list(): Promise<GroupView[]> {
    const out: GroupView[] = [];
    for (const { groupId, group } of await this.meta.listGroups()) {
      const g = parseGroup(groupId, group.state);
      if (g) out.push({ groupId, group: g });
    }
    return out;
  }

  /** DeleteGroups for one group: only an Empty group goes, with its offsets. */
  async delete(groupId: string): Promise<number> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const g = await this.current(groupId);
      if (g === null) return ErrorCode.GROUP_ID_NOT_FOUND;
      if (g.members.length > 0 || (g.type === "classic" && g.state !== "Empty")) {
        return ErrorCode.NON_EMPTY_GROUP;
      }
      const stored = await this.meta.getGroup(groupId);
      if (!stored) return ErrorCode.GROUP_ID_NOT_FOUND;
      if (stored.state !== JSON.stringify(g)) continue;
      if (await this.meta.putGroup(groupId, stored.version, null) !== null) {
        if (g.type === "share") await this.deleteShareStates(groupId);
        log.info("Group {groupId} deleted", { groupId });
        this.wake(groupId);
        return ErrorCode.NONE;
      }
    }
    return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  /** Removes a deleted share group's share-partition records (KIP-932: its state goes with it). */
  private async deleteShareStates(groupId: string): Promise<void> {
    for (const { topicId, partition, share } of await this.meta.listShareStates(groupId)) {
      await this.meta.putShareState(groupId, topicId, partition, share.version, null);
    }
  }

  /**
   * OffsetDelete: removes committed offsets of partitions the group no longer
   * consumes. Returns a group-level error, or an error per partition
   * (GROUP_SUBSCRIBED_TO_TOPIC for topics its members subscribe to).
   */
  async deleteOffsets(
    groupId: string,
    partitions: { topic: string; partition: number }[],
  ): Promise<{ errorCode: number; partitions: number[] }> {
    const g = await this.current(groupId);
    if (g === null) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let subscribed: Set<string> | null = new Set();
    if (g.members.length > 0) {
      if (g.type === "classic" && g.protocolType !== "consumer") {
        return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
      }
      subscribed = groupSubscriptions(g);
    }
    // Unreadable subscriptions of a consumer group: assume every topic is in use (as Kafka does).
    const codes = partitions.map((p) =>
      subscribed === null || subscribed.has(p.topic)
        ? ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC
        : ErrorCode.NONE
    );
    const removable = partitions.filter((_, i) => codes[i] === ErrorCode.NONE);
    if (removable.length > 0) await this.meta.deleteOffsets(groupId, removable);
    return { errorCode: ErrorCode.NONE, partitions: codes };
  }

  /**
   * ConsumerGroupHeartbeat (KIP-848): joins, heartbeats, reconciles or
   * leaves. `loadTopics` gives the metadata of the named topics (or of every
   * topic, for regular-expression subscriptions).
   */
  async consumerHeartbeat(
    groupId: string,
    input: ConsumerHeartbeatInput,
    loadTopics: (names: string[] | "all") => Promise<Map<string, TopicMeta>>,
  ): Promise<ConsumerHeartbeatResult> {
    const seen = await this.meta.getGroup(groupId);
    const g = seen ? parseGroup(groupId, seen.state) : null;
    const names = new Set(input.subscribedTopicNames ?? []);
    let regex = input.subscribedTopicRegex !== null && input.subscribedTopicRegex !== "";
    if (g?.type === "consumer") {
      for (const m of g.members) {
        for (const n of m.subscribedTopicNames) names.add(n);
        if (m.subscribedTopicRegex) regex = true;
      }
    }
    const topics = await loadTopics(regex ? "all" : [...names]);
    const touched = input.memberEpoch > 0 && input.memberId !== "";
    if (touched) await this.meta.touchMember(groupId, input.memberId, this.now());
    const { group, result } = await this.update(groupId, (g, now) => {
      let current: ConsumerGroup | null = null;
      if (g?.type === "consumer") current = g;
      else if (g?.type === "share" || g?.type === "streams") {
        return {
          group: g,
          result: {
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: `Group ${
              JSON.stringify(groupId)
            } is a ${g.type} group, not a consumer group`,
            memberId: input.memberId || null,
            memberEpoch: -1,
            heartbeatIntervalMs: 0,
            assignment: null,
          },
        };
      } else if (g !== null && (g.members.length > 0 || g.pending.length > 0)) {
        return {
          group: g,
          result: {
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: `Group ${
              JSON.stringify(groupId)
            } is a classic group with members, not a consumer group`,
            memberId: input.memberId || null,
            memberEpoch: -1,
            heartbeatIntervalMs: 0,
            assignment: null,
          },
        };
      }
      const r = consumerHeartbeat(current, input, topics, now, this.consumerCfg(groupId));
      return { group: r.group ?? g, result: r.result };
    });
    // A member fenced or expired (UNKNOWN_MEMBER_ID) just wrote a row: drop it.
    if (touched) await this.forget(groupId, group, [input.memberId]);
    return result;
  }

  /**
   * ShareGroupHeartbeat (KIP-932): joins, heartbeats or leaves a share group.
   * Returns the answer and the members that left in this transition (left,
   * or expired), whose acquired records the caller releases.
   */
  async shareHeartbeat(
    groupId: string,
    input: ShareHeartbeatInput,
    loadTopics: (names: string[]) => Promise<Map<string, TopicMeta>>,
  ): Promise<{ result: ShareHeartbeatResult; departed: string[] }> {
    const seen = await this.meta.getGroup(groupId);
    const g = seen ? parseGroup(groupId, seen.state) : null;
    const names = new Set(input.subscribedTopicNames ?? []);
    if (g?.type === "share") { for (const n of shareSubscriptions(g)) names.add(n); }
    const topics = await loadTopics([...names]);
    const touched = input.memberEpoch > 0;
    if (touched) await this.meta.touchMember(groupId, input.memberId, this.now());
    let departed: string[] = [];
    const { group, result } = await this.update(groupId, (g, now) => {
      if (g !== null && g.type !== "share" && g.members.length > 0) {
        return {
          group: g,
          result: {
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: `Group ${JSON.stringify(groupId)} is not a share group`,
            memberId: input.memberId || null,
            memberEpoch: -1,
            heartbeatIntervalMs: 0,
            assignment: null,
          },
        };
      }
      const current = g?.type === "share" ? g : null;
      const r = shareHeartbeat(
        current,
        input,
        topics,
        now,
        this.cfg.share ?? DEFAULT_SHARE_GROUP_CONFIG,
      );
      departed = departedMembers(current, r.group);
      return { group: r.group ?? g, result: r.result };
    });
    if (touched) await this.forget(groupId, group, [input.memberId]);
    return { result, departed };
  }

  /**
   * StreamsGroupHeartbeat (KIP-1071): joins, heartbeats, reconciles or leaves
   * a streams group. `settings` are the group's streams settings (its group
   * configs over Kafka's defaults); `loadTopics` gives the metadata of the
   * named topics (or of every topic, for a topology with source regexes).
   */
  async streamsHeartbeat(
    groupId: string,
    input: StreamsHeartbeatInput,
    settings: StreamsGroupConfig,
    loadTopics: (g: StreamsGroup | null) => Promise<Map<string, TopicMeta>>,
  ): Promise<{ result: StreamsHeartbeatResult; group: StreamsGroup | null }> {
    const seen = await this.meta.getGroup(groupId);
    const g0 = seen ? parseGroup(groupId, seen.state) : null;
    const topics = await loadTopics(g0?.type === "streams" ? g0 : null);
    const touched = input.memberEpoch > 0;
    if (touched) await this.meta.touchMember(groupId, input.memberId, this.now());
    const { group, result } = await this.update(groupId, (g, now) => {
      if (g !== null && g.type !== "streams" && g.members.length > 0) {
        return {
          group: g,
          result: {
            errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
            errorMessage: `Group ${
              JSON.stringify(groupId)
            } is a ${g.type} group, not a streams group`,
            memberId: input.memberId,
            memberEpoch: -1,
            heartbeatIntervalMs: 0,
            status: null,
            tasks: null,
            endpointInformationEpoch: 0,
            partitionsByUserEndpoint: null,
          },
        };
      }
      const current = g?.type === "streams" ? g : null;
      const r = streamsHeartbeat(current, input, topics, now, settings);
      return { group: r.group ?? g, result: r.result };
    });
    if (touched) await this.forget(groupId, group, [input.memberId]);
    return { result, group: group?.type === "streams" ? group : null };
  }

  /**
   * Applies due time-driven transitions to every group that has members or
   * pending joins. Brokers run this every second; any broker's sweep will do.
   */
  async sweep(): Promise<number> {
    let changed = 0;
    const listedAt = this.now();
    for (const { groupId, group } of await this.list()) {
      if (group.members.length === 0 && (group.type !== "classic" || group.pending.length === 0)) {
        continue;
      }
      const heartbeats = await this.meta.memberHeartbeats(groupId);
      // Rows of no member, older than the record read: left by a broker that stopped between
      // a transition and forgetting them.
      await this.forget(
        groupId,
        group,
        [...heartbeats].filter(([, atMs]) => atMs < listedAt).map(([id]) => id),
      );
      const after = this.tick(groupId, group, this.now(), heartbeats);
      if (JSON.stringify(after) === JSON.stringify(group)) continue;
      await this.current(groupId);
      changed++;
    }
    return changed;
  }
}

function logTransition(groupId: string, before: GroupRecord | null, after: GroupRecord): void {
  if (after.type === "consumer" || after.type === "share" || after.type === "streams") {
    if (before?.type === after.type && before.groupEpoch === after.groupEpoch) return;
    log.info(
      `${
        after.type === "share" ? "Share" : after.type === "streams" ? "Streams" : "Consumer"
      } group {groupId}: epoch {epoch}, {members} members`,
      {
        groupId,
        epoch: after.groupEpoch,
        members: after.members.length,
      },
    );
    return;
  }
  if (
    before?.type === "classic" && before.state === after.state &&
    before.generationId === after.generationId
  ) return;
  log.info("Group {groupId}: {from} -> {to}, generation {generation}, {members} members", {
    groupId,
    from: before?.type === "classic" ? before.state : "(new)",
    to: after.state,
    generation: after.generationId,
    members: after.members.length,
  });
}
