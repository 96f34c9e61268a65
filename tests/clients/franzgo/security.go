package main

// The contract's security options (CONTRACT.md "Security") as franz-go options: kgo.DialTLSConfig
// for SSL and SASL_SSL, kgo.SASL with pkg/sasl/plain or pkg/sasl/scram, the connection check run
// before a command, and the error line for a failed authentication or TLS handshake.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

type securityFlags struct {
	protocol, mechanism, username, password, ca, cert, key string
	connectTimeoutMs                                       int
}

var sec securityFlags

// secOpts are the security options every client of this run gets.
var secOpts []kgo.Opt

func defineSecurity(fs *flag.FlagSet) {
	fs.StringVar(&sec.protocol, "security-protocol", "", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL")
	fs.StringVar(&sec.mechanism, "sasl-mechanism", "PLAIN", "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&sec.username, "sasl-username", "", "SASL user")
	fs.StringVar(&sec.password, "sasl-password", "", "SASL password")
	fs.StringVar(&sec.ca, "ssl-ca", "", "PEM file of the CA that signed the broker's certificate")
	fs.StringVar(&sec.cert, "ssl-cert", "", "PEM file of the client certificate (mutual TLS)")
	fs.StringVar(&sec.key, "ssl-key", "", "PEM file of the client key (mutual TLS)")
	fs.IntVar(&sec.connectTimeoutMs, "connect-timeout-ms", 15_000, "bound on the connection check")
}

// buildSecurity turns the parsed flags into secOpts.
func buildSecurity() error {
	switch sec.protocol {
	case "", "PLAINTEXT":
		return nil
	case "SSL", "SASL_PLAINTEXT", "SASL_SSL":
	default:
		return usage(fmt.Sprintf("unknown --security-protocol %q", sec.protocol))
	}
	if strings.HasSuffix(sec.protocol, "SSL") {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if sec.ca != "" {
			pem, err := os.ReadFile(sec.ca)
			if err != nil {
				return err
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return usage(fmt.Sprintf("--ssl-ca %s holds no PEM certificate", sec.ca))
			}
		}
		if (sec.cert == "") != (sec.key == "") {
			return usage("--ssl-cert and --ssl-key go together")
		}
		if sec.cert != "" {
			pair, err := tls.LoadX509KeyPair(sec.cert, sec.key)
			if err != nil {
				return err
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		secOpts = append(secOpts, kgo.DialTLSConfig(cfg))
	}
	if strings.HasPrefix(sec.protocol, "SASL_") {
		if sec.username == "" || sec.password == "" {
			return usage("--sasl-username and --sasl-password are required with SASL")
		}
		auth := scram.Auth{User: sec.username, Pass: sec.password}
		switch sec.mechanism {
		case "PLAIN":
			secOpts = append(secOpts, kgo.SASL(plain.Auth{User: sec.username, Pass: sec.password}.AsMechanism()))
		case "SCRAM-SHA-256":
			secOpts = append(secOpts, kgo.SASL(auth.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			secOpts = append(secOpts, kgo.SASL(auth.AsSha512Mechanism()))
		default:
			return usage(fmt.Sprintf("unsupported --sasl-mechanism %q", sec.mechanism))
		}
	}
	return nil
}

// errorKind names a security failure: authentication (SASL refused), tls (handshake failed),
// connection (the broker closed or never answered); "" for anything else.
func errorKind(err error) string {
	var recordHeader tls.RecordHeaderError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var alert tls.AlertError
	var verify *tls.CertificateVerificationError
	var firstEOF *kgo.ErrFirstReadEOF
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.UnsupportedSaslMechanism),
		errors.Is(err, kerr.IllegalSaslState):
		return "authentication"
	case errors.As(err, &recordHeader), errors.As(err, &unknownAuthority), errors.As(err, &hostname),
		errors.As(err, &invalid), errors.As(err, &alert), errors.As(err, &verify),
		strings.Contains(err.Error(), "tls: "), strings.Contains(err.Error(), "to be a tls alert"):
		return "tls"
	case errors.As(err, &firstEOF):
		// franz-go's guess at why the broker hung up: TLS on a plaintext port, or the reverse.
		if strings.Contains(err.Error(), "using TLS when the broker is not") {
			return "tls"
		}
		return "connection"
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) {
		return "connection"
	}
	return ""
}

func printError(kind string, err error) {
	name := fmt.Sprintf("%T", err)
	var ke *kerr.Error
	if errors.As(err, &ke) {
		name = ke.Message
	}
	out.print(struct {
		Error   string `json:"error"`
		Name    string `json:"name"`
		Message string `json:"message"`
	}{kind, name, err.Error()})
	out.flush()
}

// checkConnection pings the cluster (one Metadata request per broker, again until the connect
// timeout); a security failure ends the run with the error line.
func checkConnection(bootstrap string) {
	if sec.protocol == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(sec.connectTimeoutMs)*time.Millisecond)
	defer cancel()
	cl, err := kgo.NewClient(clientOpts(bootstrap)...)
	if err != nil {
		fail(err)
	}
	defer cl.Close()
	var last error
	for ctx.Err() == nil {
		if last = cl.Ping(ctx); last == nil {
			return
		}
		if k := errorKind(last); k == "authentication" || k == "tls" {
			printError(k, last)
			os.Exit(1)
		}
		logf("connection check: %v", last)
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	printError("connection", fmt.Errorf("no broker answered within %d ms: %w", sec.connectTimeoutMs, last))
	os.Exit(1)
}
