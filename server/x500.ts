/**
 * A client certificate's principal on SSL listeners, as Kafka's default
 * `ssl.principal.mapping.rules` (DEFAULT, KIP-371) gives it: `User:` and the
 * subject DN exactly as Java's `X500Principal.getName()` renders it (RFC
 * 2253): the RDNs last to first, the AVAs of one RDN joined by `+` in their
 * stored order, the keywords CN C L ST O OU STREET DC UID and any other
 * attribute as its dotted OID with `#` and the hex of its DER value; in
 * values `, = + < > # ; " \` are escaped with a backslash, and so are a
 * leading and a trailing space. (Measured with Java 17 on this machine: the
 * subject /C=US/O=acme/CN=alice is `CN=alice,O=acme,C=US`.)
 */

interface Tlv {
  tag: number;
  /** Where the value starts and ends, and where the whole element starts. */
  start: number;
  end: number;
  at: number;
}

function tlv(b: Uint8Array, at: number): Tlv {
  if (at + 2 > b.length) throw new Error("certificate DER ends inside an element");
  const tag = b[at];
  let len = b[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > b.length) throw new Error("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i];
    start += n;
  }
  const end = start + len;
  if (end > b.length) throw new Error("certificate DER element runs past its end");
  return { tag, start, end, at };
}

function children(b: Uint8Array, e: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = e.start; at < e.end;) {
    const c = tlv(b, at);
    out.push(c);
    at = c.end;
  }
  return out;
}

function oid(b: Uint8Array, e: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = e.start; i < e.end; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) {
      if (parts.length === 0) {
        const first = v < 40 ? 0 : v < 80 ? 1 : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

const KEYWORDS: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.9": "STREET",
  "0.9.2342.19200300.100.1.25": "DC",
  "0.9.2342.19200300.100.1.1": "UID",
};

function text(b: Uint8Array, e: Tlv): string | null {
  const v = b.subarray(e.start, e.end);
  switch (e.tag) {
    case 0x0c: // UTF8String
      return new TextDecoder().decode(v);
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x14: // TeletexString, read as Latin-1 as Java does
      return Array.from(v, (c) => String.fromCharCode(c)).join("");
    case 0x1e: { // BMPString
      let s = "";
      for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i] << 8) | v[i + 1]);
      return s;
    }
    case 0x1c: { // UniversalString
      let s = "";
      for (let i = 0; i + 3 < v.length; i += 4) {
        s += String.fromCodePoint(
          ((v[i] << 24) | (v[i + 1] << 16) | (v[i + 2] << 8) | v[i + 3]) >>> 0,
        );
      }
      return s;
    }
    default:
      return null;
  }
}

function escape(value: string): string {
  let s = value.replace(/[,=+<>#;"\\]/g, (c) => "\\" + c);
  if (s.startsWith(" ")) s = "\\" + s;
  if (s.length > 1 && s.endsWith(" ") && !s.endsWith("\\ ")) s = s.slice(0, -1) + "\\ ";
  return s;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (c) => c.toString(16).padStart(2, "0")).join("");
}

/** The subject Name element of a DER certificate. */
function subjectName(der: Uint8Array): Tlv {
  const cert = tlv(der, 0);
  const tbs = children(der, cert)[0];
  const fields = children(der, tbs);
  // [0] version is optional; then serial, signature, issuer, validity, subject.
  const skip = fields[0].tag === 0xa0 ? 1 : 0;
  const subject = fields[skip + 4];
  if (!subject || subject.tag !== 0x30) throw new Error("certificate has no subject");
  return subject;
}

/** The subject DN of a DER certificate in Java's RFC 2253 form. */
export function subjectDn(der: Uint8Array): string {
  const name = subjectName(der);
  const rdns = children(der, name).map((set) =>
    children(der, set).map((ava) => {
      const [type, value] = children(der, ava);
      const id = oid(der, type);
      const keyword = KEYWORDS[id];
      const str = keyword ? text(der, value) : null;
      if (keyword && str !== null) return `${keyword}=${escape(str)}`;
      return `${keyword ?? id}=#${hex(der.subarray(value.at, value.end))}`;
    }).join("+")
  );
  return rdns.reverse().join(",");
}

/** Kafka's principal for a client certificate (DEFAULT mapping rule). */
export function certificatePrincipal(der: Uint8Array): string {
  return `User:${subjectDn(der)}`;
}
