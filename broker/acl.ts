/**
 * ACLs as Kafka defines them (KIP-11, KIP-140, KIP-290): a binding of a
 * resource pattern (type, name, LITERAL or PREFIXED) to an entry (principal,
 * host, operation, ALLOW or DENY); the filters DescribeAcls and DeleteAcls
 * match bindings with (ANY and MATCH pattern types, null for "any"); and the
 * checks CreateAcls applies to a new binding.
 */

import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from "./authorizer.ts";

/** Kafka's PatternType codes (KIP-290). */
export const PatternType = {
  UNKNOWN: 0,
  /** Filters only: any pattern type, the name compared as written. */
  ANY: 1,
  /** Filters only: every pattern that would match a resource of this name. */
  MATCH: 2,
  LITERAL: 3,
  PREFIXED: 4,
} as const;

/** Kafka's AclPermissionType codes. */
export const AclPermission = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The literal resource name and the principal that match everything. */
export const WILDCARD = "*";
export const WILDCARD_PRINCIPAL = "User:*";

export interface AclBinding {
  resourceType: number;
  patternType: number;
  resourceName: string;
  principal: string;
  host: string;
  operation: number;
  permission: number;
}

/** A DescribeAcls / DeleteAcls filter: null strings match anything. */
export interface AclFilter {
  resourceType: number;
  patternType: number;
  resourceName: string | null;
  principal: string | null;
  host: string | null;
  operation: number;
  permission: number;
}

const nameOf = (table: Record<string, number>, code: number) =>
  Object.entries(table).find(([, v]) => v === code)?.[0] ?? `UNKNOWN(${code})`;

export const operationName = (code: number) => nameOf(AclOperation, code);
export const resourceTypeName = (code: number) => nameOf(ResourceType, code);
export const patternTypeName = (code: number) => nameOf(PatternType, code);
export const permissionName = (code: number) => nameOf(AclPermission, code);

const known = (table: Record<string, number>, code: number) =>
  code !== 0 && Object.values(table).includes(code);

/**
 * Why CreateAcls refuses a binding (Kafka answers INVALID_REQUEST with this
 * message), or null when it is valid: the checks of Kafka's AclApis and
 * AclControlManager.validateNewAcl, in their order.
 */
export function invalidBinding(b: AclBinding): string | null {
  if (b.resourceType === ResourceType.CLUSTER && b.resourceName !== CLUSTER_RESOURCE_NAME) {
    return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  }
  if (b.resourceName === "") return "Invalid empty resource name";
  if (
    !known(ResourceType, b.resourceType) || b.resourceType === ResourceType.ANY
  ) return `Invalid resourceType ${resourceTypeName(b.resourceType)}`;
  if (b.patternType !== PatternType.LITERAL && b.patternType !== PatternType.PREFIXED) {
    return `Invalid patternType ${patternTypeName(b.patternType)}`;
  }
  if (!known(AclOperation, b.operation) || b.operation === AclOperation.ANY) {
    return `Invalid operation ${operationName(b.operation)}`;
  }
  if (b.permission !== AclPermission.ALLOW && b.permission !== AclPermission.DENY) {
    return `Invalid permissionType ${permissionName(b.permission)}`;
  }
  if (!b.principal.includes(":")) {
    return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  }
  return null;
}

/**
 * Why a filter cannot be used (an UNKNOWN field, as Kafka's
 * AclBindingFilter.isUnknown), or null.
 */
export function invalidFilter(f: AclFilter): string | null {
  if (!known(ResourceType, f.resourceType)) {
    return `Unknown resource type ${f.resourceType} in the filter`;
  }
  if (!known(PatternType, f.patternType)) {
    return `Unknown pattern type ${f.patternType} in the filter`;
  }
  if (!known(AclOperation, f.operation)) return `Unknown operation ${f.operation} in the filter`;
  if (!known(AclPermission, f.permission)) {
    return `Unknown permission type ${f.permission} in the filter`;
  }
  return null;
}

/** Kafka's ResourcePatternFilter.matches: ANY compares names as written, MATCH as a resource name would match. */
export function patternMatches(
  f: Pick<AclFilter, "resourceType" | "patternType" | "resourceName">,
  b: Pick<AclBinding, "resourceType" | "patternType" | "resourceName">,
): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (
    f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH &&
    f.patternType !== b.patternType
  ) return false;
  if (f.resourceName === null) return true;
  if (f.patternType === PatternType.ANY || f.patternType === b.patternType) {
    return f.resourceName === b.resourceName;
  }
  // MATCH
  if (b.patternType === PatternType.LITERAL) {
    return f.resourceName === b.resourceName || b.resourceName === WILDCARD;
  }
  return b.patternType === PatternType.PREFIXED && f.resourceName.startsWith(b.resourceName);
}

/** Kafka's AclBindingFilter.matches. */
export function filterMatches(f: AclFilter, b: AclBinding): boolean {
  if (!patternMatches(f, b)) return false;
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  return f.permission === AclPermission.ANY || f.permission === b.permission;
}

/** Operations an ALLOW of another operation also grants (Kafka's implied operations). */
const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE,
  AclOperation.READ,
  AclOperation.WRITE,
  AclOperation.DELETE,
  AclOperation.ALTER,
]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([
  AclOperation.DESCRIBE_CONFIGS,
  AclOperation.ALTER_CONFIGS,
]);

/**
 * Whether an entry's operation covers the asked one: ALL covers every
 * operation; an ALLOW of READ, WRITE, DELETE or ALTER also allows DESCRIBE,
 * and of ALTER_CONFIGS also DESCRIBE_CONFIGS; a DENY denies only its own
 * operation (or ALL).
 */
export function operationCovers(entryOp: number, permission: number, asked: number): boolean {
  if (entryOp === AclOperation.ALL || entryOp === asked) return true;
  if (permission !== AclPermission.ALLOW) return false;
  if (asked === AclOperation.DESCRIBE) return IMPLIES_DESCRIBE.has(entryOp);
  if (asked === AclOperation.DESCRIBE_CONFIGS) return IMPLIES_DESCRIBE_CONFIGS.has(entryOp);
  return false;
}

/** The operations that apply to each resource type (Kafka's AclEntry.supportedOperations), for KIP-430. */
export const SUPPORTED_OPERATIONS: Readonly<Record<number, readonly number[]>> = {
  [ResourceType.TOPIC]: [
    AclOperation.READ,
    AclOperation.WRITE,
    AclOperation.CREATE,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [ResourceType.GROUP]: [
    AclOperation.READ,
    AclOperation.DESCRIBE,
    AclOperation.DELETE,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
  ],
  [ResourceType.CLUSTER]: [
    AclOperation.CREATE,
    AclOperation.CLUSTER_ACTION,
    AclOperation.DESCRIBE_CONFIGS,
    AclOperation.ALTER_CONFIGS,
    AclOperation.IDEMPOTENT_WRITE,
    AclOperation.ALTER,
    AclOperation.DESCRIBE,
  ],
  [ResourceType.TRANSACTIONAL_ID]: [
    AclOperation.DESCRIBE,
    AclOperation.WRITE,
    AclOperation.TWO_PHASE_COMMIT,
  ],
  [ResourceType.DELEGATION_TOKEN]: [AclOperation.DESCRIBE],
  [ResourceType.USER]: [AclOperation.CREATE_TOKENS, AclOperation.DESCRIBE_TOKENS],
};
