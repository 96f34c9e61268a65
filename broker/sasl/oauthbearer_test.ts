import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { JwksKeys, OAuthBearerServer } from "./oauthbearer.ts";
import { SaslFailure } from "./mechanism.ts";
import type { OAuthBearerSettings } from "../security_config.ts";

const enc = new TextEncoder();
const SETTINGS: OAuthBearerSettings = {
  jwksUrl: null,
  expectedIssuer: "https://issuer.test",
  expectedAudience: ["kafka"],
  subClaim: "sub",
};

async function fixture() {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const other = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
  const path = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify({ keys: [jwk] }));
  const mint = (claims: Record<string, unknown>, key = privateKey, expSec = 300) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expSec)
      .sign(key);
  return { path, mint, otherKey: other.privateKey };
}

const message = (jwt: string) => enc.encode(`n,,\x01auth=Bearer ${jwt}\x01\x01`);

Deno.test("OAUTHBEARER accepts a signed token of the expected issuer and audience", async () => {
  const f = await fixture();
  try {
    const server = new OAuthBearerServer(new JwksKeys(f.path), SETTINGS);
    const jwt = await f.mint({ sub: "alice", iss: "https://issuer.test", aud: "kafka" });
    const step = await server.evaluate(message(jwt));
    assert.equal(step.user, "alice");
    assert.ok(server.expiresAtMs! > Date.now());
  } finally {
    await Deno.remove(f.path);
  }
});

Deno.test("OAUTHBEARER refuses bad tokens with an error challenge, then fails", async (t) => {
  const f = await fixture();
  const keys = new JwksKeys(`file://${f.path}`);
  const good = { sub: "alice", iss: "https://issuer.test", aud: "kafka" };
  const cases: [string, () => Promise<string>][] = [
    ["wrong issuer", () => f.mint({ ...good, iss: "https://evil.test" })],
    ["wrong audience", () => f.mint({ ...good, aud: "other" })],
    ["expired", () => f.mint(good, undefined, -120)],
    ["signed by another key", () => f.mint(good, f.otherKey as CryptoKey)],
    ["no sub claim", () => f.mint({ iss: good.iss, aud: good.aud })],
  ];
  try {
    for (const [name, jwt] of cases) {
      await t.step(name, async () => {
        const server = new OAuthBearerServer(keys, SETTINGS);
        const step = await server.evaluate(message(await jwt()));
        assert.equal(step.user, null);
        assert.deepEqual(JSON.parse(new TextDecoder().decode(step.response)), {
          status: "invalid_token",
        });
        await assert.rejects(server.evaluate(enc.encode("\x01")), SaslFailure);
      });
    }
    await t.step("a malformed client message fails at once", async () => {
      const server = new OAuthBearerServer(keys, SETTINGS);
      await assert.rejects(server.evaluate(enc.encode("garbage")), SaslFailure);
    });
  } finally {
    await Deno.remove(f.path);
  }
});
