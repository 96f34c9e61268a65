/**
 * Throwaway certificates for the TLS tests, made with the system `openssl`
 * (and `keytool` for the Java stores) in a fresh temp dir:
 *
 * - a CA, and a server certificate it signed for 127.0.0.1 and localhost
 *   (subjectAltName IP and DNS);
 * - client certificates the CA signed, one per subject asked for;
 * - a second, unrelated CA with one client certificate ("wrong CA" tests);
 * - for Java clients: a PKCS12 truststore holding the CA and, per client, a
 *   PKCS12 keystore with its key and chain (Java 17 reads PKCS12 stores).
 *
 * Every store password is `STORE_PASSWORD`. `cleanup()` removes the dir.
 */

/** The password of every PKCS12 store written here. */
export const STORE_PASSWORD = "changeit";

/** One client's files. */
export interface ClientCert {
  /** The subject as asked, e.g. `/CN=alice/O=acme`. */
  subject: string;
  certFile: string;
  keyFile: string;
  /** Certificate then the CA's (PEM), for clients that want one file. */
  chainFile: string;
  /** PKCS12 keystore (key + chain), password STORE_PASSWORD. */
  keystoreFile: string;
}

export interface TestCerts {
  dir: string;
  caCertFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** PKCS12 truststore with the CA, password STORE_PASSWORD. */
  truststoreFile: string;
  /** The clients asked for, by the name given. */
  clients: Record<string, ClientCert>;
  /**
   * A client certificate issued by an intermediate CA the CA signed; its
   * chainFile holds the certificate then the intermediate's (not the CA's).
   */
  intermediateClient: ClientCert;
  /** An unrelated CA, and a client certificate it issued. */
  otherCaCertFile: string;
  otherClient: ClientCert;
  /** A new server certificate signed by the same CA (for reload tests); returns its files. */
  newServerCert(name: string, days?: number): Promise<{ certFile: string; keyFile: string }>;
  cleanup(): Promise<void>;
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

async function makeCa(dir: string, name: string, cn: string) {
  const key = `${dir}/${name}.key`;
  const cert = `${dir}/${name}.pem`;
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    cert,
    "-days",
    "30",
    "-subj",
    cn,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  return { key, cert };
}

async function issue(
  dir: string,
  name: string,
  subject: string,
  ca: { key: string; cert: string },
  ext: string,
  days = 30,
) {
  const key = `${dir}/${name}.key`;
  const csr = `${dir}/${name}.csr`;
  const cert = `${dir}/${name}.pem`;
  const extFile = `${dir}/${name}.ext`;
  await Deno.writeTextFile(extFile, ext);
  await run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    subject,
  ], dir);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-CAcreateserial",
    "-out",
    cert,
    "-days",
    String(days),
    "-sha256",
    "-extfile",
    extFile,
  ], dir);
  return { key, cert };
}

const SERVER_EXT = "basicConstraints=CA:FALSE\n" +
  "keyUsage=digitalSignature,keyEncipherment\n" +
  "extendedKeyUsage=serverAuth\n" +
  "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
const CLIENT_EXT = "basicConstraints=CA:FALSE\n" +
  "keyUsage=digitalSignature,keyEncipherment\n" +
  "extendedKeyUsage=clientAuth\n";

const INTERMEDIATE_EXT = "basicConstraints=critical,CA:TRUE,pathlen:0\n" +
  "keyUsage=critical,keyCertSign,cRLSign\n";

async function clientCert(
  dir: string,
  name: string,
  subject: string,
  ca: { key: string; cert: string },
): Promise<ClientCert> {
  const c = await issue(dir, name, subject, ca, CLIENT_EXT);
  const chainFile = `${dir}/${name}-chain.pem`;
  await Deno.writeTextFile(
    chainFile,
    (await Deno.readTextFile(c.cert)) + (await Deno.readTextFile(ca.cert)),
  );
  const keystoreFile = `${dir}/${name}.p12`;
  await run("openssl", [
    "pkcs12",
    "-export",
    "-in",
    c.cert,
    "-inkey",
    c.key,
    "-certfile",
    ca.cert,
    "-name",
    name,
    "-out",
    keystoreFile,
    "-passout",
    `pass:${STORE_PASSWORD}`,
  ], dir);
  return { subject, certFile: c.cert, keyFile: c.key, chainFile, keystoreFile };
}

/**
 * Makes the certificates. `clients` maps a name to a subject in openssl's
 * form, e.g. `{alice: "/CN=alice/O=acme"}`.
 */
export async function makeTestCerts(
  clients: Record<string, string> = { alice: "/CN=alice/O=acme" },
): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "skb-certs-" });
  try {
    const ca = await makeCa(dir, "ca", "/CN=skb test CA/O=skb");
    const server = await issue(dir, "server", "/CN=localhost", ca, SERVER_EXT);
    const truststoreFile = `${dir}/truststore.p12`;
    await run("keytool", [
      "-importcert",
      "-noprompt",
      "-alias",
      "ca",
      "-file",
      ca.cert,
      "-keystore",
      truststoreFile,
      "-storetype",
      "PKCS12",
      "-storepass",
      STORE_PASSWORD,
    ], dir);
    const out: Record<string, ClientCert> = {};
    for (const [name, subject] of Object.entries(clients)) {
      out[name] = await clientCert(dir, `client-${name}`, subject, ca);
    }
    const intermediate = await issue(
      dir,
      "intermediate-ca",
      "/CN=skb intermediate CA/O=skb",
      ca,
      INTERMEDIATE_EXT,
    );
    const intermediateClient = await clientCert(
      dir,
      "client-carol",
      "/CN=carol/O=acme",
      intermediate,
    );
    const other = await makeCa(dir, "other-ca", "/CN=unrelated CA/O=elsewhere");
    const otherClient = await clientCert(dir, "other-client", "/CN=mallory/O=elsewhere", other);
    return {
      dir,
      caCertFile: ca.cert,
      caKeyFile: ca.key,
      serverCertFile: server.cert,
      serverKeyFile: server.key,
      truststoreFile,
      clients: out,
      intermediateClient,
      otherCaCertFile: other.cert,
      otherClient,
      newServerCert: async (name, days = 30) => {
        const c = await issue(
          dir,
          `server-${name}`,
          `/CN=localhost/O=${name}`,
          ca,
          SERVER_EXT,
          days,
        );
        return { certFile: c.cert, keyFile: c.key };
      },
      cleanup: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    };
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}
