/**
 * The broker registry, for the individually addressable cluster shape: each
 * broker holds a lease in the meta store (renewed well before it ends), and
 * Metadata lists the brokers whose lease is live. A broker that dies simply
 * stops renewing; clients that lose it refresh metadata and move on.
 *
 * In the load-balanced shape (the default) every broker answers with the one
 * shared advertised address and node id, so clients see a single broker.
 */

import { getLogger } from "@logtape/logtape";
import type { BrokerRegistration, MetaStore } from "../stores/types.ts";

const log = getLogger(["skb", "registry"]);

/** How long a lease lasts, and how often it is renewed. */
export const LEASE_MS = 10_000;
const RENEW_MS = 3_000;

/** Who this broker is in the registry. */
export interface SelfRegistration {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** Keeps this broker's lease and a recent list of live brokers. */
export class BrokerRegistry {
  private timer: ReturnType<typeof setInterval> | null = null;
  private live: BrokerRegistration[] = [];
  private healthy = false;

  constructor(private readonly meta: MetaStore, private readonly self: SelfRegistration) {}

  /** Registers now (fails if the store cannot take it), then renews in the background. */
  async start(): Promise<void> {
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
    this.live = await this.meta.liveBrokers(now);
    this.healthy = true;
  }

  /** Live brokers as last read, always including this one. */
  brokers(): BrokerRegistration[] {
    if (this.live.some((b) => b.nodeId === this.self.nodeId)) return this.live;
    return [...this.live, { ...this.self, expiresAtMs: Date.now() + LEASE_MS }]
      .sort((a, b) => a.nodeId - b.nodeId);
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
