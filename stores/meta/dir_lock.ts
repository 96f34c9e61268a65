/**
 * One process at a time per directory. The lock is the OS's advisory lock on a
 * `lock` file (flock on Unix), so it ends with the process that holds it: a
 * crash or SIGKILL leaves no stale lock, only a file that the next open takes
 * over. The file holds the holder's pid, for the message others see.
 */

import { join } from "node:path";

/** Another process holds the directory. */
export class DirectoryLockedError extends Error {
  constructor(dir: string, holderPid: string) {
    const who = holderPid ? `another process (pid ${holderPid})` : "another process";
    super(
      `Meta store directory ${
        JSON.stringify(dir)
      } is in use: ${who} holds its lock; a file: meta store serves one broker process at a time`,
    );
    this.name = "DirectoryLockedError";
  }
}

/** The pid the lock file names, or "" when it cannot be read (Windows locks its bytes too). */
function holderOf(path: string): string {
  try {
    return new TextDecoder().decode(Deno.readFileSync(path)).trim();
  } catch {
    return "";
  }
}

/** A held directory lock. */
export interface DirectoryLock {
  release(): void;
}

/** Takes the directory's lock (creating the directory), or throws DirectoryLockedError. */
export function lockDirectory(dir: string): DirectoryLock {
  Deno.mkdirSync(dir, { recursive: true });
  // Never removed: a removed lock file would let two processes lock two different files.
  const file = Deno.openSync(join(dir, "lock"), { read: true, write: true, create: true });
  try {
    if (!file.tryLockSync(true)) throw new DirectoryLockedError(dir, holderOf(join(dir, "lock")));
    file.truncateSync(0);
    file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch (e) {
    file.close();
    throw e;
  }
  return {
    release() {
      file.unlockSync();
      file.close();
    },
  };
}
