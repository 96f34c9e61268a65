/** CRC-32C throughput: WebAssembly (hash-wasm) against the table version. `deno run bench/crc32c_bench.ts` */

import { crc32c, crc32cTable } from "../protocol/crc32c.ts";

const batch = crypto.getRandomValues(new Uint8Array(16384));
for (const [name, f] of [["wasm", crc32c], ["table", crc32cTable]] as const) {
  const rounds = 4000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) f(batch);
  const ms = performance.now() - started;
  console.log(
    `${name}: ${((rounds * batch.length) / 1e6 / (ms / 1000)).toFixed(0)} MB/s on 16 KiB batches`,
  );
}
