/**
 * SASL/OAUTHBEARER over real TCP (KIP-255, KIP-768): a broker with a JWKS
 * file authenticates jose-signed JWTs, the principal is the sub claim, the
 * session ends no later than the token (KIP-368); a bad token gets RFC 7628's
 * error challenge, then SASL_AUTHENTICATION_FAILED and the close. Without a
 * JWKS the mechanism is not offered.
 */

import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { METADATA_API } from "../protocol/generated/mod.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { WireClient } from "./wire_client.ts";
import { saslBroker } from "./sasl_broker.ts";
import { authenticate, handshake } from "./sasl_client.ts";

const enc = new TextEncoder();
const message = (jwt: string) => enc.encode(`n,,\x01auth=Bearer ${jwt}\x01\x01`);
const metadataReq = {
  topics: [],
  allowAutoTopicCreation: false,
  includeClusterAuthorizedOperations: false,
  includeTopicAuthorizedOperations: false,
};

Deno.test("OAUTHBEARER over SASL_PLAINTEXT with a JWKS file", async () => {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const stranger = await generateKeyPair("RS256");
  const jwks = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
    await Deno.writeTextFile(jwks, JSON.stringify({ keys: [jwk] }));
    const mint = (claims: Record<string, unknown>, expSec = 300, key = privateKey) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + expSec)
        .sign(key);
    const good = { sub: "svc-orders", iss: "https://issuer.test", aud: "kafka" };
    await using b = await saslBroker({
      saslMechanisms: ["OAUTHBEARER", "SCRAM-SHA-512"],
      oauthbearer: {
        jwksUrl: jwks,
        expectedIssuer: "https://issuer.test",
        expectedAudience: ["kafka"],
        subClaim: "sub",
      },
      connectionsMaxReauthMs: 600_000,
    });
    {
      await using c = await WireClient.connect(b.saslPort);
      const hs = await handshake(c, "OAUTHBEARER");
      assert.equal(hs.errorCode, 0);
      assert.deepEqual(hs.mechanisms, ["OAUTHBEARER", "SCRAM-SHA-512"]);
      const r = await authenticate(c, message(await mint(good, 120)));
      assert.equal(r.errorCode, 0, r.errorMessage ?? "");
      // KIP-368: the session ends with the token (120 s), before connections.max.reauth.ms.
      assert.ok(
        r.sessionLifetimeMs > 100_000 && r.sessionLifetimeMs <= 120_000,
        `${r.sessionLifetimeMs}`,
      );
      assert.equal((await c.call(METADATA_API, 12, metadataReq)).brokers.length, 1);
    }
    const refused: [string, () => Promise<string>][] = [
      ["wrong issuer", () => mint({ ...good, iss: "https://evil.test" })],
      ["wrong audience", () => mint({ ...good, aud: "other" })],
      ["expired", () => mint(good, -120)],
      ["no sub", () => mint({ iss: good.iss, aud: good.aud })],
      ["other key", () => mint(good, 300, stranger.privateKey)],
      ["not a JWT", () => Promise.resolve("abc.def.ghi")],
    ];
    for (const [what, token] of refused) {
      await using c = await WireClient.connect(b.saslPort);
      await handshake(c, "OAUTHBEARER");
      const challenge = await authenticate(c, message(await token()));
      assert.equal(challenge.errorCode, 0, what);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(challenge.authBytes)), {
        status: "invalid_token",
      });
      const r = await authenticate(c, enc.encode("\x01"));
      assert.equal(r.errorCode, ErrorCode.SASL_AUTHENTICATION_FAILED, what);
      assert.equal(
        r.errorMessage,
        "Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER",
      );
      assert.ok(await c.closedByPeer(), what);
    }
  } finally {
    await Deno.remove(jwks).catch(() => {});
  }
});

Deno.test("OAUTHBEARER without a JWKS is not offered: UNSUPPORTED_SASL_MECHANISM", async () => {
  await using b = await saslBroker({ saslMechanisms: ["OAUTHBEARER", "PLAIN"] });
  await using c = await WireClient.connect(b.saslPort);
  const hs = await handshake(c, "OAUTHBEARER");
  assert.equal(hs.errorCode, ErrorCode.UNSUPPORTED_SASL_MECHANISM);
  assert.deepEqual(hs.mechanisms, ["PLAIN"]);
  assert.ok(await c.closedByPeer());
});
