/**
 * The streams group configs a group may set (KIP-1071 group configs, through
 * IncrementalAlterConfigs on a GROUP resource), with Kafka 4.4's defaults and
 * bounds (the group.streams.* broker configs), and how a group's settings are
 * read from them.
 */

import type { ShareConfigSpec } from "./share_configs.ts";
import { DEFAULT_STREAMS_GROUP_CONFIG, type StreamsGroupConfig } from "./streams_group_state.ts";

function intIn(name: string, min: number, minName: string, max: number, maxName: string) {
  return (value: string): string | null => {
    if (!/^-?\d+$/.test(value.trim())) {
      return `${name}=${JSON.stringify(value)} must be a whole number`;
    }
    const v = Number(value);
    if (v < min) return `${name}=${JSON.stringify(value)} must be at least ${minName} (${min})`;
    if (v > max) return `${name}=${JSON.stringify(value)} must be at most ${maxName} (${max})`;
    return null;
  };
}

/** The streams group configs, in the shape of the share ones (broker/share_configs.ts). */
export const STREAMS_GROUP_CONFIGS: Record<string, ShareConfigSpec> = {
  "streams.session.timeout.ms": {
    broker: "group.streams.session.timeout.ms",
    doc: "This streams group's members not heard from for this long are removed",
    kafkaDefault: "45000",
    type: 3,
    problem: intIn(
      "streams.session.timeout.ms",
      45_000,
      "group.streams.min.session.timeout.ms",
      60_000,
      "group.streams.max.session.timeout.ms",
    ),
  },
  "streams.heartbeat.interval.ms": {
    broker: "group.streams.heartbeat.interval.ms",
    doc: "How often this streams group's members are told to heartbeat",
    kafkaDefault: "5000",
    type: 3,
    problem: intIn(
      "streams.heartbeat.interval.ms",
      5_000,
      "group.streams.min.heartbeat.interval.ms",
      15_000,
      "group.streams.max.heartbeat.interval.ms",
    ),
  },
  "streams.num.standby.replicas": {
    broker: "group.streams.num.standby.replicas",
    doc: "How many standby replicas of each stateful task this streams group keeps",
    kafkaDefault: "0",
    type: 3,
    problem: intIn(
      "streams.num.standby.replicas",
      0,
      "0",
      2,
      "group.streams.max.standby.replicas",
    ),
  },
};

/** A streams group's settings from its group configs over Kafka's defaults. */
export function streamsSettingsOf(configs: Record<string, string>): StreamsGroupConfig {
  const num = (name: string, fallback: number) => {
    const v = configs[name]?.trim();
    return v !== undefined && /^\d+$/.test(v) && STREAMS_GROUP_CONFIGS[name].problem(v) === null
      ? Number(v)
      : fallback;
  };
  const d = DEFAULT_STREAMS_GROUP_CONFIG;
  return {
    sessionTimeoutMs: num("streams.session.timeout.ms", d.sessionTimeoutMs),
    heartbeatIntervalMs: num("streams.heartbeat.interval.ms", d.heartbeatIntervalMs),
    numStandbyReplicas: num("streams.num.standby.replicas", d.numStandbyReplicas),
  };
}
