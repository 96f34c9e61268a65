/**
 * State kept as JSON files in a directory so that it survives a crash:
 * `snapshot.json` holds the whole state as of the start of journal generation
 * G, and `journal-<G>.jsonl`, `journal-<G+1>.jsonl`, ... hold the changes made
 * since, one JSON line each, in the order they were made.
 *
 * Why a journal: a change (a produce flush's commit) appends one short line
 * instead of rewriting the whole state. The state is rewritten (a checkpoint)
 * only once the journal has grown as large as the last snapshot, so the bytes
 * written stay proportional to the changes made.
 *
 * Durability: a line reaches the OS (a write call) before its change is
 * acknowledged, which survives the process being killed. With `fsync`, lines
 * are also fsynced before they are acknowledged, in groups: one fsync covers
 * every line written before it starts. Snapshots are always written to a
 * temporary file, fsynced and renamed over the old one, and the old journals
 * are removed only after that.
 *
 * Each open starts a new journal file, so a line cut short by a crash can only
 * be the last one of its file; it was never acknowledged and is skipped.
 */

import { getLogger } from "@logtape/logtape";
import { join } from "node:path";

const log = getLogger(["skb", "meta", "file"]);

const SNAPSHOT = "snapshot.json";
const JOURNAL = /^journal-(\d+)\.jsonl$/;
/** By default a checkpoint waits for at least this much journal, whatever the snapshot's size. */
const MIN_CHECKPOINT_BYTES = 4 * 1024 * 1024;
/** ... or for this many journal files (each open starts one). */
const MAX_JOURNAL_FILES = 16;

const encoder = new TextEncoder();

function journalName(generation: number): string {
  return `journal-${String(generation).padStart(9, "0")}.jsonl`;
}

/** Journal generations present in the directory, ascending. */
function journalGenerations(dir: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const m = JOURNAL.exec(e.name);
    if (m && e.isFile) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/** fsyncs a directory, so a rename or a new file in it survives a power cut (where the OS allows). */
function syncDirectory(dir: string): void {
  try {
    using d = Deno.openSync(dir, { read: true });
    d.syncSync();
  } catch { /* not possible on this platform: renames are still atomic */ }
}

/** What a directory holds: the last snapshot's state and the changes made after it. */
export interface JournalContents {
  /** The snapshot's state, or null when no checkpoint was ever made. */
  snapshot: unknown;
  changes: unknown[];
  /** The generation the next journal file gets. */
  next: number;
  snapshotBytes: number;
  journalBytes: number;
  journalFiles: number;
}

/** Reads a directory's snapshot and journals, removing journals a finished checkpoint left behind. */
export function readJournal(dir: string): JournalContents {
  let snapshot: unknown = null;
  let first = 0;
  let snapshotBytes = 0;
  const snapshotPath = join(dir, SNAPSHOT);
  try {
    const text = Deno.readTextFileSync(snapshotPath);
    const s = JSON.parse(text);
    if (s?.format !== 1 || !Number.isSafeInteger(s.generation)) {
      throw new Error(`${snapshotPath} is not a snapshot this version can read`);
    }
    snapshot = s.state;
    first = s.generation;
    snapshotBytes = text.length;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const changes: unknown[] = [];
  let journalBytes = 0;
  let journalFiles = 0;
  const generations = journalGenerations(dir);
  for (const g of generations) {
    const path = join(dir, journalName(g));
    if (g < first) {
      Deno.removeSync(path);
      continue;
    }
    const text = Deno.readTextFileSync(path);
    journalBytes += text.length;
    journalFiles++;
    const lines = text.split("\n");
    lines.pop(); // "" after the last newline, or a line cut short by a crash
    lines.forEach((line, i) => {
      try {
        changes.push(JSON.parse(line));
      } catch {
        throw new Error(`${path} line ${i + 1} is not JSON: the journal is damaged`);
      }
    });
  }
  const next = Math.max(first, (generations.at(-1) ?? -1) + 1);
  return { snapshot, changes, next, snapshotBytes, journalBytes, journalFiles };
}

/** One journal file being appended to. */
class JournalFile {
  private readonly file: Deno.FsFile;
  /** Settles when the last scheduled fsync has. */
  private lastSync: Promise<void> = Promise.resolve();
  /** The fsync that will cover lines written now (it has not started yet). */
  private nextSync: Promise<void> | null = null;

  /** Creates the file; it must not exist yet. */
  constructor(path: string, private readonly fsync: boolean) {
    this.file = Deno.openSync(path, { append: true, createNew: true });
  }

  /** Makes this file's fsyncs wait for `previous` (the previous file's last one). */
  follow(previous: Promise<void>): void {
    this.lastSync = previous.catch(() => {});
  }

  /** Writes bytes at once; resolves when they are as durable as configured. */
  append(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length;) off += this.file.writeSync(bytes.subarray(off));
    return this.fsync ? this.sync() : Promise.resolve();
  }

  private sync(): Promise<void> {
    if (this.nextSync) return this.nextSync;
    const p = this.lastSync.then(() => {
      this.nextSync = null;
      return this.file.syncData();
    });
    this.nextSync = p;
    this.lastSync = p.catch(() => {});
    return p;
  }

  /** fsyncs what was written and closes the file. */
  async close(): Promise<void> {
    await this.lastSync;
    try {
      await this.file.syncData();
    } finally {
      this.file.close();
    }
  }
}

/** Options for {@link Journal}. */
export interface JournalOptions {
  /** fsync every line before acknowledging it (grouped). */
  fsync: boolean;
  /** The least journal that makes a checkpoint (default 4 MiB). */
  checkpointBytes?: number;
}

/** Appends changes to a directory's journal and checkpoints the state now and then. */
export class Journal {
  private generation: number;
  private file: JournalFile;
  private snapshotBytes: number;
  private journalBytes: number;
  private journalFiles: number;
  private checkpointing: Promise<void> | null = null;

  /** Starts a new journal file after what `readJournal` found. */
  constructor(
    private readonly dir: string,
    found: JournalContents,
    private readonly opts: JournalOptions,
  ) {
    this.generation = found.next;
    this.file = new JournalFile(join(dir, journalName(this.generation)), opts.fsync);
    if (opts.fsync) syncDirectory(dir);
    this.snapshotBytes = found.snapshotBytes;
    this.journalBytes = found.journalBytes;
    this.journalFiles = found.journalFiles + 1;
  }

  /** Writes one change (synchronously, so lines keep the order of the calls); see the module comment. */
  append(change: unknown): Promise<void> {
    const bytes = encoder.encode(JSON.stringify(change) + "\n");
    this.journalBytes += bytes.length;
    return this.file.append(bytes);
  }

  /** Whether enough journal has piled up since the last snapshot to write a new one. */
  get wantsCheckpoint(): boolean {
    return this.checkpointing === null &&
      (this.journalBytes >
          Math.max(this.opts.checkpointBytes ?? MIN_CHECKPOINT_BYTES, this.snapshotBytes) ||
        this.journalFiles > MAX_JOURNAL_FILES);
  }

  /**
   * Starts a checkpoint of `state`, the whole state after every change appended
   * so far: it is serialized now and later changes go to a new journal file; the
   * snapshot is written in the background. If that fails, the old snapshot and
   * every journal since are kept, and a later checkpoint tries again.
   */
  checkpoint(state: unknown): void {
    const generation = this.generation + 1;
    let text: string;
    let next: JournalFile;
    try {
      text = JSON.stringify({ format: 1, generation, state });
      next = new JournalFile(join(this.dir, journalName(generation)), this.opts.fsync);
    } catch (e) {
      this.checkpointFailed(e);
      // Try again once as much journal has piled up again, not at every change.
      this.journalBytes = 0;
      this.journalFiles = 1;
      return;
    }
    const previous = this.file.close();
    next.follow(previous);
    this.file = next;
    if (this.opts.fsync) syncDirectory(this.dir);
    this.generation = generation;
    this.snapshotBytes = text.length;
    this.journalBytes = 0;
    this.journalFiles = 1;
    this.checkpointing = this.writeSnapshot(text, generation, previous)
      .catch((e) => this.checkpointFailed(e))
      .finally(() => this.checkpointing = null);
  }

  private checkpointFailed(e: unknown): void {
    log.warn("Checkpoint of {dir} failed (its journals are kept): {error}", {
      dir: this.dir,
      error: (e as Error).message,
    });
  }

  private async writeSnapshot(text: string, generation: number, previous: Promise<void>) {
    // The snapshot stands in for the previous journal files only once they are complete.
    await previous;
    const tmp = join(this.dir, SNAPSHOT + ".tmp");
    const bytes = encoder.encode(text);
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
      await f.syncData();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, join(this.dir, SNAPSHOT));
    syncDirectory(this.dir);
    for (const g of journalGenerations(this.dir)) {
      if (g < generation) await Deno.remove(join(this.dir, journalName(g)));
    }
  }

  /** Waits for a running checkpoint, then fsyncs and closes the journal file. */
  async close(): Promise<void> {
    await this.checkpointing;
    await this.file.close();
  }
}
