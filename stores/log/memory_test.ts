import { logStoreConformance } from "../log_conformance.ts";
import { MemoryLogStore } from "./memory.ts";

logStoreConformance("memory", { open: () => Promise.resolve(new MemoryLogStore()) });
