/**
 * A real S3-compatible server for tests, on a free port, stopped on
 * `await using`. Two servers are supported, chosen by SKB_S3_SERVER:
 *
 * - `moto` (the default): moto's server from PyPI (`moto_server`), in memory;
 *   it honours `If-None-Match: *` on PUT. Installed by scripts/install_test_deps.sh.
 * - `minio`: MinIO (`minio` in .tools/bin or on PATH), data in a temp dir;
 *   `scripts/install_test_deps.sh --with-minio` builds it with `go install`.
 *
 * `stop()` and `start()` take the server away and bring it back on the same
 * port (moto forgets its buckets; MinIO keeps them).
 */

import type { S3Credentials } from "../../stores/log/s3.ts";
import {
  findProgram,
  freePort,
  missingProgram,
  ServerProcess,
  waitForPort,
} from "./server_util.ts";

/** A running S3-compatible server. */
export interface S3Server extends AsyncDisposable {
  kind: "moto" | "minio";
  endpoint: string;
  region: string;
  credentials: S3Credentials;
  /** The standard AWS variables for a broker process using this server. */
  env: Record<string, string>;
  /** `s3://bucket/prefix?endpoint=...&region=...&force_path_style=true` */
  url(bucket: string, prefix?: string): string;
  createBucket(bucket: string): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function waitForHttp(
  url: string,
  timeoutMs: number,
  alive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await r.body?.cancel();
      if (r.status < 500) return;
    } catch { /* not yet */ }
    if (!alive()) throw new Error("The server exited while starting");
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the S3 server SKB_S3_SERVER names (moto by default); a missing one fails with the install command. */
export async function startS3Server(): Promise<S3Server> {
  const kind = (Deno.env.get("SKB_S3_SERVER") ?? "moto") as "moto" | "minio";
  if (kind !== "moto" && kind !== "minio") {
    throw new Error(`SKB_S3_SERVER=${JSON.stringify(kind)}: use moto or minio`);
  }
  const bin = findProgram(kind === "moto" ? "moto_server" : "minio");
  if (!bin) {
    throw kind === "moto"
      ? missingProgram("moto_server", "moto's S3 server, from pip install 'moto[server]'")
      : new Error(
        "minio is not installed (.tools/bin/minio or PATH). Build it with: " +
          "bash scripts/install_test_deps.sh --with-minio (or use SKB_S3_SERVER=moto)",
      );
  }
  const port = freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials: S3Credentials = kind === "minio"
    ? { accessKeyId: "skb-test-user", secretAccessKey: "skb-test-secret" }
    : { accessKeyId: "testing", secretAccessKey: "testing" };
  const region = "us-east-1";
  const dir = kind === "minio" ? await Deno.makeTempDir({ prefix: "skb-minio-" }) : null;
  let proc: ServerProcess | null = null;

  const start = async () => {
    const command = kind === "moto"
      ? new Deno.Command(bin, {
        args: ["-H", "127.0.0.1", "-p", String(port)],
        env: { PYTHONUNBUFFERED: "1" },
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      })
      : new Deno.Command(bin, {
        args: [
          "server",
          dir!,
          "--address",
          `127.0.0.1:${port}`,
          "--console-address",
          `127.0.0.1:${freePort()}`,
          "--quiet",
        ],
        env: {
          MINIO_ROOT_USER: credentials.accessKeyId,
          MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
          MINIO_BROWSER: "off",
          MINIO_UPDATE: "off",
        },
        stdout: "piped",
        stderr: "piped",
        stdin: "null",
      });
    const p = new ServerProcess(command.spawn());
    proc = p;
    try {
      await waitForPort(port, 20000, () => p.alive);
      await waitForHttp(
        kind === "minio" ? `${endpoint}/minio/health/live` : `${endpoint}/moto-api/`,
        20000,
        () => p.alive,
      );
    } catch (e) {
      await p.stop("SIGKILL");
      throw new Error(`${kind} did not start: ${(e as Error).message}\n${p.tail()}`);
    }
  };
  const stop = async () => {
    await proc?.stop("SIGTERM");
    proc = null;
  };

  await start();
  return {
    kind,
    endpoint,
    region,
    credentials,
    env: {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: region,
    },
    url: (bucket: string, prefix = "") =>
      `s3://${bucket}${prefix ? "/" + prefix : ""}?endpoint=${
        encodeURIComponent(endpoint)
      }&region=${region}&force_path_style=true`,
    async createBucket(bucket: string) {
      const { S3Client, CreateBucketCommand } = await import("@aws-sdk/client-s3");
      const s3 = new S3Client({ region, endpoint, forcePathStyle: true, credentials });
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      } catch (e) {
        const name = (e as Error).name;
        if (name !== "BucketAlreadyOwnedByYou" && name !== "BucketAlreadyExists") throw e;
      } finally {
        s3.destroy();
      }
    },
    stop,
    start,
    async [Symbol.asyncDispose]() {
      await stop();
      if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
