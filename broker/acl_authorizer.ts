/**
 * Builds the broker's authorizer from `--authorizer` (KIP-11): none allows
 * everything; acl checks the ACLs kept in the meta store, with Kafka's rules
 * (StandardAuthorizer):
 *
 * - a super user (super.users) may do anything;
 * - the ACLs that apply to a resource are those of its literal name, of the
 *   literal `*`, and of every prefixed pattern its name starts with (KIP-290);
 * - of those, an entry applies to the request when its principal is the
 *   caller's or `User:*`, its host the caller's address or `*`, and its
 *   operation the asked one, ALL, or (ALLOW only) one implying it;
 * - a DENY that applies beats every ALLOW; else an ALLOW allows;
 * - a resource with no ACL at all is open to everyone only with
 *   allow.everyone.if.no.acl.found, and closed otherwise.
 *
 * Every broker keeps the ACLs in memory, indexed by resource type and name,
 * and re-reads them from the meta store every {@link ACL_REFRESH_MS}, so all
 * brokers sharing the store agree within about a second; a change made
 * through this broker is in force here as soon as it is answered. Until the
 * first read only super users are allowed.
 */

import { getLogger } from "@logtape/logtape";
import type { MetaStore } from "../stores/types.ts";
import type { SecurityConfig } from "./security_config.ts";
import { AclOperation, ALLOW_ALL, type Authorizer, type RequestIdentity } from "./authorizer.ts";
import {
  type AclBinding,
  type AclFilter,
  AclPermission,
  filterMatches,
  operationCovers,
  PatternType,
  WILDCARD,
  WILDCARD_PRINCIPAL,
} from "./acl.ts";
import { addAcls, deleteAcls, loadAcls } from "./acl_store.ts";
import { PeriodicRefresh } from "./periodic_refresh.ts";

const log = getLogger(["skb", "authorizer"]);

/** How often each broker re-reads the ACLs. */
export const ACL_REFRESH_MS = 1000;

/** The ACLs of one resource type, by literal name and by prefix. */
interface TypeIndex {
  literal: Map<string, AclBinding[]>;
  prefixed: Map<string, AclBinding[]>;
  longestPrefix: number;
}

/** The ACLs indexed for checking. */
export class AclIndex {
  private readonly types = new Map<number, TypeIndex>();

  constructor(readonly all: readonly AclBinding[]) {
    for (const b of all) {
      let t = this.types.get(b.resourceType);
      if (!t) {
        this.types.set(
          b.resourceType,
          t = { literal: new Map(), prefixed: new Map(), longestPrefix: 0 },
        );
      }
      const byName = b.patternType === PatternType.PREFIXED ? t.prefixed : t.literal;
      const list = byName.get(b.resourceName);
      if (list) list.push(b);
      else byName.set(b.resourceName, [b]);
      if (b.patternType === PatternType.PREFIXED) {
        t.longestPrefix = Math.max(t.longestPrefix, b.resourceName.length);
      }
    }
  }

  /**
   * Kafka's decision for one resource: "deny", "allow", or "none" when no
   * ACL at all exists for the resource (allow.everyone.if.no.acl.found
   * decides). ACLs on the resource that do not apply to the caller deny.
   */
  decide(who: RequestIdentity, op: number, type: number, name: string): "allow" | "deny" | "none" {
    const t = this.types.get(type);
    if (!t) return "none";
    let found = false;
    let allowed = false;
    const visit = (list: AclBinding[] | undefined): boolean => {
      if (!list) return false;
      found = true;
      for (const b of list) {
        if (b.principal !== who.principal && b.principal !== WILDCARD_PRINCIPAL) continue;
        if (b.host !== WILDCARD && b.host !== who.host) continue;
        if (!operationCovers(b.operation, b.permission, op)) continue;
        if (b.permission === AclPermission.DENY) return true;
        allowed = true;
      }
      return false;
    };
    if (visit(t.literal.get(name))) return "deny";
    if (name !== WILDCARD && visit(t.literal.get(WILDCARD))) return "deny";
    if (t.prefixed.size > 0) {
      const upTo = Math.min(name.length, t.longestPrefix);
      for (let i = 1; i <= upTo; i++) {
        if (visit(t.prefixed.get(name.slice(0, i)))) return "deny";
      }
    }
    if (allowed) return "allow";
    return found ? "deny" : "none";
  }
}

/** The `--authorizer acl` authorizer. */
export class AclAuthorizer implements Authorizer {
  readonly enabled = true;
  private index: AclIndex | null = null;
  private stamp = "";
  private readonly superUsers: ReadonlySet<string>;
  private readonly refresher = new PeriodicRefresh(() => this.load());
  private failing = false;

  constructor(private readonly meta: MetaStore, private readonly security: SecurityConfig) {
    this.superUsers = new Set(security.superUsers);
  }

  /** Reads the ACLs now, and then every `everyMs` until `closing`. */
  start(closing: AbortSignal, everyMs = ACL_REFRESH_MS): void {
    this.refresher.start(closing, everyMs);
  }

  stop(): void {
    this.refresher.stop();
  }

  /** Whether the ACLs have been read at least once. */
  get ready(): boolean {
    return this.index !== null;
  }

  /** Re-reads the ACLs from the meta store (one read at a time). */
  refresh(): Promise<void> {
    return this.refresher.run();
  }

  private async load(): Promise<void> {
    try {
      const { acls, stamp } = await loadAcls(this.meta);
      if (this.index === null || stamp !== this.stamp) {
        this.index = new AclIndex(acls);
        this.stamp = stamp;
      }
      if (this.failing) log.info("ACLs read from the meta store again");
      this.failing = false;
    } catch (e) {
      if (!this.failing) {
        log.warn("Cannot read the ACLs from the meta store; keeping the last ones: {error}", {
          error: e instanceof Error ? e.message : String(e),
        });
      }
      this.failing = true;
      throw e;
    }
  }

  /** A read that starts after every change made so far (not one already under way). */
  private reload(): Promise<void> {
    return this.refresher.runFresh();
  }

  authorize(who: RequestIdentity, op: number, type: number, name: string): boolean {
    if (this.superUsers.has(who.principal)) return true;
    if (this.index === null) return false;
    const d = this.index.decide(who, op, type, name);
    if (d === "none") return this.security.allowEveryoneIfNoAclFound;
    return d === "allow";
  }

  /**
   * Kafka's Authorizer.authorizeByResourceType (KIP-679): allowed when a
   * made-up literal name is (super users, no ACLs with
   * allow.everyone.if.no.acl.found), or when an ALLOW for the operation on
   * some literal name or prefix is not itself denied by a DENY on that literal
   * or on a prefix of it; a DENY on the literal `*` denies all.
   */
  authorizeAny(who: RequestIdentity, op: number, type: number): boolean {
    if (this.authorize(who, op, type, "hardcode")) return true;
    if (this.index === null) return false;
    const denyLiteral = new Set<string>();
    const denyPrefix = new Set<string>();
    const allows: AclBinding[] = [];
    for (const b of this.index.all) {
      if (b.resourceType !== type) continue;
      if (b.host !== WILDCARD && b.host !== who.host) continue;
      if (b.principal !== who.principal && b.principal !== WILDCARD_PRINCIPAL) continue;
      if (b.operation !== op && b.operation !== AclOperation.ALL) continue;
      if (b.permission === AclPermission.DENY) {
        if (b.patternType === PatternType.LITERAL) {
          if (b.resourceName === WILDCARD) return false;
          denyLiteral.add(b.resourceName);
        } else if (b.patternType === PatternType.PREFIXED) denyPrefix.add(b.resourceName);
      } else if (b.permission === AclPermission.ALLOW) {
        if (b.patternType === PatternType.LITERAL && b.resourceName === WILDCARD) return true;
        allows.push(b);
      }
    }
    for (const a of allows) {
      if (a.patternType === PatternType.LITERAL && denyLiteral.has(a.resourceName)) continue;
      let dominated = false;
      for (let i = 1; i <= a.resourceName.length && !dominated; i++) {
        dominated = denyPrefix.has(a.resourceName.slice(0, i));
      }
      if (!dominated) return true;
    }
    return false;
  }

  readonly acls = {
    describe: async (filter: AclFilter): Promise<AclBinding[]> => {
      await this.reload();
      return (this.index?.all ?? []).filter((b) => filterMatches(filter, b));
    },
    create: async (bindings: AclBinding[]): Promise<void> => {
      try {
        await addAcls(this.meta, bindings);
      } finally {
        await this.reload().catch(() => {});
      }
    },
    delete: async (filters: AclFilter[]): Promise<AclBinding[][]> => {
      try {
        return await deleteAcls(this.meta, filters);
      } finally {
        await this.reload().catch(() => {});
      }
    },
  };
}

export function createAuthorizer(
  meta: MetaStore,
  security: SecurityConfig,
  closing: AbortSignal,
): Authorizer {
  if (security.authorizer === "none") return ALLOW_ALL;
  const authorizer = new AclAuthorizer(meta, security);
  authorizer.start(closing);
  return authorizer;
}
