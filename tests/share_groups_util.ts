/**
 * What the share-group client tests share: the share-consume lines of the
 * drivers (tests/clients/CONTRACT.md "Share group members"), running one
 * share-consume, and setting a share group's configs (KIP-932).
 */

import assert from "node:assert/strict";
import { INCREMENTAL_ALTER_CONFIGS_API } from "../protocol/generated/mod.ts";
import type { WireClient } from "./wire_client.ts";
import { type ClientDriver, type Run, runAny } from "./client_drivers.ts";

/** Kafka's smallest share.record.lock.duration.ms (group.share.min.record.lock.duration.ms). */
export const MIN_LOCK_MS = 15_000;

export interface ShareLine {
  p?: number;
  o?: number;
  dc?: number;
  at?: number;
  acked?: [number, number][];
  type?: string;
  done?: boolean;
}

export function shareLines(stdout: string): ShareLine[] {
  return stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** Sets share group configs (KIP-932) on a GROUP resource with IncrementalAlterConfigs. */
export async function setGroupConfigs(
  c: WireClient,
  group: string,
  configs: Record<string, string>,
): Promise<void> {
  const set = await c.call(INCREMENTAL_ALTER_CONFIGS_API, 1, {
    resources: [{
      resourceType: 32,
      resourceName: group,
      configs: Object.entries(configs).map(([name, value]) => ({
        name,
        configOperation: 0,
        value,
      })),
    }],
    validateOnly: false,
  });
  assert.equal(set.responses[0].errorCode, 0, set.responses[0].errorMessage ?? "");
}

/** One share-consume run of a driver. */
export function shareConsumer(
  d: ClientDriver,
  bootstrap: string,
  topic: string,
  group: string,
  extra: string[],
  timeoutMs = 60_000,
): Run {
  return runAny(d, [
    "share-consume",
    "--bootstrap",
    bootstrap,
    "--topic",
    topic,
    "--group",
    group,
    "--timeout-ms",
    String(timeoutMs),
    ...extra,
  ], timeoutMs + 40_000);
}
