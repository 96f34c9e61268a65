/**
 * The topology of a streams group (KIP-1071) and how the broker configures
 * it against the topics that exist: what Kafka's group coordinator does in
 * `InternalTopicManager`, `RepartitionTopics`, `CopartitionedTopicsEnforcer`
 * and `ChangelogTopics`. Pure: the caller gives the topics' metadata.
 *
 * - Every source topic must exist (and every source regex match a topic), or
 *   the group reports MISSING_SOURCE_TOPICS and assigns nothing.
 * - A repartition topic without a fixed partition count gets the largest
 *   partition count of the source topics of the subtopologies that write to
 *   it (repeated until nothing changes, since those may be repartition topics
 *   themselves).
 * - Topics of a copartition group must have equal partition counts: the
 *   external ones as they are (INCORRECTLY_PARTITIONED_TOPICS otherwise), the
 *   repartition ones with no fixed count are set to match.
 * - A subtopology has as many tasks as its largest input topic has
 *   partitions; its changelog topics get that many partitions.
 * - Internal topics that do not exist are to be created (with the configs the
 *   topology gives, changelogs compacted unless it says otherwise); until they
 *   exist the group reports MISSING_INTERNAL_TOPICS. An existing internal
 *   topic with another partition count is INCORRECTLY_PARTITIONED_TOPICS.
 */

/** An internal topic as the topology names it. */
export interface StreamsTopicInfo {
  name: string;
  /** 0: decided by the broker (always 0 for changelog topics). */
  partitions: number;
  /** 0: the broker's default. */
  replicationFactor: number;
  topicConfigs: [string, string][];
}

/** Topics that must be copartitioned, as indexes into the subtopology's arrays. */
export interface CopartitionGroup {
  sourceTopics: number[];
  sourceTopicRegex: number[];
  repartitionSourceTopics: number[];
}

/** One subtopology as the member sent it. */
export interface StreamsSubtopology {
  subtopologyId: string;
  sourceTopics: string[];
  sourceTopicRegex: string[];
  stateChangelogTopics: StreamsTopicInfo[];
  repartitionSinkTopics: string[];
  repartitionSourceTopics: StreamsTopicInfo[];
  copartitionGroups: CopartitionGroup[];
}

/** The topology of a streams application, with its epoch. */
export interface StreamsTopology {
  epoch: number;
  subtopologies: StreamsSubtopology[];
}

/** Status codes of StreamsGroupHeartbeat (KIP-1071). */
export const StreamsStatus = {
  STALE_TOPOLOGY: 0,
  MISSING_SOURCE_TOPICS: 1,
  INCORRECTLY_PARTITIONED_TOPICS: 2,
  MISSING_INTERNAL_TOPICS: 3,
  SHUTDOWN_APPLICATION: 4,
  ASSIGNMENT_DELAYED: 5,
  MISSING_CLIENT_TAGS: 6,
} as const;

/** A subtopology once its partition counts are known. */
export interface ConfiguredSubtopology {
  subtopologyId: string;
  numTasks: number;
  /** External source topics, regular expressions resolved. */
  sourceTopics: string[];
  repartitionSinkTopics: string[];
  /** With the partition counts decided. */
  repartitionSourceTopics: StreamsTopicInfo[];
  stateChangelogTopics: StreamsTopicInfo[];
}

/** A topic the broker must create for the group. */
export interface InternalTopicToCreate {
  name: string;
  partitions: number;
  /** -1: the broker's default. */
  replicationFactor: number;
  configs: Record<string, string>;
}

/** The outcome of configuring a topology. */
export interface ConfiguredTopology {
  epoch: number;
  /** Null when source topics are missing or the partitioning is wrong. */
  subtopologies: ConfiguredSubtopology[] | null;
  /** Internal topics that do not exist yet. */
  toCreate: InternalTopicToCreate[];
  /** What keeps the topology from being ready; null when it is ready. */
  status: { code: number; detail: string } | null;
}

/** Whether tasks can be assigned: every topic present and partitioned as required. */
export function isReady(c: ConfiguredTopology | null): boolean {
  return c !== null && c.subtopologies !== null && c.status === null;
}

class TopicConfigurationError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** Java's regular expressions as JavaScript ones, matching whole topic names. */
export function topicRegex(pattern: string): RegExp | null {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return null;
  }
}

function summarize(names: Iterable<string>): string {
  return `[${[...names].sort().join(", ")}]`;
}

/** The external source topics of a subtopology: named ones and those its regexes match. */
function resolvedSources(s: StreamsSubtopology, topicNames: string[]): string[] {
  const out = new Set(s.sourceTopics);
  for (const p of s.sourceTopicRegex) {
    const re = topicRegex(p);
    if (re) { for (const t of topicNames) if (re.test(t)) out.add(t); }
  }
  return [...out].sort();
}

/** Every topic name a topology reads or writes (regular expressions left out). */
export function topologyTopics(t: StreamsTopology): Set<string> {
  const out = new Set<string>();
  for (const s of t.subtopologies) {
    s.sourceTopics.forEach((x) => out.add(x));
    s.repartitionSinkTopics.forEach((x) => out.add(x));
    s.repartitionSourceTopics.forEach((x) => out.add(x.name));
    s.stateChangelogTopics.forEach((x) => out.add(x.name));
  }
  return out;
}

/** Whether the topology subscribes by regular expression (then every topic matters). */
export function usesRegex(t: StreamsTopology): boolean {
  return t.subtopologies.some((s) => s.sourceTopicRegex.length > 0);
}

/**
 * Configures a topology against the topics that exist (`partitionsOf`:
 * partition count by topic name).
 */
export function configureTopology(
  t: StreamsTopology,
  partitionsOf: Map<string, number>,
): ConfiguredTopology {
  const names = [...partitionsOf.keys()];
  try {
    const sources = new Map(
      t.subtopologies.map((s) => [s.subtopologyId, resolvedSources(s, names)]),
    );
    const missing = new Set<string>();
    for (const s of t.subtopologies) {
      for (const x of s.sourceTopics) if (!partitionsOf.has(x)) missing.add(x);
      for (const p of s.sourceTopicRegex) {
        const re = topicRegex(p);
        if (!re || !names.some((n) => re.test(n))) missing.add(`regex ${p}`);
      }
    }
    if (missing.size > 0) {
      throw new TopicConfigurationError(
        StreamsStatus.MISSING_SOURCE_TOPICS,
        `Source topics ${summarize(missing)} are missing.`,
      );
    }
    const decided = new Map<string, number>();
    const count = (topic: string): number | undefined =>
      partitionsOf.get(topic) ?? decided.get(topic);

    // Repartition topics: fixed counts first, then from the subtopologies writing to them.
    const repartition = new Map<string, StreamsTopicInfo>();
    for (const s of t.subtopologies) {
      for (const r of s.repartitionSourceTopics) {
        repartition.set(r.name, r);
        if (r.partitions > 0) decided.set(r.name, r.partitions);
      }
    }
    for (let progress = true; progress;) {
      progress = false;
      for (const [name] of repartition) {
        if (count(name) !== undefined) continue;
        let best: number | undefined;
        for (const s of t.subtopologies) {
          if (!s.repartitionSinkTopics.includes(name)) continue;
          const inputs = [
            ...sources.get(s.subtopologyId)!,
            ...s.repartitionSourceTopics.map((r) => r.name),
          ];
          for (const i of inputs) {
            const n = count(i);
            if (n !== undefined) best = Math.max(best ?? 0, n);
          }
        }
        if (best !== undefined) {
          decided.set(name, best);
          progress = true;
        }
      }
    }
    const unknown = [...repartition.keys()].filter((n) => count(n) === undefined);
    if (unknown.length > 0) {
      throw new TopicConfigurationError(
        StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS,
        `The number of partitions of repartition topics ${
          summarize(unknown)
        } cannot be derived from any source topic.`,
      );
    }

    // Copartitioning (joins): equal partition counts within each group.
    for (const s of t.subtopologies) {
      const src = s.sourceTopics;
      for (const g of s.copartitionGroups) {
        const external = new Set<string>(g.sourceTopics.map((i) => src[i]).filter((x) => x));
        for (const i of g.sourceTopicRegex) {
          const re = topicRegex(s.sourceTopicRegex[i] ?? "");
          if (re) { for (const n of names) if (re.test(n)) external.add(n); }
        }
        const internal = g.repartitionSourceTopics.map((i) => s.repartitionSourceTopics[i])
          .filter((x) => x);
        const fixed = internal.filter((r) => r.partitions > 0 || partitionsOf.has(r.name));
        const flexible = internal.filter((r) => !(r.partitions > 0 || partitionsOf.has(r.name)));
        const counts = new Map<string, number>();
        for (const e of external) counts.set(e, count(e)!);
        for (const r of fixed) counts.set(r.name, count(r.name)!);
        const distinct = new Set(counts.values());
        if (distinct.size > 1) {
          throw new TopicConfigurationError(
            StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS,
            `Following topics do not have the same number of partitions: ${
              summarize([...counts].map(([n, c]) => `${n}=${c}`))
            }`,
          );
        }
        const target = distinct.size === 1
          ? [...distinct][0]
          : Math.max(0, ...flexible.map((r) => count(r.name) ?? 0));
        for (const r of flexible) decided.set(r.name, target);
      }
    }

    const subtopologies: ConfiguredSubtopology[] = t.subtopologies.map((s) => {
      const inputs = [
        ...sources.get(s.subtopologyId)!,
        ...s.repartitionSourceTopics.map((r) => r.name),
      ];
      const numTasks = Math.max(0, ...inputs.map((i) => count(i) ?? 0));
      return {
        subtopologyId: s.subtopologyId,
        numTasks,
        sourceTopics: sources.get(s.subtopologyId)!,
        repartitionSinkTopics: [...s.repartitionSinkTopics],
        repartitionSourceTopics: s.repartitionSourceTopics.map((r) => ({
          ...r,
          partitions: count(r.name)!,
        })),
        stateChangelogTopics: s.stateChangelogTopics.map((c) => ({ ...c, partitions: numTasks })),
      };
    }).sort((a, b) =>
      a.subtopologyId < b.subtopologyId ? -1 : a.subtopologyId > b.subtopologyId ? 1 : 0
    );

    const toCreate: InternalTopicToCreate[] = [];
    const wrong: string[] = [];
    const seen = new Set<string>();
    for (const s of subtopologies) {
      const internal = [
        ...s.repartitionSourceTopics.map((r) => ({ r, changelog: false })),
        ...s.stateChangelogTopics.map((r) => ({ r, changelog: true })),
      ];
      for (const { r, changelog } of internal) {
        if (seen.has(r.name)) continue;
        seen.add(r.name);
        const existing = partitionsOf.get(r.name);
        if (existing !== undefined) {
          if (existing !== r.partitions) {
            wrong.push(
              `Existing topic ${r.name} has different number of partitions: expected ${r.partitions}, found ${existing}`,
            );
          }
          continue;
        }
        const configs = Object.fromEntries(r.topicConfigs);
        // A changelog is a table's log: only the latest value of a key matters (KIP-1071).
        if (changelog && configs["cleanup.policy"] === undefined) {
          configs["cleanup.policy"] = "compact";
        }
        toCreate.push({
          name: r.name,
          partitions: r.partitions,
          replicationFactor: r.replicationFactor > 0 ? r.replicationFactor : -1,
          configs,
        });
      }
    }
    if (wrong.length > 0) {
      throw new TopicConfigurationError(
        StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS,
        wrong.join("; "),
      );
    }
    return {
      epoch: t.epoch,
      subtopologies,
      toCreate: toCreate.sort((a, b) => a.name < b.name ? -1 : 1),
      status: toCreate.length > 0
        ? {
          code: StreamsStatus.MISSING_INTERNAL_TOPICS,
          detail: `Internal topics are missing: ${summarize(toCreate.map((x) => x.name))}`,
        }
        : null,
    };
  } catch (e) {
    if (!(e instanceof TopicConfigurationError)) throw e;
    return {
      epoch: t.epoch,
      subtopologies: null,
      toCreate: [],
      status: { code: e.code, detail: e.message },
    };
  }
}

/** Problems with a topology as sent, before any topic is looked at (null: none). */
export function topologyProblem(t: StreamsTopology): string | null {
  if (t.subtopologies.length === 0) return "Topology must have at least one subtopology.";
  const ids = new Set<string>();
  for (const s of t.subtopologies) {
    if (ids.has(s.subtopologyId)) {
      return `Subtopology ${JSON.stringify(s.subtopologyId)} appears twice in the topology.`;
    }
    ids.add(s.subtopologyId);
    if (
      s.sourceTopics.length === 0 && s.sourceTopicRegex.length === 0 &&
      s.repartitionSourceTopics.length === 0
    ) {
      return `Subtopology ${JSON.stringify(s.subtopologyId)} has no source topics.`;
    }
    for (const p of s.sourceTopicRegex) {
      if (!topicRegex(p)) {
        return `Source topic regex ${JSON.stringify(p)} of subtopology ${
          JSON.stringify(s.subtopologyId)
        } is not a valid regular expression.`;
      }
    }
    for (const g of s.copartitionGroups) {
      const bad = g.sourceTopics.some((i) => i < 0 || i >= s.sourceTopics.length) ||
        g.sourceTopicRegex.some((i) => i < 0 || i >= s.sourceTopicRegex.length) ||
        g.repartitionSourceTopics.some((i) => i < 0 || i >= s.repartitionSourceTopics.length);
      if (bad) {
        return `A copartition group of subtopology ${
          JSON.stringify(s.subtopologyId)
        } names a topic index out of range.`;
      }
    }
  }
  return null;
}

/** Whether a subtopology keeps state (has changelogs): only those get standby tasks. */
export function isStateful(s: ConfiguredSubtopology): boolean {
  return s.stateChangelogTopics.length > 0;
}
