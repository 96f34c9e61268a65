/**
 * Delegation tokens (CreateDelegationToken, RenewDelegationToken,
 * ExpireDelegationToken, DescribeDelegationToken) and client metrics
 * (GetTelemetrySubscriptions, PushTelemetry) over real TCP, at each API's
 * lowest and highest version, with the exact answers Apache Kafka 4.4 gave on
 * a single node with default settings and a PLAINTEXT listener; then Kafka
 * 4.4's kafka-delegation-tokens printing what it printed against Kafka, and
 * kafka-broker-api-versions listing all six as supported.
 */

import assert from "node:assert/strict";
import {
  API_VERSIONS_API,
  CREATE_DELEGATION_TOKEN_API,
  defaultApiVersionsRequest,
  DESCRIBE_DELEGATION_TOKEN_API,
  EXPIRE_DELEGATION_TOKEN_API,
  GET_TELEMETRY_SUBSCRIPTIONS_API,
  PUSH_TELEMETRY_API,
  type PushTelemetryRequest,
  RENEW_DELEGATION_TOKEN_API,
} from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/reader.ts";
import { testBroker } from "./broker_util.ts";
import { runKafkaTool } from "./kafka_tools.ts";
import { WireClient } from "./wire_client.ts";

const REFUSED = ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED;
const NO_TIMES = { issueTimestampMs: -1, expiryTimestampMs: -1, maxTimestampMs: -1 };

/** What Kafka answered to a client with no subscription, as it answered it. */
const SUBSCRIPTION = {
  throttleTimeMs: 0,
  errorCode: 0,
  acceptedCompressionTypes: [4, 3, 1, 2],
  pushIntervalMs: 300000,
  telemetryMaxBytes: 1048576,
  deltaTemporality: true,
  requestedMetrics: [],
};

Deno.test("delegation token requests are refused as Kafka refuses them on PLAINTEXT, at every version edge", async (t) => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const create = (v: number, owner: [string, string] | null) =>
    c.call(CREATE_DELEGATION_TOKEN_API, v, {
      ownerPrincipalType: owner?.[0] ?? null,
      ownerPrincipalName: owner?.[1] ?? null,
      renewers: [{ principalType: "User", principalName: "bob" }],
      maxLifetimeMs: -1,
    });

  await t.step("CreateDelegationToken v1 names the caller as owner", async () => {
    assert.deepEqual(await create(1, null), {
      errorCode: REFUSED,
      principalType: "User",
      principalName: "ANONYMOUS",
      tokenRequesterPrincipalType: "",
      tokenRequesterPrincipalName: "",
      ...NO_TIMES,
      tokenId: "",
      hmac: new Uint8Array(0),
      throttleTimeMs: 0,
    });
  });
  await t.step("CreateDelegationToken v3 names the requested owner and the caller", async () => {
    for (
      const [owner, name] of [[["User", "alice"], "alice"], [null, "ANONYMOUS"]] as const
    ) {
      assert.deepEqual(await create(3, owner as [string, string] | null), {
        errorCode: REFUSED,
        principalType: "User",
        principalName: name,
        tokenRequesterPrincipalType: "User",
        tokenRequesterPrincipalName: "ANONYMOUS",
        ...NO_TIMES,
        tokenId: "",
        hmac: new Uint8Array(0),
        throttleTimeMs: 0,
      });
    }
  });
  await t.step("RenewDelegationToken and ExpireDelegationToken v1-2", async () => {
    const hmac = new Uint8Array([1, 2, 3]);
    const refused = { errorCode: REFUSED, expiryTimestampMs: -1, throttleTimeMs: 0 };
    for (const v of [1, 2]) {
      assert.deepEqual(
        await c.call(RENEW_DELEGATION_TOKEN_API, v, { hmac, renewPeriodMs: -1 }),
        refused,
      );
      assert.deepEqual(
        await c.call(EXPIRE_DELEGATION_TOKEN_API, v, { hmac, expiryTimePeriodMs: -1 }),
        refused,
      );
    }
  });
  await t.step("DescribeDelegationToken v1 and v3, for all owners and for one", async () => {
    for (const v of [1, 3]) {
      for (const owners of [null, [{ principalType: "User", principalName: "alice" }]]) {
        assert.deepEqual(
          await c.call(DESCRIBE_DELEGATION_TOKEN_API, v, { owners }),
          { errorCode: REFUSED, tokens: [], throttleTimeMs: 0 },
        );
      }
    }
  });
});

Deno.test("GetTelemetrySubscriptions and PushTelemetry answer as Kafka does with no client-metrics subscription", async (t) => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const get = (clientInstanceId: string) =>
    c.call(GET_TELEMETRY_SUBSCRIPTIONS_API, 0, { clientInstanceId });
  const push = (
    clientInstanceId: string,
    subscriptionId: number,
    more: Partial<PushTelemetryRequest> = {},
  ) =>
    c.call(PUSH_TELEMETRY_API, 0, {
      clientInstanceId,
      subscriptionId,
      terminating: false,
      compressionType: 0,
      metrics: new Uint8Array(0),
      ...more,
    });
  const answer = (errorCode: number) => ({ throttleTimeMs: 0, errorCode });

  let id = "";
  let sub = 0;
  await t.step("a client sending the zero UUID is given a new one", async () => {
    const res = await get(ZERO_UUID);
    id = res.clientInstanceId;
    sub = res.subscriptionId;
    assert.notEqual(id, ZERO_UUID);
    assert.deepEqual(res, { ...SUBSCRIPTION, clientInstanceId: id, subscriptionId: sub });
    assert.notEqual((await get(ZERO_UUID)).clientInstanceId, id);
  });
  await t.step("a known id keeps it, with Kafka's subscription id for it", async () => {
    // The ids Kafka 4.4 gave these instance ids.
    for (
      const [known, want] of [
        ["AAAAAAAAAAAAAAAAAAAAAQ", -725132321],
        ["AAAAAAAAAAAAAAAAAAAAAg", -725132324],
        ["AAAAAAAAAAAAAAAAAAAABA", -725132326],
        ["_QqILoozTGSBZvDv8S705Q", -743007330],
      ] as const
    ) {
      assert.deepEqual(await get(known), {
        ...SUBSCRIPTION,
        clientInstanceId: known,
        subscriptionId: want,
      });
    }
  });
  await t.step("asking again within the push interval is throttled", async () => {
    assert.deepEqual(await get(id), {
      throttleTimeMs: 0,
      errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED,
      clientInstanceId: ZERO_UUID,
      subscriptionId: 0,
      acceptedCompressionTypes: [],
      pushIntervalMs: 0,
      telemetryMaxBytes: 0,
      deltaTemporality: false,
      requestedMetrics: [],
    });
  });
  await t.step("the first push is taken, the next within the interval throttled", async () => {
    assert.deepEqual(await push(id, sub), answer(ErrorCode.NONE));
    assert.deepEqual(await push(id, sub), answer(ErrorCode.THROTTLING_QUOTA_EXCEEDED));
  });
  await t.step("a terminating push is taken; any push after it is refused", async () => {
    assert.deepEqual(await push(id, sub, { terminating: true }), answer(ErrorCode.NONE));
    assert.deepEqual(await push(id, sub), answer(ErrorCode.INVALID_REQUEST));
  });
  await t.step(
    "reserved ids, unknown subscriptions, compressions and sizes are refused",
    async () => {
      assert.deepEqual(await push(ZERO_UUID, sub), answer(ErrorCode.INVALID_REQUEST));
      assert.deepEqual(
        await push("AAAAAAAAAAAAAAAAAAAAAQ", -725132321),
        answer(ErrorCode.INVALID_REQUEST),
      );
      assert.deepEqual(
        await push("AAAAAAAAAAAAAAAAAAAAAw", 7),
        answer(ErrorCode.UNKNOWN_SUBSCRIPTION_ID),
      );
      // After UNKNOWN_SUBSCRIPTION_ID a client may fetch its subscription at once.
      const again = await get("AAAAAAAAAAAAAAAAAAAAAw");
      assert.equal(again.errorCode, ErrorCode.NONE);
      const ok = again.subscriptionId;
      const fresh = (await get("AAAAAAAAAAAAAAAAAAAABQ")).subscriptionId;
      assert.deepEqual(
        await push("AAAAAAAAAAAAAAAAAAAABQ", fresh, { compressionType: 9 }),
        answer(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE),
      );
      // Its next push is not the first after a fetch that counted: throttled, as in Kafka.
      assert.deepEqual(
        await push("AAAAAAAAAAAAAAAAAAAAAw", ok),
        answer(ErrorCode.THROTTLING_QUOTA_EXCEEDED),
      );
      const big = (await get("AAAAAAAAAAAAAAAAAAAABg")).subscriptionId;
      assert.deepEqual(
        await push("AAAAAAAAAAAAAAAAAAAABg", big, { metrics: new Uint8Array(1048577) }),
        answer(ErrorCode.TELEMETRY_TOO_LARGE),
      );
    },
  );
});

Deno.test("Kafka 4.4's kafka-delegation-tokens and kafka-broker-api-versions against us", async (t) => {
  await using broker = await testBroker();
  const bootstrap = `127.0.0.1:${broker.port}`;
  const config = await Deno.makeTempFile({ suffix: ".properties" });
  try {
    const tokens = (...args: string[]) =>
      runKafkaTool("kafka-delegation-tokens", [
        "--bootstrap-server",
        bootstrap,
        "--command-config",
        config,
        ...args,
      ]);
    const [describe, create, versions] = await Promise.all([
      tokens("--describe"),
      tokens("--create", "--max-life-time-period", "-1"),
      runKafkaTool("kafka-broker-api-versions", ["--bootstrap-server", bootstrap]),
    ]);
    // Kafka's client prints its own message for the error code: no response carries one.
    const refusal =
      /^org\.apache\.kafka\.common\.errors\.UnsupportedByAuthenticationException: Delegation Token requests are not allowed on PLAINTEXT\/1-way SSL channels and on delegation token authenticated channels\.$/m;

    await t.step("--describe fails as against Kafka", () => {
      assert.equal(describe.code, 1, describe.stdout + describe.stderr);
      assert.equal(describe.stdout, "Calling describe token operation for current user.\n");
      assert.match(describe.stderr, refusal, describe.stderr);
    });
    await t.step("--create fails as against Kafka", () => {
      assert.equal(create.code, 1, create.stdout + create.stderr);
      assert.equal(
        create.stdout,
        "Calling create token operation with renewers :[] , max-life-time-period :-1\n",
      );
      assert.match(create.stderr, refusal, create.stderr);
    });
    await t.step("kafka-broker-api-versions lists all six as supported", () => {
      assert.equal(versions.code, 0, versions.stderr);
      const lines = versions.stdout.split("\n").map((l) => l.trim());
      for (
        const want of [
          "CreateDelegationToken(38): 1 to 3 [usable: 3],",
          "RenewDelegationToken(39): 1 to 2 [usable: 2],",
          "ExpireDelegationToken(40): 1 to 2 [usable: 2],",
          "DescribeDelegationToken(41): 1 to 3 [usable: 3],",
          "GetTelemetrySubscriptions(71): 0 [usable: 0],",
          "PushTelemetry(72): 0 [usable: 0],",
        ]
      ) assert.ok(lines.includes(want), `${want} not in\n${versions.stdout}`);
    });
  } finally {
    await Deno.remove(config);
  }
});

Deno.test("ApiVersions lists the six APIs with Kafka 4.4's version ranges", async () => {
  await using broker = await testBroker();
  await using c = await WireClient.connect(broker.port);
  const res = await c.call(API_VERSIONS_API, 3, defaultApiVersionsRequest());
  const keys = new Map(res.apiKeys.map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  for (
    const [key, range] of [[38, [1, 3]], [39, [1, 2]], [40, [1, 2]], [41, [1, 3]], [71, [0, 0]], [
      72,
      [0, 0],
    ]] as const
  ) assert.deepEqual(keys.get(key), range, `API ${key}`);
});
