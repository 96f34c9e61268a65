/**
 * The seam every handler asks "may this principal do this?" through (KIP-11).
 * Kafka's codes for operations and resource types are the wire values of
 * CreateAcls/DescribeAcls and of KIP-430's authorized-operations bit fields.
 * Without `--authorizer acl` nothing is checked: {@link ALLOW_ALL}.
 */

import type { AclBinding, AclFilter } from "./acl.ts";

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

/** The ACL administration behind CreateAcls, DescribeAcls and DeleteAcls (KIP-140). */
export interface AclAdmin {
  /** The ACLs matching the filter, read fresh from the meta store. */
  describe(filter: AclFilter): Promise<AclBinding[]>;
  /** Adds valid bindings; in force on this broker when it resolves. */
  create(bindings: AclBinding[]): Promise<void>;
  /** Removes the ACLs each filter matches and returns them, per filter. */
  delete(filters: AclFilter[]): Promise<AclBinding[][]>;
}

export interface Authorizer {
  /** False when nothing is checked (no --authorizer). */
  readonly enabled: boolean;
  /** Whether `who` may perform `operation` on the resource. */
  authorize(who: RequestIdentity, operation: number, resourceType: number, name: string): boolean;
  /**
   * Whether `who` may perform `operation` on at least one resource of the
   * type (KIP-679's authorizeByResourceType: an idempotent producer needs
   * IDEMPOTENT_WRITE on the cluster or WRITE on some topic).
   */
  authorizeAny(who: RequestIdentity, operation: number, resourceType: number): boolean;
  /** The ACLs; null without an authorizer (the ACL APIs answer SECURITY_DISABLED). */
  readonly acls: AclAdmin | null;
}

/** No authorizer configured: everything is allowed, as in Kafka. */
export const ALLOW_ALL: Authorizer = {
  enabled: false,
  authorize: () => true,
  authorizeAny: () => true,
  acls: null,
};
