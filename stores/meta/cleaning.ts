/**
 * What every backend's replaceIndexEntries (KIP-58 log cleaner) checks before
 * it looks at the store: the arguments must describe a swap that keeps the
 * index in offset order.
 */

import type { IndexEntry } from "../types.ts";

function isOffset(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function checkEntry(e: IndexEntry, what: string): void {
  if (
    !isOffset(e?.baseOffset) || !isOffset(e.lastOffset) || e.lastOffset < e.baseOffset ||
    !isOffset(e.position) || !isOffset(e.length) || !Number.isSafeInteger(e.maxTimestamp) ||
    typeof e.blob !== "string" || e.blob === ""
  ) {
    throw new RangeError(`replaceIndexEntries: ${what} ${JSON.stringify(e)} is not an index entry`);
  }
}

/** Entries in offset order, none overlapping the next. */
function checkOrder(entries: IndexEntry[], what: string): void {
  for (let i = 0; i < entries.length; i++) {
    checkEntry(entries[i], what);
    if (i > 0 && entries[i].baseOffset <= entries[i - 1].lastOffset) {
      throw new RangeError(`replaceIndexEntries: ${what} entries overlap or are out of order`);
    }
  }
}

/**
 * Throws a RangeError unless `expected` and `replacement` are index entries in
 * offset order, `replacement` lies within `expected`'s offsets (and is empty
 * when `expected` is), and `cleanedThrough` is an offset.
 */
export function checkReplacement(
  expected: IndexEntry[],
  replacement: IndexEntry[],
  cleanedThrough: number,
): void {
  if (!Array.isArray(expected) || !Array.isArray(replacement)) {
    throw new RangeError("replaceIndexEntries: expected and replacement must be arrays");
  }
  if (!isOffset(cleanedThrough)) {
    throw new RangeError(`replaceIndexEntries: cleanedThrough ${cleanedThrough} is not an offset`);
  }
  checkOrder(expected, "expected");
  checkOrder(replacement, "replacement");
  if (expected.length === 0) {
    if (replacement.length > 0) {
      throw new RangeError("replaceIndexEntries: a replacement needs the entries it replaces");
    }
    return;
  }
  const from = expected[0].baseOffset;
  const to = expected[expected.length - 1].lastOffset;
  if (
    replacement.length > 0 &&
    (replacement[0].baseOffset < from || replacement[replacement.length - 1].lastOffset > to)
  ) {
    throw new RangeError(
      `replaceIndexEntries: the replacement must lie within offsets ${from}-${to}`,
    );
  }
}

/** The fields that identify an index entry (maxTimestamp is not one). */
export function sameEntry(a: IndexEntry, b: IndexEntry): boolean {
  return a.baseOffset === b.baseOffset && a.lastOffset === b.lastOffset && a.blob === b.blob &&
    a.position === b.position && a.length === b.length;
}
