import assert from "node:assert/strict";
import { objectUrl, Signer } from "./s3_http.ts";

Deno.test("s3 GET signing: AWS's Signature Version 4 example of a ranged GET", async () => {
  // The example of S3's documentation ("Authenticating Requests: Using the Authorization
  // Header", GET Object): its access key, secret, request and expected signature.
  const url = objectUrl(
    { bucket: "examplebucket", region: "us-east-1", endpoint: undefined, forcePathStyle: false },
    "test.txt",
  );
  assert.equal(url.href, "https://examplebucket.s3.us-east-1.amazonaws.com/test.txt");
  const signer = new Signer("us-east-1", () =>
    Promise.resolve({
      accessKeyId: "AKIAIOSFODNN7EXAMPLE",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }));
  const headers = await signer.headers(
    "GET",
    new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
    { range: "bytes=0-9" },
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    new Date("2013-05-24T00:00:00Z"),
  );
  assert.equal(
    headers.authorization,
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
      "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
      "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
  );
  assert.equal(headers["x-amz-date"], "20130524T000000Z");
  assert.equal(headers.host, undefined, "fetch sends the host from the URL");
});

Deno.test("s3 GET signing: object URLs, path style and virtual-hosted", () => {
  const at = { bucket: "b1", region: "eu-west-1", forcePathStyle: true };
  assert.equal(
    objectUrl({ ...at, endpoint: "http://127.0.0.1:9000" }, "log/a b+c").href,
    "http://127.0.0.1:9000/b1/log/a%20b%2Bc",
  );
  assert.equal(
    objectUrl({ ...at, endpoint: "https://s3.example.com/base/", forcePathStyle: false }, "k")
      .href,
    "https://b1.s3.example.com/base/k",
  );
  // A bucket with dots stays in the path (its name would not match a wildcard certificate).
  assert.equal(
    objectUrl({ ...at, bucket: "a.b", endpoint: undefined, forcePathStyle: false }, "k").href,
    "https://s3.eu-west-1.amazonaws.com/a.b/k",
  );
});
