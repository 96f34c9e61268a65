/** The authentication APIs (KIP-43, KIP-152, KIP-554): SASL and SCRAM credentials. */

import type { Handler } from "./types.ts";

export const SASL_HANDLERS: Handler[] = [];
