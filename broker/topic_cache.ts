/**
 * A short-lived cache of topic metadata. Topics change rarely, but another
 * broker may create or delete one at any time, so entries expire quickly; a
 * stale entry only costs the client a retriable error and a metadata refresh.
 */

import type { MetaStore, TopicInfo } from "../stores/types.ts";

const TTL_MS = 2000;

/** Topic lookups by name and by id. */
export class TopicCache {
  private byName = new Map<string, { info: TopicInfo | null; at: number }>();
  private byId = new Map<string, { info: TopicInfo | null; at: number }>();

  constructor(private readonly meta: MetaStore) {}

  /** The cached topic, if fresh; undefined when the store must be asked. */
  peek(name: string): TopicInfo | null | undefined {
    const e = this.byName.get(name);
    return e && performance.now() - e.at < TTL_MS ? e.info : undefined;
  }

  async byTopicName(name: string): Promise<TopicInfo | null> {
    const hit = this.peek(name);
    if (hit !== undefined) return hit;
    const info = await this.meta.getTopic(name);
    this.remember(name, info);
    return info;
  }

  async byTopicId(id: string): Promise<TopicInfo | null> {
    const e = this.byId.get(id);
    if (e && performance.now() - e.at < TTL_MS) return e.info;
    const info = await this.meta.getTopicById(id);
    if (info) this.remember(info.name, info);
    return info;
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
