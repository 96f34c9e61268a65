/**
 * Finds why a response refuses something, for the broker's info log: the
 * first error code other than NONE anywhere in it (top level, per topic, per
 * partition, per resource), with its error message when the response carries
 * one beside it, and how many more refusals the response holds.
 */

import { ErrorCode } from "../protocol/errors.ts";

/** Kafka's names of error codes, by number ("UNKNOWN_TOPIC_OR_PARTITION (3)"). */
const NAMES = new Map<number, string>(
  Object.entries(ErrorCode).map(([name, code]) => [code as number, name]),
);

/** A short reason naming the first refusal, or null when the response refuses nothing. */
export function refusal(response: unknown): string | null {
  let first: string | null = null;
  let count = 0;
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== "object" || v instanceof Uint8Array) return;
    if (Array.isArray(v)) {
      for (const item of v) visit(item);
      return;
    }
    const o = v as Record<string, unknown>;
    const code = o.errorCode;
    if (typeof code === "number" && code !== ErrorCode.NONE) {
      count++;
      if (first === null) {
        const where = typeof o.name === "string"
          ? ` for ${o.name}`
          : typeof o.partitionIndex === "number"
          ? ` for partition ${o.partitionIndex}`
          : typeof o.index === "number"
          ? ` for partition ${o.index}`
          : "";
        const message = typeof o.errorMessage === "string" ? `: ${o.errorMessage}` : "";
        first = `${NAMES.get(code) ?? "error"} (${code})${where}${message}`;
      }
    }
    for (const key in o) {
      const child = o[key];
      if (child !== null && typeof child === "object") visit(child);
    }
  };
  visit(response);
  if (first === null) return null;
  return count > 1 ? `${first} (and ${count - 1} more)` : first;
}
