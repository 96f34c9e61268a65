/** The share group APIs (KIP-932, KIP-1222): membership, description, fetching and acknowledging. */

import type { Handler } from "./types.ts";
import { shareGroupHeartbeat } from "./share_group_heartbeat.ts";
import { shareGroupDescribe } from "./share_group_describe.ts";
import { shareFetch } from "./share_fetch.ts";
import { shareAcknowledge } from "./share_acknowledge.ts";
import { describeShareGroupOffsets } from "./describe_share_group_offsets.ts";
import { alterShareGroupOffsets, deleteShareGroupOffsets } from "./share_group_offsets.ts";

export const SHARE_HANDLERS: Handler[] = [
  shareGroupHeartbeat,
  shareGroupDescribe,
  shareFetch,
  shareAcknowledge,
  describeShareGroupOffsets,
  alterShareGroupOffsets,
  deleteShareGroupOffsets,
];
