"""The contract's security options (CONTRACT.md "Security") as librdkafka settings, shared by the
confluent-kafka and kcat drivers, and the error line for a failed authentication or handshake."""

import json
import os
import sys

PROTOCOLS = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


def add_arguments(parser):
    parser.add_argument("--security-protocol", choices=PROTOCOLS, default=None)
    parser.add_argument("--sasl-mechanism", choices=MECHANISMS, default=None)
    parser.add_argument("--sasl-username", default=None)
    parser.add_argument("--sasl-password", default=None)
    parser.add_argument("--ssl-ca", default=None)
    parser.add_argument("--ssl-cert", default=None)
    parser.add_argument("--ssl-key", default=None)
    parser.add_argument("--connect-timeout-ms", type=int, default=15000)


def conf(args):
    """librdkafka properties for the flags (empty without --security-protocol)."""
    if args.security_protocol is None:
        for name in ("sasl_mechanism", "sasl_username", "sasl_password", "ssl_ca", "ssl_cert", "ssl_key"):
            if getattr(args, name) is not None:
                raise SystemExit(f"--{name.replace('_', '-')} needs --security-protocol")
        return {}
    c = {"security.protocol": args.security_protocol}
    if args.security_protocol.startswith("SASL_"):
        if args.sasl_username is None or args.sasl_password is None:
            raise SystemExit("--sasl-username and --sasl-password are required with SASL")
        c["sasl.mechanisms"] = args.sasl_mechanism or "PLAIN"
        c["sasl.username"] = args.sasl_username
        c["sasl.password"] = args.sasl_password
    if args.security_protocol.endswith("SSL"):
        if args.ssl_ca:
            c["ssl.ca.location"] = args.ssl_ca
        if (args.ssl_cert is None) != (args.ssl_key is None):
            raise SystemExit("--ssl-cert and --ssl-key go together")
        if args.ssl_cert:
            c["ssl.certificate.location"] = args.ssl_cert
            c["ssl.key.location"] = args.ssl_key
    return c


def kind_of(code_name, text):
    """The error line's kind for a librdkafka error, or None when it is not a security failure.
    librdkafka reports SASL failures as _AUTHENTICATION and TLS ones as _SSL (or as a
    _TRANSPORT error naming the SSL handshake)."""
    if code_name in ("_AUTHENTICATION", "SASL_AUTHENTICATION_FAILED", "UNSUPPORTED_SASL_MECHANISM"):
        return "authentication"
    if code_name == "_SSL" or "SSL handshake failed" in text:
        return "tls"
    if "SASL authentication error" in text or "Authentication failed" in text:
        return "authentication"
    return None


def print_error(kind, name, message):
    sys.stdout.write(json.dumps({"error": kind, "name": name, "message": message}, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def fail(kind, name, message):
    """Prints the error line and ends the process at once (librdkafka would keep retrying)."""
    print_error(kind, name, message)
    sys.stderr.flush()
    os._exit(1)
