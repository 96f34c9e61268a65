/** Helpers for the test servers: free ports, waiting for a port, finding and stopping programs. */

/** A TCP port on 127.0.0.1 that the OS just handed out and nobody listens on now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Resolves once something accepts TCP connections on the port; rejects after `timeoutMs`. */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  alive: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      if (!alive()) throw new Error(`The server on port ${port} exited while starting`);
      if (Date.now() > deadline) {
        throw new Error(`Nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The message for a server program that is not installed. */
export function missingProgram(program: string, what: string): Error {
  return new Error(
    `${program} (${what}) is not installed or not on PATH. ` +
      `Install the test dependencies with: bash scripts/install_test_deps.sh`,
  );
}

/** Where a program lives: `.tools/bin` of the project first, then PATH; null when absent. */
export function findProgram(name: string): string | null {
  const local = new URL(`../../.tools/bin/${name}`, import.meta.url).pathname;
  try {
    if (Deno.statSync(local).isFile) return local;
  } catch { /* not there */ }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      const p = `${dir}/${name}`;
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not there */ }
  }
  return null;
}

/** A started child process, its output kept for error messages. */
export class ServerProcess {
  private output = "";
  private pumps: Promise<unknown>;
  readonly status: Promise<Deno.CommandStatus>;
  private exited = false;

  constructor(readonly child: Deno.ChildProcess) {
    const decoder = new TextDecoder();
    const pump = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s) {
        this.output += decoder.decode(chunk);
        if (this.output.length > 20000) this.output = this.output.slice(-10000);
      }
    };
    this.pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
    this.status = child.status.then((s) => {
      this.exited = true;
      return s;
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** The last part of the server's output. */
  tail(): string {
    return this.output.slice(-3000);
  }

  /** Sends a signal (SIGTERM by default) and waits for the exit and the output. */
  async stop(signal: Deno.Signal = "SIGTERM", timeoutMs = 10000): Promise<void> {
    if (this.alive) {
      try {
        this.child.kill(signal);
      } catch { /* already gone */ }
      const timer = setTimeout(() => {
        try {
          this.child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, timeoutMs);
      await this.status;
      clearTimeout(timer);
    }
    await this.pumps;
  }
}
