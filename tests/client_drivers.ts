/**
 * The real Kafka clients the interop tests drive, each through its driver
 * (tests/clients/CONTRACT.md). A missing client is a failure that says how to
 * install it, never a skip.
 */

import { DENO, ROOT } from "./broker_util.ts";

/** One client family: how to run its driver and which codecs it offers here. */
export interface ClientDriver {
  name: string;
  command: string[];
  codecs: string[];
  /** Checks the client is installed; throws with install instructions otherwise. */
  check(): Promise<void>;
}

const path = (p: string) => new URL(p, ROOT).pathname;

async function runs(cmd: string[], what: string): Promise<void> {
  try {
    const out = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr).slice(-500));
  } catch (e) {
    throw new Error(
      `${what} is not available (${
        (e as Error).message.trim()
      }). Install the test dependencies with: bash scripts/install_test_deps.sh`,
    );
  }
}

/** The franz-go driver (tests/clients/franzgo), built by scripts/install_test_deps.sh. */
const FRANZGO_BIN = path(".tools/bin/franzgo-driver");

/** Fails when the franz-go driver is missing, or older than its sources (a stale build). */
async function checkFranzGo(): Promise<void> {
  const built = await Deno.stat(FRANZGO_BIN).then((s) => s.mtime, () => null);
  if (built) {
    const dir = path("tests/clients/franzgo/");
    for await (const e of Deno.readDir(dir)) {
      if ((await Deno.stat(dir + e.name)).mtime! > built) {
        throw new Error(
          `.tools/bin/franzgo-driver is older than tests/clients/franzgo/${e.name}. Rebuild ` +
            "it with: bash scripts/install_test_deps.sh",
        );
      }
    }
  }
  await runs([FRANZGO_BIN, "--check"], "The franz-go client driver (.tools/bin/franzgo-driver)");
}

export const DRIVERS: ClientDriver[] = [
  {
    name: "java",
    command: ["bash", path("tests/clients/java/driver.sh")],
    codecs: ["none", "gzip", "snappy", "lz4", "zstd"],
    check: () =>
      runs(["bash", path("tests/clients/java/driver.sh"), "--check"], "The Java client driver"),
  },
  {
    name: "librdkafka",
    command: ["python3", path("tests/clients/python/driver.py")],
    codecs: ["none", "gzip", "snappy", "lz4", "zstd"],
    check: () => runs(["python3", "-c", "import confluent_kafka"], "confluent-kafka for Python"),
  },
  {
    name: "kafkajs",
    command: [DENO, "run", "-A", path("tests/clients/kafkajs_driver.ts")],
    codecs: ["none", "gzip", "snappy", "lz4", "zstd"],
    check: () => Promise.resolve(),
  },
  {
    name: "platformatic",
    command: [DENO, "run", "-A", path("tests/clients/platformatic_driver.ts")],
    codecs: ["none", "gzip", "snappy", "lz4", "zstd"],
    check: () => Promise.resolve(),
  },
  {
    name: "franzgo",
    command: [FRANZGO_BIN],
    codecs: ["none", "gzip", "snappy", "lz4", "zstd"],
    check: checkFranzGo,
  },
];

/** A driver run whose stdout is read as it comes, counting acknowledgement lines. */
export interface Run {
  acks: number;
  done: Promise<{ stdout: string; stderr: string; code: number }>;
}

/** Runs a driver and returns its stdout and exit code, whatever the code. */
export function runAny(d: ClientDriver, args: string[], timeoutMs: number): Run {
  const child = new Deno.Command(d.command[0], {
    args: [...d.command.slice(1), ...args],
    stdout: "piped",
    stderr: "piped",
    cwd: path("."),
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
  }, timeoutMs);
  const run: Run = { acks: 0, done: null! };
  const read = async (s: ReadableStream<Uint8Array>, count: boolean) => {
    let text = "";
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
      if (count) run.acks += chunk.split('{"i":').length - 1;
      text += chunk;
    }
    return text;
  };
  run.done = Promise.all([read(child.stdout, true), read(child.stderr, false), child.status])
    .then(([stdout, stderr, status]) => ({ stdout, stderr, code: status.code }))
    .finally(() => clearTimeout(timer));
  return run;
}

/** Runs a driver command; returns stdout, failing with its stderr when it exits non-zero. */
export async function runDriver(
  driver: ClientDriver,
  args: string[],
  timeoutMs = 180_000,
): Promise<string> {
  const out = await runAny(driver, args, timeoutMs).done;
  if (out.code !== 0) {
    throw new Error(
      `${driver.name} ${args.join(" ")} exited ${out.code}:\n${out.stderr.slice(-3000)}`,
    );
  }
  return out.stdout;
}
