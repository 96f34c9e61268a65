/**
 * Background WAL checkpoints for the SQLite meta store. A checkpoint copies
 * the write-ahead log back into the database file and, with
 * `synchronous=NORMAL`, fsyncs both files. SQLite's automatic checkpoint runs
 * inside the commit that crosses the threshold, so the broker's event loop
 * would wait for those fsyncs (milliseconds, tens of milliseconds on a busy
 * disk) with every producer's flush behind it. Here a worker thread, on its own
 * connection, runs a PASSIVE checkpoint every interval instead: it never blocks
 * writers, and the commit path is left with the few pages written since.
 *
 * A PASSIVE checkpoint cannot rewind the log while commits keep arriving, so
 * the writer keeps a (higher) automatic threshold as well: under sustained load
 * it checkpoints the little the worker has not yet copied, which lets the log
 * start over. Neither changes what a commit guarantees.
 */

const WORKER_SOURCE = `
import { DatabaseSync } from "node:sqlite";
let db = null;
let timer = null;
self.onmessage = (e) => {
  const m = e.data;
  if (m.type === "start") {
    try {
      db = new DatabaseSync(m.path);
      const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
      timer = setInterval(() => {
        try {
          checkpoint.get();
        } catch {
          // Busy or failing: the next round, or the writer's own threshold, catches up.
        }
      }, m.intervalMs);
    } catch {
      // Without this worker the writer's automatic checkpoints still run.
    }
  } else if (m.type === "close") {
    clearInterval(timer);
    try {
      db?.close();
    } catch {
      // Closing anyway.
    }
    postMessage("closed");
    self.close();
  }
};
`;

/** A worker thread checkpointing one SQLite database's WAL every `intervalMs`. */
export class WalCheckpointer {
  private readonly worker: Worker;
  private closed: Promise<void> | null = null;

  constructor(path: string, intervalMs: number) {
    this.worker = new Worker(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`, {
      type: "module",
    });
    // A worker that fails to load only costs the background checkpoints.
    this.worker.onerror = (e) => e.preventDefault();
    this.worker.postMessage({ type: "start", path, intervalMs });
  }

  /** Stops the worker once its connection is closed (or after a second regardless). */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      const timer = setTimeout(finish, 1000);
      const worker = this.worker;
      function finish() {
        clearTimeout(timer);
        worker.terminate();
        resolve();
      }
      worker.onmessage = finish;
      worker.onerror = (e) => {
        e.preventDefault();
        finish();
      };
      worker.postMessage({ type: "close" });
    });
    return this.closed;
  }
}
