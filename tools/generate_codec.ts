/**
 * Writes `protocol/generated/*.ts` from the message definitions in
 * `protocol/messages/*.ts`: one file per API with its TypeScript interfaces and
 * straight-line encoders and decoders that branch on the version at run time.
 *
 *   deno task generate            write the files
 *   deno task generate --check    exit 1 when a generated file is out of date
 */

import type { ApiDef, FieldDef, MessageDef, VersionRange } from "../protocol/schema.ts";
import { parseVersions } from "../protocol/schema.ts";

const ROOT = new URL("../", import.meta.url);
const MESSAGES_DIR = new URL("protocol/messages/", ROOT);
const OUT_DIR = new URL("protocol/generated/", ROOT);

/** Versions where a condition holds, clipped to the API's own range. */
class Cond {
  constructor(readonly lo: number, readonly hi: number) {}
  static of(r: VersionRange | null, api: VersionRange): Cond {
    if (r === null) return new Cond(1, 0);
    return new Cond(Math.max(r[0], api[0]), Math.min(r[1], api[1]));
  }
  get never(): boolean {
    return this.lo > this.hi;
  }
  /** A JavaScript expression over `version`, simplified against the API's range. */
  expr(api: VersionRange): string {
    if (this.never) return "false";
    const parts: string[] = [];
    if (this.lo > api[0]) parts.push(`version >= ${this.lo}`);
    if (this.hi < api[1]) parts.push(`version <= ${this.hi}`);
    return parts.length === 0 ? "true" : parts.join(" && ");
  }
  within(other: Cond): boolean {
    return this.never || (this.lo >= other.lo && this.hi <= other.hi);
  }
  disjoint(other: Cond): boolean {
    return this.never || other.never || this.hi < other.lo || other.hi < this.lo;
  }
}

interface Ctx {
  api: VersionRange;
  flex: Cond;
  /** Struct interfaces and their helper functions, emitted after the message. */
  out: string[];
  seen: Set<string>;
}

function isArray(f: FieldDef): boolean {
  return f.type.startsWith("[]");
}
function elementType(f: FieldDef): string {
  return f.type.slice(2);
}
function isStructLike(f: FieldDef): boolean {
  return f.type === "struct" || f.type === "[]struct";
}

function canBeNull(f: FieldDef): boolean {
  return (f.nullableVersions !== undefined && f.nullableVersions !== "none") || f.default === null;
}

function tsPrimitive(t: string): string {
  switch (t) {
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "uint32":
    case "int64":
    case "float64":
      return "number";
    case "bool":
      return "boolean";
    case "string":
    case "uuid":
      return "string";
    case "bytes":
      return "Uint8Array";
    case "records":
      return "RecordsValue";
  }
  throw new Error(`Unknown type ${t}`);
}

function tsType(f: FieldDef): string {
  let t: string;
  if (f.type === "struct") t = f.structName!;
  else if (f.type === "[]struct") t = `${f.structName}[]`;
  else if (isArray(f)) t = `${tsPrimitive(elementType(f))}[]`;
  else t = tsPrimitive(f.type);
  if (f.type === "records") return t; // RecordsValue already includes null
  return canBeNull(f) ? `${t} | null` : t;
}

/** The value a field takes in versions where it is absent. */
function defaultExpr(f: FieldDef): string {
  if (f.default !== undefined) {
    if (f.default === null) return "null";
    if (typeof f.default === "string") {
      if (f.type === "string") return JSON.stringify(f.default);
      if (f.type === "bool") return f.default === "true" ? "true" : "false";
      return String(Number(f.default));
    }
    return JSON.stringify(f.default);
  }
  if (f.type === "records") return "null";
  if (f.type === "struct") return `default${f.structName}()`;
  if (isArray(f)) return "[]";
  switch (f.type) {
    case "bool":
      return "false";
    case "string":
      return '""';
    case "uuid":
      return "ZERO_UUID";
    case "bytes":
      return "new Uint8Array(0)";
    default:
      return "0";
  }
}

/**
 * An expression that is true when `v` (the value of field f) differs from the
 * field's default. A tagged field is written only then (KIP-482), and Kafka's
 * own generated code compares a struct with a default instance of it, field by
 * field: a struct whose fields all hold their defaults is not written.
 */
function differsExpr(f: FieldDef, v: string): string {
  if (isArray(f) || f.type === "bytes") {
    // Default null: any value is sent, even an empty one; else only a non-empty one.
    return f.default === null ? `${v} !== null` : `(${v} !== null && ${v}.length > 0)`;
  }
  if (f.type === "records") return `${v} !== null`;
  if (f.type === "struct") {
    if (canBeNull(f)) return `${v} !== null`;
    const parts = (f.fields ?? []).map((sf) => differsExpr(sf, `${v}.${sf.name}`));
    return parts.length === 0 ? "false" : `(${parts.join(" || ")})`;
  }
  return `${v} !== ${defaultExpr(f)}`;
}

const PRIM_READ: Record<string, [string, string]> = {
  int8: ["r.int8()", "w.int8(V)"],
  int16: ["r.int16()", "w.int16(V)"],
  uint16: ["r.uint16()", "w.uint16(V)"],
  int32: ["r.int32()", "w.int32(V)"],
  uint32: ["r.uint32()", "w.uint32(V)"],
  int64: ["r.int64()", "w.int64(V)"],
  float64: ["r.float64()", "w.float64(V)"],
  bool: ["r.bool()", "w.bool(V)"],
  uuid: ["r.uuid()", "w.uuid(V)"],
};

/**
 * Chooses between the compact (flexible) and classic form of a type. `fieldCond`
 * is where the field appears; when that lies wholly inside or outside the
 * flexible versions the choice is made here rather than at run time.
 */
function flexChoice(ctx: Ctx, fieldCond: Cond, compact: string, classic: string): string {
  if (compact === classic) return compact;
  if (fieldCond.within(ctx.flex)) return compact;
  if (fieldCond.disjoint(ctx.flex)) return classic;
  return `(flex ? ${compact} : ${classic})`;
}

function nullChoice(ctx: Ctx, f: FieldDef, fieldCond: Cond, nullable: string, plain: string) {
  const nc = Cond.of(parseVersions(f.nullableVersions ?? "none"), ctx.api);
  if (fieldCond.within(nc) && !nc.never) return nullable;
  if (fieldCond.disjoint(nc)) return plain;
  return `(${nc.expr(ctx.api)} ? ${nullable} : ${plain})`;
}

/** Expression decoding one value of primitive type `t`. */
function readPrim(ctx: Ctx, f: FieldDef, t: string, cond: Cond, forceCompact: boolean): string {
  if (PRIM_READ[t]) return PRIM_READ[t][0];
  const pick = (compact: string, classic: string) =>
    forceCompact ? compact : flexChoice(ctx, cond, compact, classic);
  switch (t) {
    case "string":
      return nullChoice(
        ctx,
        f,
        cond,
        pick("r.compactNullableString()", "r.nullableString()"),
        pick("r.compactString()", "r.string()"),
      );
    case "bytes":
      return nullChoice(
        ctx,
        f,
        cond,
        pick("r.compactNullableBytes()", "r.nullableBytes()"),
        pick("r.compactBytes()", "r.bytes()"),
      );
    case "records":
      return pick("r.compactNullableBytes()", "r.nullableBytes()");
  }
  throw new Error(`Unknown type ${t}`);
}

/** Statement encoding one value `v` of primitive type `t`. */
function writePrim(ctx: Ctx, t: string, v: string, cond: Cond, forceCompact: boolean) {
  if (PRIM_READ[t]) return PRIM_READ[t][1].replace("V", v) + ";";
  const flexExpr = forceCompact
    ? "true"
    : cond.within(ctx.flex)
    ? "true"
    : cond.disjoint(ctx.flex)
    ? "false"
    : "flex";
  const pick = (compact: string, classic: string) =>
    flexExpr === "true" ? compact : flexExpr === "false" ? classic : null;
  const both = (compact: string, classic: string) =>
    pick(compact, classic) ?? `if (flex) ${compact}; else ${classic}`;
  switch (t) {
    case "string":
      return both(`w.compactNullableString(${v})`, `w.nullableString(${v})`) + ";";
    case "bytes":
      return both(`w.compactNullableBytes(${v})`, `w.nullableBytes(${v})`) + ";";
    case "records":
      return `w.records(${v}, ${flexExpr});`;
  }
  throw new Error(`Unknown type ${t}`);
}

/** Code that decodes field f into a local variable of the same name. */
function decodeField(ctx: Ctx, f: FieldDef, cond: Cond, forceCompact: boolean): string {
  const arrLen = forceCompact ? "r.arrayLength(true)" : flexChoice(
    ctx,
    cond,
    "r.arrayLength(true)",
    "r.arrayLength(false)",
  );
  if (f.type === "[]struct") {
    return `{
      const n = ${arrLen};
      if (n < 0) ${f.name} = ${canBeNull(f) ? "null" : "[]"};
      else {
        const a: ${f.structName}[] = new Array(n);
        for (let i = 0; i < n; i++) a[i] = decode${f.structName}(r, version);
        ${f.name} = a;
      }
    }`;
  }
  if (f.type === "struct") {
    if (canBeNull(f)) {
      return `if (r.int8() < 0) ${f.name} = null; else ${f.name} = decode${f.structName}(r, version);`;
    }
    return `${f.name} = decode${f.structName}(r, version);`;
  }
  if (isArray(f)) {
    const el = readPrim(
      ctx,
      { ...f, nullableVersions: undefined },
      elementType(f),
      cond,
      forceCompact,
    );
    return `{
      const n = ${arrLen};
      if (n < 0) ${f.name} = ${canBeNull(f) ? "null" : "[]"};
      else {
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = ${el};
        ${f.name} = a;
      }
    }`;
  }
  return `${f.name} = ${readPrim(ctx, f, f.type, cond, forceCompact)};`;
}

/** Code that encodes `v` (the value of field f). */
function encodeField(ctx: Ctx, f: FieldDef, v: string, cond: Cond, forceCompact: boolean): string {
  const flexArg = forceCompact
    ? "true"
    : cond.within(ctx.flex)
    ? "true"
    : cond.disjoint(ctx.flex)
    ? "false"
    : "flex";
  if (f.type === "[]struct") {
    return `{
      const a = ${v};
      w.arrayLength(a === null ? null : a.length, ${flexArg});
      if (a !== null) for (let i = 0; i < a.length; i++) encode${f.structName}(w, a[i], version);
    }`;
  }
  if (f.type === "struct") {
    if (canBeNull(f)) {
      return `if (${v} === null) w.int8(-1); else { w.int8(1); encode${f.structName}(w, ${v}, version); }`;
    }
    return `encode${f.structName}(w, ${v}, version);`;
  }
  if (isArray(f)) {
    const el = writePrim(ctx, elementType(f), "a[i]", cond, forceCompact);
    return `{
      const a = ${v};
      w.arrayLength(a === null ? null : a.length, ${flexArg});
      if (a !== null) for (let i = 0; i < a.length; i++) { ${el} }
    }`;
  }
  return writePrim(ctx, f.type, v, cond, forceCompact);
}

function conds(ctx: Ctx, f: FieldDef): { present: Cond; tagged: Cond; body: Cond } {
  const present = Cond.of(parseVersions(f.versions), ctx.api);
  const tagged = f.taggedVersions
    ? Cond.of(parseVersions(f.taggedVersions), ctx.api)
    : new Cond(1, 0);
  if (!tagged.never && (tagged.lo !== present.lo || tagged.hi !== present.hi)) {
    throw new Error(`Field ${f.name}: versions and taggedVersions differ; not supported`);
  }
  return { present, tagged, body: tagged.never ? present : new Cond(1, 0) };
}

/** Emits the interface, default factory, decoder and encoder of one struct (or message). */
function emitStruct(ctx: Ctx, name: string, fields: FieldDef[], top: boolean) {
  if (ctx.seen.has(name)) throw new Error(`Struct name ${name} is used twice`);
  ctx.seen.add(name);
  for (const f of fields) {
    if (isStructLike(f)) {
      if (!f.structName) throw new Error(`Field ${f.name} needs a structName`);
      emitStruct(ctx, f.structName, f.fields ?? [], false);
    }
  }
  const api = ctx.api;
  const lines: string[] = [];
  lines.push(`/** ${top ? "The" : "A"} ${name}${top ? " message" : " entry"}. */`);
  lines.push(`export interface ${name} {`);
  for (const f of fields) {
    if (f.about) lines.push(`  /** ${f.about} */`);
    lines.push(`  ${f.name}: ${tsType(f)};`);
  }
  lines.push("}");
  lines.push("");

  // A value with every field at its default, for building messages by hand.
  lines.push(`/** A ${name} with every field at its default. */`);
  lines.push(`export function default${name}(): ${name} {`);
  lines.push(`  return { ${fields.map((f) => `${f.name}: ${defaultExpr(f)}`).join(", ")} };`);
  lines.push("}");
  lines.push("");

  const tagged = fields.filter((f) => f.taggedVersions);
  const needsFlex = !ctx.flex.never && !(ctx.flex.lo <= api[0] && ctx.flex.hi >= api[1]);

  // Decoder.
  lines.push(`/** Decodes a ${name} of the given version. */`);
  lines.push(`export function decode${name}(r: Reader, version: number): ${name} {`);
  if (needsFlex) lines.push(`  const flex = ${ctx.flex.expr(api)};`);
  for (const f of fields) {
    const c = conds(ctx, f);
    lines.push(`  let ${f.name}: ${tsType(f)} = ${defaultExpr(f)};`);
    if (!c.body.never) {
      const cond = c.body.expr(api);
      const code = decodeField(ctx, f, c.body, false);
      lines.push(cond === "true" ? `  ${code}` : `  if (${cond}) { ${code} }`);
    }
  }
  if (!ctx.flex.never) {
    const flexCond = ctx.flex.expr(api);
    const cases = tagged.map((f) => {
      const c = conds(ctx, f);
      return `case ${f.tag}: if (${c.tagged.expr(api)}) { ${
        decodeField(ctx, f, c.tagged, true)
      } } else r.pos = end; break;`;
    });
    lines.push(`  if (${flexCond}) {`);
    if (cases.length === 0) lines.push(`    r.skipTaggedFields();`);
    else {
      lines.push(`    const count = r.uvarint();`);
      lines.push(`    for (let t = 0; t < count; t++) {`);
      lines.push(`      const tag = r.uvarint();`);
      lines.push(`      const size = r.uvarint();`);
      lines.push(`      const end = r.pos + size;`);
      lines.push(`      switch (tag) {`);
      for (const c of cases) lines.push(`        ${c}`);
      lines.push(`        default: r.pos = end;`);
      lines.push(`      }`);
      lines.push(`      if (r.pos !== end) r.pos = end;`);
      lines.push(`    }`);
    }
    lines.push(`  }`);
  }
  lines.push(`  return { ${fields.map((f) => f.name).join(", ")} };`);
  lines.push("}");
  lines.push("");

  // Encoder. Fields absent from the version are dropped: handlers stay version-agnostic.
  lines.push(
    `/** Encodes a ${name} in the given version. Fields the version lacks are dropped. */`,
  );
  lines.push(`export function encode${name}(w: Writer, m: ${name}, version: number): void {`);
  if (needsFlex) lines.push(`  const flex = ${ctx.flex.expr(api)};`);
  for (const f of fields) {
    const c = conds(ctx, f);
    if (c.body.never) continue;
    const cond = c.body.expr(api);
    const code = encodeField(ctx, f, `m.${f.name}`, c.body, false);
    lines.push(cond === "true" ? `  ${code}` : `  if (${cond}) { ${code} }`);
  }
  if (!ctx.flex.never) {
    lines.push(`  if (${ctx.flex.expr(api)}) {`);
    if (tagged.length === 0) lines.push(`    w.uvarint(0);`);
    else {
      // A tagged field is written only when it differs from its default (KIP-482).
      // Tags go out in ascending order, as KIP-482 requires, whatever the definition order.
      const sends = [...tagged].sort((a, b) => a.tag! - b.tag!).map((f) => {
        const c = conds(ctx, f);
        return { f, when: `(${c.tagged.expr(api)}) && ${differsExpr(f, `m.${f.name}`)}`, c };
      });
      lines.push(`    let count = 0;`);
      for (const s of sends) lines.push(`    if (${s.when}) count++;`);
      lines.push(`    w.uvarint(count);`);
      for (const s of sends) {
        lines.push(`    if (${s.when}) {`);
        lines.push(`      const outer = w;`);
        lines.push(`      {`);
        lines.push(`        const w = new Writer(64);`);
        lines.push(`        ${encodeField(ctx, s.f, `m.${s.f.name}`, s.c.tagged, true)}`);
        lines.push(`        outer.uvarint(${s.f.tag});`);
        lines.push(`        outer.uvarint(w.pos);`);
        lines.push(`        outer.raw(w.bytes());`);
        lines.push(`      }`);
        lines.push(`    }`);
      }
    }
    lines.push(`  }`);
  }
  lines.push("}");
  lines.push("");
  ctx.out.push(lines.join("\n"));
}

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

function generateApi(def: ApiDef, source: string): string {
  const api = parseVersions(def.validVersions);
  if (api === null) throw new Error(`${def.name}: validVersions is "none"`);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const m of [def.request, def.response] as MessageDef[]) {
    const ctx: Ctx = {
      api,
      flex: Cond.of(parseVersions(m.flexibleVersions), api),
      out,
      seen,
    };
    emitStruct(ctx, m.name, m.fields, true);
  }
  const reqFlex = parseVersions(def.request.flexibleVersions);
  const respFlex = parseVersions(def.response.flexibleVersions);
  const header = [
    `// Generated by tools/generate_codec.ts from protocol/messages/${source}. Do not edit.`,
    `// deno-lint-ignore-file`,
    `// deno-fmt-ignore-file`,
    ``,
    `import { Reader, ZERO_UUID } from "../reader.ts";`,
    `import { Writer, type RecordsValue } from "../writer.ts";`,
    ``,
    `/** ${def.name}: API key ${def.apiKey}, versions ${api[0]}-${api[1]}. */`,
    `export const ${snake(def.name).toUpperCase()}_API = {`,
    `  name: ${JSON.stringify(def.name)},`,
    `  apiKey: ${def.apiKey},`,
    `  minVersion: ${api[0]},`,
    `  maxVersion: ${api[1]},`,
    `  /** First version whose request uses KIP-482 flexible encodings (-1: none). */`,
    `  requestFlexibleFrom: ${reqFlex ? reqFlex[0] : -1},`,
    `  /** First version whose response uses KIP-482 flexible encodings (-1: none). */`,
    `  responseFlexibleFrom: ${respFlex ? respFlex[0] : -1},`,
    `  decodeRequest: (r: Reader, v: number): ${def.request.name} => decode${def.request.name}(r, v),`,
    `  encodeRequest: (w: Writer, m: ${def.request.name}, v: number): void => encode${def.request.name}(w, m, v),`,
    `  decodeResponse: (r: Reader, v: number): ${def.response.name} => decode${def.response.name}(r, v),`,
    `  encodeResponse: (w: Writer, m: ${def.response.name}, v: number): void => encode${def.response.name}(w, m, v),`,
    `} as const;`,
    ``,
  ];
  // Silence "unused" for files that need neither.
  const body = out.join("\n");
  const usesZero = body.includes("ZERO_UUID");
  const text = header.join("\n") + "\n" + body;
  return usesZero ? text : text.replace("import { Reader, ZERO_UUID }", "import { Reader }");
}

async function main() {
  const check = Deno.args.includes("--check");
  const files: string[] = [];
  for await (const e of Deno.readDir(MESSAGES_DIR)) {
    if (e.isFile && e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) files.push(e.name);
  }
  files.sort();
  const outputs = new Map<string, string>();
  const index: string[] = [
    "// Generated by tools/generate_codec.ts. Do not edit.",
    "// deno-fmt-ignore-file",
    "",
  ];
  const names: string[] = [];
  const keys = new Set<number>();
  for (const file of files) {
    const def = (await import(new URL(file, MESSAGES_DIR).href)).default as ApiDef;
    if (keys.has(def.apiKey)) throw new Error(`API key ${def.apiKey} is defined twice`);
    keys.add(def.apiKey);
    outputs.set(file, generateApi(def, file));
    const constName = `${snake(def.name).toUpperCase()}_API`;
    index.push(`export * from "./${file}";`);
    index.push(`import { ${constName} } from "./${file}";`);
    names.push(constName);
  }
  index.push("");
  index.push("/** Every API our codec knows, by API key. */");
  index.push(`export const CODECS = [${names.join(", ")}] as const;`);
  index.push("");
  outputs.set("mod.ts", index.join("\n"));

  let stale = 0;
  const wanted = new Set(outputs.keys());
  await Deno.mkdir(OUT_DIR, { recursive: true });
  for await (const e of Deno.readDir(OUT_DIR)) {
    if (e.isFile && !wanted.has(e.name)) {
      stale++;
      if (check) console.error(`protocol/generated/${e.name} has no definition`);
      else await Deno.remove(new URL(e.name, OUT_DIR));
    }
  }
  for (const [file, text] of outputs) {
    const url = new URL(file, OUT_DIR);
    let old: string | null = null;
    try {
      old = await Deno.readTextFile(url);
    } catch { /* new file */ }
    if (old === text) continue;
    stale++;
    if (check) console.error(`protocol/generated/${file} is out of date: run deno task generate`);
    else await Deno.writeTextFile(url, text);
  }
  if (check && stale > 0) Deno.exit(1);
  if (!check) console.log(`generated ${outputs.size} files (${stale} changed)`);
}

if (import.meta.main) await main();
