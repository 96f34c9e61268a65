/** The ACL APIs (KIP-11, KIP-140): CreateAcls, DescribeAcls, DeleteAcls. */

import type { Handler } from "./types.ts";

export const ACL_HANDLERS: Handler[] = [];
