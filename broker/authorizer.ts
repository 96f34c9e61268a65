/**
 * The seam every handler asks "may this principal do this?" through (KIP-11).
 * Kafka's codes for operations and resource types are the wire values of
 * CreateAcls/DescribeAcls and of KIP-430's authorized-operations bit fields.
 * Without `--authorizer acl` nothing is checked: {@link ALLOW_ALL}.
 */

/** Kafka's AclOperation codes. */
export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  TWO_PHASE_COMMIT: 15,
} as const;

/** Kafka's ResourceType codes. */
export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

/** The one cluster resource's name. */
export const CLUSTER_RESOURCE_NAME = "kafka-cluster";

/** Who is asking: a KIP-11 principal (`User:alice`) and the client's address. */
export interface RequestIdentity {
  principal: string;
  host: string;
}

export interface Authorizer {
  /** False when nothing is checked (no --authorizer). */
  readonly enabled: boolean;
  /** Whether `who` may perform `operation` on the resource. */
  authorize(who: RequestIdentity, operation: number, resourceType: number, name: string): boolean;
}

/** No authorizer configured: everything is allowed, as in Kafka. */
export const ALLOW_ALL: Authorizer = { enabled: false, authorize: () => true };
