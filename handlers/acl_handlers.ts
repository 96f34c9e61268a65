/** The ACL APIs (KIP-11, KIP-140): CreateAcls, DescribeAcls, DeleteAcls. */

import type { Handler } from "./types.ts";
import { createAcls } from "./create_acls.ts";
import { describeAcls } from "./describe_acls.ts";
import { deleteAcls } from "./delete_acls.ts";

export const ACL_HANDLERS: Handler[] = [describeAcls, createAcls, deleteAcls];
