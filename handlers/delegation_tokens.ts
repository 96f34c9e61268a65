/**
 * CreateDelegationToken (key 38, versions 1-3), RenewDelegationToken (39,
 * versions 1-2), ExpireDelegationToken (40, versions 1-2) and
 * DescribeDelegationToken (41, versions 1-3), KIP-48: delegation tokens need
 * SASL, which this broker does not serve yet (issue 13), so every request is
 * refused as Kafka 4.4 refuses it on a PLAINTEXT listener: with
 * DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, which Kafka checks before whether a
 * token secret is configured (DELEGATION_TOKEN_AUTH_DISABLED). None of these
 * responses carries a message; Kafka's clients print their own ("Delegation
 * Token requests are not allowed on PLAINTEXT/1-way SSL channels ...").
 * Like Kafka, a refused create still names the owner (the requested one from
 * v3, else the caller, User:ANONYMOUS without authentication) and, from v3,
 * the caller; every timestamp is -1.
 */

import {
  CREATE_DELEGATION_TOKEN_API,
  type CreateDelegationTokenResponse,
  DESCRIBE_DELEGATION_TOKEN_API,
  type DescribeDelegationTokenResponse,
  EXPIRE_DELEGATION_TOKEN_API,
  type ExpireDelegationTokenResponse,
  RENEW_DELEGATION_TOKEN_API,
  type RenewDelegationTokenResponse,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { defineHandler } from "./types.ts";

/** Who every client is until SASL comes: Kafka's principal for an unauthenticated channel. */
const ANONYMOUS = { principalType: "User", principalName: "ANONYMOUS" };

const REFUSED = ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED;

export const createDelegationToken = defineHandler({
  api: CREATE_DELEGATION_TOKEN_API,
  minVersion: 1,
  maxVersion: 3,
  handle(req): Promise<CreateDelegationTokenResponse> {
    const owner = req.ownerPrincipalType !== null && req.ownerPrincipalName !== null
      ? { principalType: req.ownerPrincipalType, principalName: req.ownerPrincipalName }
      : ANONYMOUS;
    return Promise.resolve({
      errorCode: REFUSED,
      ...owner,
      tokenRequesterPrincipalType: ANONYMOUS.principalType,
      tokenRequesterPrincipalName: ANONYMOUS.principalName,
      issueTimestampMs: -1,
      expiryTimestampMs: -1,
      maxTimestampMs: -1,
      tokenId: "",
      hmac: new Uint8Array(0),
      throttleTimeMs: 0,
    });
  },
});

export const renewDelegationToken = defineHandler({
  api: RENEW_DELEGATION_TOKEN_API,
  minVersion: 1,
  maxVersion: 2,
  handle(): Promise<RenewDelegationTokenResponse> {
    return Promise.resolve({ errorCode: REFUSED, expiryTimestampMs: -1, throttleTimeMs: 0 });
  },
});

export const expireDelegationToken = defineHandler({
  api: EXPIRE_DELEGATION_TOKEN_API,
  minVersion: 1,
  maxVersion: 2,
  handle(): Promise<ExpireDelegationTokenResponse> {
    return Promise.resolve({ errorCode: REFUSED, expiryTimestampMs: -1, throttleTimeMs: 0 });
  },
});

export const describeDelegationToken = defineHandler({
  api: DESCRIBE_DELEGATION_TOKEN_API,
  minVersion: 1,
  maxVersion: 3,
  handle(): Promise<DescribeDelegationTokenResponse> {
    return Promise.resolve({ errorCode: REFUSED, tokens: [], throttleTimeMs: 0 });
  },
});
