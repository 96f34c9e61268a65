/**
 * How the broker faces its clients: its listeners (Kafka's `listeners` and
 * `advertised.listeners`), TLS, SASL (KIP-43, KIP-152, KIP-255, KIP-368) and
 * the authorizer (KIP-11). Parsed once at start; every broker sharing the
 * stores may differ in these, while users, credentials and ACLs live in the
 * meta store so that all of them agree on who may do what.
 */

/** Kafka's four security protocols; a listener's name is one of them here. */
export type SecurityProtocol = "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL";

export const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = [
  "PLAINTEXT",
  "SSL",
  "SASL_PLAINTEXT",
  "SASL_SSL",
];

/** One listener: `NAME://host:port`. */
export interface Listener {
  name: string;
  protocol: SecurityProtocol;
  host: string;
  port: number;
}

/** The SASL mechanisms this broker can serve. */
export type SaslMechanism = "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" | "OAUTHBEARER";

export const SASL_MECHANISMS: readonly SaslMechanism[] = [
  "PLAIN",
  "SCRAM-SHA-256",
  "SCRAM-SHA-512",
  "OAUTHBEARER",
];

/** Kafka's default for SASL listeners here (sasl.enabled.mechanisms). */
export const DEFAULT_SASL_MECHANISMS: readonly SaslMechanism[] = [
  "SCRAM-SHA-512",
  "SCRAM-SHA-256",
  "PLAIN",
];

export interface TlsFiles {
  /** PEM certificate chain and private key of the broker. */
  certFile: string;
  keyFile: string;
  /**
   * PEM certificates of the CAs client certificates must be issued by; set,
   * clients must present one (ssl.client.auth=required) and its subject is
   * their principal on SSL listeners.
   */
  clientCaFile: string | null;
}

export interface OAuthBearerSettings {
  /** A JWKS as an https:// or file: URL, or a path; null turns OAUTHBEARER off. */
  jwksUrl: string | null;
  /** The `iss` every token must carry (sasl.oauthbearer.expected.issuer), or null for any. */
  expectedIssuer: string | null;
  /** One of these must be in `aud` (sasl.oauthbearer.expected.audience); empty for any. */
  expectedAudience: string[];
  /** The claim naming the principal (sasl.oauthbearer.sub.claim.name). */
  subClaim: string;
}

/** Everything about listeners, authentication and authorization. */
export interface SecurityConfig {
  /** At least one; when empty the broker listens on PLAINTEXT://host:port of BrokerConfig. */
  listeners: Listener[];
  /** What Metadata tells clients of each listener, by name; a listener left out advertises the address the client used. */
  advertisedListeners: Listener[];
  tls: TlsFiles | null;
  /** sasl.enabled.mechanisms. */
  saslMechanisms: SaslMechanism[];
  /** Users created or updated at start (`--sasl-users`), with SCRAM credentials in the meta store. */
  saslUsers: { name: string; password: string }[];
  oauthbearer: OAuthBearerSettings;
  /** connections.max.reauth.ms (KIP-368): 0 means sessions never expire. */
  connectionsMaxReauthMs: number;
  /** `acl` checks every request against the ACLs in the meta store; `none` checks nothing. */
  authorizer: "none" | "acl";
  /** super.users: principals allowed everything, e.g. `User:admin`. */
  superUsers: string[];
  /** allow.everyone.if.no.acl.found: a resource with no matching ACL is open to all. */
  allowEveryoneIfNoAclFound: boolean;
}

export const DEFAULT_SECURITY_CONFIG: SecurityConfig = {
  listeners: [],
  advertisedListeners: [],
  tls: null,
  saslMechanisms: [...DEFAULT_SASL_MECHANISMS],
  saslUsers: [],
  oauthbearer: { jwksUrl: null, expectedIssuer: null, expectedAudience: [], subClaim: "sub" },
  connectionsMaxReauthMs: 0,
  authorizer: "none",
  superUsers: [],
  allowEveryoneIfNoAclFound: false,
};

/** A setting that cannot be used, with the value and what to do. */
export class SecuritySettingError extends Error {}

/**
 * Parses Kafka's listener list: `NAME://host:port,...`, NAME one of the four
 * security protocols, each at most once; an empty host means every address
 * (0.0.0.0), and IPv6 hosts go in brackets.
 */
export function parseListeners(flag: string, value: string): Listener[] {
  const out: Listener[] = [];
  for (const raw of value.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const m = /^([A-Za-z_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(raw);
    if (!m) {
      throw new SecuritySettingError(
        `--${flag} ${
          JSON.stringify(raw)
        } must look like NAME://host:port, e.g. SASL_SSL://0.0.0.0:9093`,
      );
    }
    const name = m[1].toUpperCase();
    if (!(SECURITY_PROTOCOLS as readonly string[]).includes(name)) {
      throw new SecuritySettingError(
        `--${flag} ${JSON.stringify(raw)}: the listener name must be one of ${
          SECURITY_PROTOCOLS.join(", ")
        }`,
      );
    }
    if (out.some((l) => l.name === name)) {
      throw new SecuritySettingError(`--${flag} names the ${name} listener twice`);
    }
    const port = Number(m[3]);
    if (port > 65535) {
      throw new SecuritySettingError(`--${flag} ${JSON.stringify(raw)}: port must be 0..65535`);
    }
    const host = m[2].startsWith("[") ? m[2].slice(1, -1) : m[2];
    out.push({
      name,
      protocol: name as SecurityProtocol,
      host: host === "" ? "0.0.0.0" : host,
      port,
    });
  }
  if (out.length === 0) throw new SecuritySettingError(`--${flag} names no listener`);
  return out;
}

/** Whether a protocol runs TLS under Kafka's framing. */
export function usesTls(p: SecurityProtocol): boolean {
  return p === "SSL" || p === "SASL_SSL";
}

/** Whether clients must authenticate with SASL before any other request. */
export function usesSasl(p: SecurityProtocol): boolean {
  return p === "SASL_PLAINTEXT" || p === "SASL_SSL";
}
