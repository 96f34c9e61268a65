/** Random identifiers: topic ids (KIP-516) and cluster ids, in Kafka's base64 UUID form. */

import { uuidToString, ZERO_UUID } from "../protocol/reader.ts";

/** A random version-4 UUID that is neither zero nor Kafka's reserved metadata topic id. */
export function newTopicId(): string {
  for (;;) {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const s = uuidToString(b);
    if (s !== ZERO_UUID && s !== "AAAAAAAAAAAAAAAAAAAAAQ") return s;
  }
}

/** A cluster id in the same form Kafka's storage tool prints. */
export function newClusterId(): string {
  return newTopicId();
}
