/**
 * The share group configs a group may set (KIP-932 group configs, through
 * IncrementalAlterConfigs on a GROUP resource), with Kafka 4.4's defaults and
 * bounds (the group.share.* broker configs).
 */

/** One share group config. */
export interface ShareConfigSpec {
  /** The broker config it defaults to. */
  broker: string;
  doc: string;
  /** Kafka's default. */
  kafkaDefault: string;
  /** DescribeConfigs' config type: 2 string, 3 int. */
  type: number;
  /** What is wrong with a value, or null. */
  problem(value: string): string | null;
}

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

export const SHARE_GROUP_CONFIGS: Record<string, ShareConfigSpec> = {
  "share.record.lock.duration.ms": {
    broker: "group.share.record.lock.duration.ms",
    doc: "How long this share group's members hold the records they acquire",
    kafkaDefault: "30000",
    type: 3,
    problem: intIn(
      "share.record.lock.duration.ms",
      15_000,
      "group.share.min.record.lock.duration.ms",
      60_000,
      "group.share.max.record.lock.duration.ms",
    ),
  },
  "share.delivery.count.limit": {
    broker: "group.share.delivery.count.limit",
    doc: "How many times a record is delivered to this share group before it is archived",
    kafkaDefault: "5",
    type: 3,
    problem: intIn(
      "share.delivery.count.limit",
      2,
      "group.share.min.delivery.count.limit",
      10,
      "group.share.max.delivery.count.limit",
    ),
  },
  "share.auto.offset.reset": {
    broker: "share.auto.offset.reset",
    doc: "Where this share group starts on a partition it never consumed: latest or earliest",
    kafkaDefault: "latest",
    type: 2,
    problem: (value) =>
      ["latest", "earliest"].includes(value.trim().toLowerCase())
        ? null
        : `share.auto.offset.reset=${
          JSON.stringify(value)
        } must be latest or earliest (by_duration is not supported here)`,
  },
  "share.isolation.level": {
    broker: "share.isolation.level",
    doc: "Whether this share group reads only committed transactional records (read_committed) " +
      "or every record (read_uncommitted)",
    kafkaDefault: "read_uncommitted",
    type: 2,
    problem: (value) =>
      ["read_committed", "read_uncommitted"].includes(value.trim().toLowerCase())
        ? null
        : `share.isolation.level=${
          JSON.stringify(value)
        } must be read_committed or read_uncommitted`,
  },
};
