/** The streams group APIs (KIP-1071): membership with broker-side task assignment, and description. */

import type { Handler } from "./types.ts";
import { streamsGroupHeartbeat } from "./streams_group_heartbeat.ts";
import { streamsGroupDescribe } from "./streams_group_describe.ts";

export const STREAMS_HANDLERS: Handler[] = [streamsGroupHeartbeat, streamsGroupDescribe];
