/**
 * The program's version. Release builds (`deno task compile`, the release
 * workflow) start from an entry file that tools/compile.ts generates, which
 * calls {@link setBuildRevision} with the git revision before `main()` runs.
 * From a checkout the revision is "unknown" unless SKB_REVISION is set.
 */

import denoJson from "./deno.json" with { type: "json" };

/** Filled in by release builds through {@link setBuildRevision}. */
let BUILD_REVISION = "unknown";

/** Records the git revision this build came from (called by generated build entries). */
export function setBuildRevision(revision: string): void {
  BUILD_REVISION = revision;
}

function revision(): string {
  if (BUILD_REVISION !== "unknown") return BUILD_REVISION;
  try {
    return Deno.env.get("SKB_REVISION") || BUILD_REVISION;
  } catch {
    return BUILD_REVISION; // no env permission
  }
}

/** This build's version, Deno version and git revision. */
export const VERSION = {
  version: denoJson.version as string,
  get revision(): string {
    return revision();
  },
  /** The `--version` line. */
  describe(): string {
    return `stateless-kafka-broker ${denoJson.version} (deno ${Deno.version.deno}, revision ${revision()})`;
  },
};
