/**
 * The language our message definitions are written in. One definition per API
 * covers every version we serve: each field names the versions it exists in,
 * the versions where it may be null, its default, and (for KIP-482 tagged
 * fields) its tag. `tools/generate_codec.ts` turns these into plain encoders
 * and decoders in `protocol/generated/`.
 *
 * Version ranges are written as Kafka's specification writes them: "3+" (3 and
 * later), "0-7" (inclusive), "5" (only 5) or "none".
 */

/** Primitive field types, named as in Kafka's protocol guide. */
export type PrimitiveType =
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "bool"
  | "string"
  | "bytes"
  | "uuid"
  | "records";

/** A field of a message or of a struct inside it. */
export interface FieldDef {
  /** camelCase name of the field in the generated TypeScript. */
  name: string;
  /** A primitive, an array of primitives ("[]int32") or a struct / struct array (see `fields`). */
  type: PrimitiveType | `[]${PrimitiveType}` | "struct" | "[]struct";
  /** Name of the generated interface for a struct or struct array. */
  structName?: string;
  /** Versions in which the field is present in the body. */
  versions: string;
  /** Versions in which the field may be null (strings, bytes, records, arrays, structs). */
  nullableVersions?: string;
  /** Versions in which the field is sent as a tagged field instead of in the body. */
  taggedVersions?: string;
  /** The tag number, for tagged fields. */
  tag?: number;
  /** Value used when the field is absent from a version (defaults: 0, "", false, [], or null when nullable). */
  default?: number | string | boolean | null;
  /** Children of a struct or struct array. */
  fields?: FieldDef[];
  /** Free-form note: what the field means, and the KIP that added it. */
  about?: string;
}

/** One side (request or response) of an API. */
export interface MessageDef {
  /** Interface name, e.g. "ProduceRequest". */
  name: string;
  /** Versions in which the message uses compact encodings and tagged fields (KIP-482). */
  flexibleVersions: string;
  fields: FieldDef[];
}

/** An API: its key, the versions we serve, and both messages. */
export interface ApiDef {
  /** Kafka's name for the API, e.g. "Produce". */
  name: string;
  apiKey: number;
  /** The versions our codec can encode and decode (a handler may serve a subset). */
  validVersions: string;
  request: MessageDef;
  response: MessageDef;
}

/** A parsed version range: [min, max], max = Infinity for "N+". */
export type VersionRange = readonly [number, number];

/** Parses "3+", "0-7", "5" or "none". */
export function parseVersions(s: string): VersionRange | null {
  if (s === "none") return null;
  const plus = /^(\d+)\+$/.exec(s);
  if (plus) return [Number(plus[1]), Infinity];
  const range = /^(\d+)-(\d+)$/.exec(s);
  if (range) return [Number(range[1]), Number(range[2])];
  if (/^\d+$/.test(s)) return [Number(s), Number(s)];
  throw new Error(
    `Version range ${JSON.stringify(s)} is not of the form "N+", "N-M", "N" or "none"`,
  );
}
