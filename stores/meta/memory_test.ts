import { metaStoreConformance } from "../meta_conformance.ts";
import { MemoryMetaStore } from "./memory.ts";

metaStoreConformance("memory", { open: () => Promise.resolve(new MemoryMetaStore()) });
