/**
 * A fault-injecting decorator for a store (meta or log): while its switch says
 * so, the chosen operations (or all but ping and close) fail at once or never
 * answer, so tests can show what a broker answers when a store is down or
 * hangs, and that it recovers once the store is back.
 */

/** What the decorated store does with a call. */
export type FaultMode = "ok" | "fail" | "hang";

/** The switch shared by a test and its decorated stores. */
export class StoreFaults {
  mode: FaultMode = "ok";
  /** Operations affected; null: every operation except ping and close. */
  ops: Set<string> | null = null;
  /** Calls that were failed or left hanging, by operation. */
  readonly hit = new Map<string, number>();

  /** Sets the mode for some operations (all when none are named). */
  set(mode: FaultMode, ...ops: string[]): void {
    this.mode = mode;
    this.ops = ops.length > 0 ? new Set(ops) : null;
  }

  affects(op: string): boolean {
    if (this.mode === "ok") return false;
    if (this.ops === null) return op !== "ping" && op !== "close";
    return this.ops.has(op);
  }
}

/** `store`, with calls failing or hanging while `faults` says so. */
export function withFaults<T extends object>(store: T, faults: StoreFaults): T {
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      const op = String(prop);
      return (...args: unknown[]) => {
        if (!faults.affects(op)) return v.apply(target, args);
        faults.hit.set(op, (faults.hit.get(op) ?? 0) + 1);
        if (faults.mode === "hang") return new Promise(() => {});
        return Promise.reject(new Error(`injected fault in ${op}`));
      };
    },
  });
}
