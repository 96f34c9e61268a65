/**
 * A small, strict parser of Prometheus' text exposition format 0.0.4, for
 * tests of `/metrics`: it throws on anything a Prometheus server would refuse
 * or that breaks the format's rules (bad names or escapes, a TYPE after its
 * samples, a family split in two, duplicate series, histogram buckets that are
 * not cumulative or whose +Inf bucket differs from _count).
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition. */
export interface Exposition {
  /** Metric family name -> type. */
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one series with exactly these labels, or undefined. */
  get(name: string, labels?: Record<string, string>): number | undefined;
  /** The sum over every series of `name` whose labels include `match`. */
  sum(name: string, match?: Record<string, string>): number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

function parseValue(s: string, line: number): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
    throw new Error(`Line ${line}: value ${JSON.stringify(s)} is not a number`);
  }
  return Number(s);
}

/** Parses `{a="x",b="y"}` starting at `text[0] === "{"`; returns labels and the rest. */
function parseLabels(text: string, line: number): [Record<string, string>, string] {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    if (text[i] === "}") return [labels, text.slice(i + 1)];
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`Line ${line}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`Line ${line}: bad label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`Line ${line}: label ${name} repeated`);
    if (text[eq + 1] !== '"') throw new Error(`Line ${line}: label ${name} value is not quoted`);
    let v = "";
    let j = eq + 2;
    for (;; j++) {
      const c = text[j];
      if (c === undefined) throw new Error(`Line ${line}: unterminated label value`);
      if (c === '"') break;
      if (c === "\\") {
        const n = text[++j];
        if (n === "\\") v += "\\";
        else if (n === '"') v += '"';
        else if (n === "n") v += "\n";
        else throw new Error(`Line ${line}: bad escape \\${n} in label ${name}`);
      } else if (c === "\n") {
        throw new Error(`Line ${line}: raw newline in label value`);
      } else v += c;
    }
    labels[name] = v;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") throw new Error(`Line ${line}: expected ',' or '}' after label`);
  }
}

/** The family a sample belongs to, given the declared types. */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = types.get(base);
      if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
    }
  }
  return name;
}

function key(name: string, labels: Record<string, string>): string {
  return name + JSON.stringify(Object.entries(labels).sort());
}

/** Parses and validates an exposition; throws with the offending line number. */
export function parsePrometheus(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("The exposition must end with a newline");
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const finished = new Set<string>();
  let current: string | null = null;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === "") throw new Error(`Line ${line}: empty line`);
    const enter = (family: string) => {
      if (current !== family) {
        if (finished.has(family)) throw new Error(`Line ${line}: family ${family} split in two`);
        if (current !== null) finished.add(current);
        current = family;
      }
    };
    if (raw.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`Line ${line}: bad metric name ${name}`);
      enter(name);
      if (kind === "TYPE") {
        if (types.has(name)) throw new Error(`Line ${line}: second TYPE for ${name}`);
        if (samples.some((s) => familyOf(s.name, types) === name)) {
          throw new Error(`Line ${line}: TYPE for ${name} after its samples`);
        }
        if (!TYPES.has(rest)) throw new Error(`Line ${line}: unknown type ${rest}`);
        types.set(name, rest);
      } else {
        if (helps.has(name)) throw new Error(`Line ${line}: second HELP for ${name}`);
        helps.add(name);
      }
      return;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nm) throw new Error(`Line ${line}: no metric name in ${JSON.stringify(raw)}`);
    const name = nm[0];
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) [labels, rest] = parseLabels(rest, line);
    const parts = rest.split(" ");
    if (parts[0] !== "" || parts.length < 2 || parts.length > 3) {
      throw new Error(`Line ${line}: expected 'name{labels} value [timestamp]'`);
    }
    const value = parseValue(parts[1], line);
    if (parts[2] !== undefined && !/^-?\d+$/.test(parts[2])) {
      throw new Error(`Line ${line}: bad timestamp ${parts[2]}`);
    }
    const family = familyOf(name, types);
    enter(family);
    const k = key(name, labels);
    if (seen.has(k)) throw new Error(`Line ${line}: duplicate series ${k}`);
    seen.add(k);
    const type = types.get(family);
    if (type === "counter" && !(value >= 0)) {
      throw new Error(`Line ${line}: counter ${name} is ${value}`);
    }
    if (type === "histogram" && name === `${family}_bucket` && !("le" in labels)) {
      throw new Error(`Line ${line}: bucket without le`);
    }
    samples.push({ name, labels, value });
  });

  // Histograms: buckets cumulative, ending in +Inf equal to _count.
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const groups = new Map<string, Sample[]>();
    for (const s of samples) {
      if (s.name !== `${family}_bucket`) continue;
      const { le: _le, ...others } = s.labels;
      const g = key(family, others);
      groups.set(g, [...(groups.get(g) ?? []), s]);
    }
    for (const [g, buckets] of groups) {
      let prevLe = -Infinity;
      let prev = 0;
      for (const b of buckets) {
        const le = parseValue(b.labels.le, 0);
        if (!(le > prevLe)) throw new Error(`${g}: le ${b.labels.le} out of order`);
        if (b.value < prev) throw new Error(`${g}: bucket le=${b.labels.le} below the previous`);
        prevLe = le;
        prev = b.value;
      }
      if (prevLe !== Infinity) throw new Error(`${g}: no +Inf bucket`);
      const { le: _le, ...others } = buckets[0].labels;
      const count = samples.find((s) =>
        s.name === `${family}_count` && key(family, s.labels) === key(family, others)
      );
      if (count === undefined) throw new Error(`${g}: no _count`);
      if (count.value !== prev) {
        throw new Error(`${g}: +Inf bucket ${prev} != _count ${count.value}`);
      }
      if (!samples.some((s) => s.name === `${family}_sum` && key(family, s.labels) === g)) {
        throw new Error(`${g}: no _sum`);
      }
    }
  }

  const matches = (l: Record<string, string>, m: Record<string, string>) =>
    Object.entries(m).every(([k, v]) => l[k] === v);
  return {
    types,
    samples,
    get(name, labels = {}) {
      const k = key(name, labels);
      return samples.find((s) => key(s.name, s.labels) === k)?.value;
    },
    sum(name, match = {}) {
      return samples.filter((s) => s.name === name && matches(s.labels, match))
        .reduce((a, s) => a + s.value, 0);
    },
  };
}
