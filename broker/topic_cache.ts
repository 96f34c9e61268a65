/**
 * A short-lived cache of topic metadata. Topics change rarely, but another
 * broker may create or delete one at any time, so entries expire quickly; a
 * stale entry only costs the client a retriable error and a metadata refresh.
 *
 * For the same reason an expired entry still answers while the meta store is
 * failing: a produce or fetch to a topic we knew a moment ago carries on, and
 * the store failure surfaces where it matters (the commit, the read).
 */

import type { MetaStore, TopicInfo } from "../stores/types.ts";

const TTL_MS = 2000;

/** Topic lookups by name and by id. */
export class TopicCache {
  private byName = new Map<string, { info: TopicInfo | null; at: number }>();
  private byId = new Map<string, { info: TopicInfo | null; at: number }>();
  private lastListing: TopicInfo[] | null = null;

  constructor(private readonly meta: MetaStore) {}

  /** The cached topic, if fresh; undefined when the store must be asked. */
  peek(name: string): TopicInfo | null | undefined {
    const e = this.byName.get(name);
    return e && performance.now() - e.at < TTL_MS ? e.info : undefined;
  }

  async byTopicName(name: string): Promise<TopicInfo | null> {
    const hit = this.peek(name);
    if (hit !== undefined) return hit;
    let info: TopicInfo | null;
    try {
      info = await this.meta.getTopic(name);
    } catch (e) {
      const stale = this.byName.get(name);
      if (stale) return stale.info;
      throw e;
    }
    this.remember(name, info);
    return info;
  }

  async byTopicId(id: string): Promise<TopicInfo | null> {
    const e = this.byId.get(id);
    if (e && performance.now() - e.at < TTL_MS) return e.info;
    let info: TopicInfo | null;
    try {
      info = await this.meta.getTopicById(id);
    } catch (err) {
      if (e) return e.info;
      throw err;
    }
    if (info) this.remember(info.name, info);
    return info;
  }

  /**
   * Every topic. The last listing answers while the meta store fails, so a
   * Metadata request for all topics never tells clients that every topic has
   * gone (a pattern subscription would drop its partitions).
   */
  async all(): Promise<TopicInfo[]> {
    try {
      this.lastListing = await this.meta.listTopics();
    } catch (e) {
      if (this.lastListing === null) throw e;
    }
    return this.lastListing;
  }

  /**
   * Caches a topic. Misses are not cached: a topic another broker just created
   * must be visible at once, or clients that resend whole requests on any
   * partition error (@platformatic/kafka) duplicate the partitions that did succeed.
   */
  remember(name: string, info: TopicInfo | null): void {
    if (!info) {
      this.byName.delete(name);
      return;
    }
    const at = performance.now();
    this.byName.set(name, { info, at });
    this.byId.set(info.id, { info, at });
  }

  forget(name: string): void {
    const e = this.byName.get(name);
    if (e?.info) this.byId.delete(e.info.id);
    this.byName.delete(name);
  }
}
