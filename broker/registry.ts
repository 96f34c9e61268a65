/**
 * The broker registry, for the individually addressable cluster shape: each
 * broker holds a lease in the meta store (renewed well before it ends), and
 * Metadata lists the brokers whose lease is live. A broker that dies simply
 * stops renewing; clients that lose it refresh metadata and move on.
 *
 * In the load-balanced shape (the default) every broker answers with the one
 * shared advertised address and node id, so clients see a single broker.
 *
 * A broker with several listeners is reached at a different address on each,
 * and Kafka lists to each client the endpoints of the listener it came
 * through, leaving out brokers without that listener. The lease record keeps
 * its one address (the PLAINTEXT listener's when there is one, else the
 * first's: older brokers list it as the broker's PLAINTEXT address); every
 * listener's advertised endpoint is kept beside it as the configs of entity
 * LISTENER_ENTITY named by the node id, written at start and read back at
 * each renewal.
 */

import { getLogger } from "@logtape/logtape";
import type { BrokerRegistration, MetaStore } from "../stores/types.ts";

const log = getLogger(["skb", "registry"]);

/** How long a lease lasts, and how often it is renewed. */
export const LEASE_MS = 10_000;
const RENEW_MS = 3_000;

/** Where each broker's listeners are advertised: listener name to `host:port`. */
export const LISTENER_ENTITY = "broker-listeners";

/** A listener's advertised endpoint. */
export interface Endpoint {
  host: string;
  port: number;
}

/** Who this broker is in the registry. */
export interface SelfRegistration {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /** Every listener's advertised endpoint, by listener name. */
  endpoints?: Record<string, Endpoint>;
}

function encodeEndpoint(e: Endpoint): string {
  return e.host.includes(":") ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

function decodeEndpoint(s: string): Endpoint | null {
  const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(s);
  if (!m) return null;
  return { host: m[1].startsWith("[") ? m[1].slice(1, -1) : m[1], port: Number(m[2]) };
}

/** Keeps this broker's lease and a recent list of live brokers. */
export class BrokerRegistry {
  private timer: ReturnType<typeof setInterval> | null = null;
  private live: BrokerRegistration[] = [];
  private listeners = new Map<number, Record<string, Endpoint>>();
  private healthy = false;

  constructor(private readonly meta: MetaStore, private readonly self: SelfRegistration) {}

  /** Registers now (fails if the store cannot take it), then renews in the background. */
  async start(): Promise<void> {
    const mine = this.self.endpoints;
    if (mine !== undefined) {
      const name = String(this.self.nodeId);
      const [before] = await this.meta.entityConfigs(LISTENER_ENTITY, [name]);
      const changes: Record<string, string | null> = {};
      for (const k of Object.keys(before?.configs ?? {})) changes[k] = null;
      for (const [k, e] of Object.entries(mine)) changes[k] = encodeEndpoint(e);
      await this.meta.alterEntityConfigs(LISTENER_ENTITY, name, changes);
    }
    await this.renew();
    this.timer = setInterval(() => {
      this.renew().catch((e) => {
        this.healthy = false;
        log.warn("Lease renewal failed: {error}", { error: e });
      });
    }, RENEW_MS);
  }

  private async renew(): Promise<void> {
    const now = Date.now();
    await this.meta.registerBroker({ ...this.self, expiresAtMs: now + LEASE_MS });
    const live = await this.meta.liveBrokers(now);
    const entities = await this.meta.entityConfigs(
      LISTENER_ENTITY,
      live.map((b) => String(b.nodeId)),
    );
    const listeners = new Map<number, Record<string, Endpoint>>();
    for (const e of entities) {
      const endpoints: Record<string, Endpoint> = {};
      for (const [k, v] of Object.entries(e.configs)) {
        const ep = decodeEndpoint(v);
        if (ep !== null) endpoints[k] = ep;
      }
      listeners.set(Number(e.name), endpoints);
    }
    this.live = live;
    this.listeners = listeners;
    this.healthy = true;
  }

  /** Live brokers as last read, always including this one. */
  brokers(): BrokerRegistration[] {
    if (this.live.some((b) => b.nodeId === this.self.nodeId)) return this.live;
    return [...this.live, { ...this.self, expiresAtMs: Date.now() + LEASE_MS }]
      .sort((a, b) => a.nodeId - b.nodeId);
  }

  /**
   * A broker's endpoint on a listener: as it advertised it, or for a broker
   * that recorded no listeners (an older one, PLAINTEXT only) its lease
   * address on PLAINTEXT; null when it has no such listener.
   */
  endpoint(b: BrokerRegistration, listener: string): Endpoint | null {
    const mine = b.nodeId === this.self.nodeId ? this.self.endpoints : undefined;
    const endpoints = mine ?? this.listeners.get(b.nodeId);
    if (endpoints === undefined) {
      return listener === "PLAINTEXT" ? { host: b.host, port: b.port } : null;
    }
    return endpoints[listener] ?? null;
  }

  /** True while the last renewal succeeded (readiness). */
  get registered(): boolean {
    return this.healthy;
  }

  /** Ends the lease so clients stop being sent here. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.meta.unregisterBroker(this.self.nodeId).catch(() => {});
  }
}
