package config

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// pki is a throwaway CA with a server and a client certificate, written as PEM files.
type pki struct {
	dir                          string
	caFile, certFile, keyFile    string // the client's CA bundle, certificate and key
	serverCert                   tls.Certificate
	clientCAs                    *x509.CertPool
	otherCAFile                  string // a CA that signed nothing here
	clientCertCN, serverHostname string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{dir: t.TempDir(), clientCertCN: "s1copilot-worker", serverHostname: "temporal.example.internal"}
	ca, caKey := selfSigned(t, "test CA")
	other, _ := selfSigned(t, "unrelated CA")
	p.caFile = p.writePEM(t, "ca.pem", "CERTIFICATE", ca.Raw)
	p.otherCAFile = p.writePEM(t, "other-ca.pem", "CERTIFICATE", other.Raw)

	srvDER, srvKey := issue(t, ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: p.serverHostname},
		DNSNames:    []string{p.serverHostname},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	p.serverCert = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}

	cliDER, cliKey := issue(t, ca, caKey, &x509.Certificate{
		Subject:     pkix.Name{CommonName: p.clientCertCN},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	p.certFile = p.writePEM(t, "client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	require.NoError(t, err)
	p.keyFile = p.writePEM(t, "client-key.pem", "EC PRIVATE KEY", keyDER)
	p.clientCAs = x509.NewCertPool()
	p.clientCAs.AddCert(ca)
	return p
}

func (p *pki) writePEM(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

func selfSigned(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func issue(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	return der, key
}

// frontend is a TLS-terminating Temporal frontend: a real gRPC server speaking the
// WorkflowService, which demands a client certificate from the test CA and, when
// apiKey is set, that API key as a bearer token (as Temporal Cloud does).
type frontend struct {
	workflowservice.UnimplementedWorkflowServiceServer
	addr   string
	apiKey string

	mu       sync.Mutex
	clientCN []string // the verified client certificate of each call
	authz    []string // the authorization header of each call
}

func startFrontend(t *testing.T, p *pki, apiKey string) *frontend {
	t.Helper()
	f := &frontend{apiKey: apiKey}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{p.serverCert},
		ClientCAs:    p.clientCAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	srv := grpc.NewServer(grpc.Creds(creds), grpc.UnaryInterceptor(f.authenticate))
	workflowservice.RegisterWorkflowServiceServer(srv, f)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return f
}

func (f *frontend) authenticate(ctx context.Context, req any, _ *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	var cn, authz string
	if p, ok := peer.FromContext(ctx); ok {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(ti.State.VerifiedChains) > 0 {
			cn = ti.State.VerifiedChains[0][0].Subject.CommonName
		}
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok && len(md.Get("authorization")) > 0 {
		authz = md.Get("authorization")[0]
	}
	f.mu.Lock()
	f.clientCN, f.authz = append(f.clientCN, cn), append(f.authz, authz)
	f.mu.Unlock()
	if f.apiKey != "" && authz != "Bearer "+f.apiKey {
		return nil, status.Error(codes.Unauthenticated, "Request unauthorized.")
	}
	return next(ctx, req)
}

func (f *frontend) GetSystemInfo(context.Context, *workflowservice.GetSystemInfoRequest) (*workflowservice.GetSystemInfoResponse, error) {
	return &workflowservice.GetSystemInfoResponse{ServerVersion: "test-frontend"}, nil
}

func (f *frontend) seen() (cns, authz []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.clientCN...), append([]string(nil), f.authz...)
}

// temporalEnv clears every Temporal variable a developer's shell may carry, points the
// profile file at one that does not exist, then sets vars.
func temporalEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := cut(kv)
		if len(name) > 9 && name[:9] == "TEMPORAL_" || name == "S1C_TEMPORAL_ADDRESS" || name == "S1C_TEMPORAL_NAMESPACE" {
			t.Setenv(name, "")
			require.NoError(t, os.Unsetenv(name))
		}
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "no-such-profile.toml"))
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

func cut(kv string) (string, string, bool) {
	for i := range kv {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

func dialWith(t *testing.T, vars map[string]string) (client.Client, error) {
	t.Helper()
	temporalEnv(t, vars)
	tc, err := LoadTemporal()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return tc.Dial(ctx, client.Options{})
}

func mtlsVars(p *pki, f *frontend) map[string]string {
	return map[string]string{
		"TEMPORAL_ADDRESS":                 f.addr,
		"TEMPORAL_NAMESPACE":               "soc.a1b2c",
		"TEMPORAL_TLS_CLIENT_CERT_PATH":    p.certFile,
		"TEMPORAL_TLS_CLIENT_KEY_PATH":     p.keyFile,
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": p.caFile,
		"TEMPORAL_TLS_SERVER_NAME":         p.serverHostname,
	}
}

func TestDialMutualTLSWithAPIKey(t *testing.T) {
	p := newPKI(t)
	f := startFrontend(t, p, "cloud-key-123")
	vars := mtlsVars(p, f)
	vars["TEMPORAL_API_KEY"] = "cloud-key-123"
	c, err := dialWith(t, vars)
	require.NoError(t, err)
	defer c.Close()

	cns, authz := f.seen()
	require.NotEmpty(t, cns)
	assert.Equal(t, p.clientCertCN, cns[0], "the client presents its certificate")
	assert.Equal(t, "Bearer cloud-key-123", authz[0], "the client sends the API key")
}

func TestDialFailuresSayWhatToFix(t *testing.T) {
	p := newPKI(t)
	cases := []struct {
		name   string
		apiKey string // the frontend's
		change func(map[string]string)
		want   []string
	}{
		{"server signed by a CA the client does not trust", "", func(v map[string]string) {
			v["TEMPORAL_TLS_SERVER_CA_CERT_PATH"] = p.otherCAFile
		}, []string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "unknown authority"}},
		{"server certificate for another host name", "", func(v map[string]string) {
			v["TEMPORAL_TLS_SERVER_NAME"] = "elsewhere.example.internal"
		}, []string{"TEMPORAL_TLS_SERVER_NAME"}},
		{"no client certificate", "", func(v map[string]string) {
			delete(v, "TEMPORAL_TLS_CLIENT_CERT_PATH")
			delete(v, "TEMPORAL_TLS_CLIENT_KEY_PATH")
		}, []string{"TEMPORAL_TLS_CLIENT_CERT_PATH"}},
		{"no API key", "cloud-key-123", func(map[string]string) {}, []string{"TEMPORAL_API_KEY", "Unauthenticated"}},
		{"wrong API key", "cloud-key-123", func(v map[string]string) { v["TEMPORAL_API_KEY"] = "stale-key" }, []string{"TEMPORAL_API_KEY"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := startFrontend(t, p, tc.apiKey)
			vars := mtlsVars(p, f)
			tc.change(vars)
			_, err := dialWith(t, vars)
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), f.addr, "the error names the address")
			assert.NotContains(t, err.Error(), "stale-key", "the error never carries the key")
		})
	}
}

func TestTLSClientToPlainServerSaysSo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	workflowservice.RegisterWorkflowServiceServer(srv, &frontend{})
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()
	_, err = dialWith(t, map[string]string{"TEMPORAL_ADDRESS": l.Addr().String(), "TEMPORAL_TLS": "true"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TLS")
}

func TestProfileFileServesTheCLIAndEveryProcess(t *testing.T) {
	p := newPKI(t)
	f := startFrontend(t, p, "")
	profile := filepath.Join(t.TempDir(), "temporal.toml")
	require.NoError(t, os.WriteFile(profile, []byte(`
[profile.prod]
address = "`+f.addr+`"
namespace = "soc.a1b2c"
[profile.prod.tls]
client_cert_path = "`+p.certFile+`"
client_key_path = "`+p.keyFile+`"
server_ca_cert_path = "`+p.caFile+`"
server_name = "`+p.serverHostname+`"
`), 0o600))
	temporalEnv(t, map[string]string{"TEMPORAL_CONFIG_FILE": profile, "TEMPORAL_PROFILE": "prod"})
	tc, err := LoadTemporal()
	require.NoError(t, err)
	assert.Equal(t, f.addr, tc.Address)
	assert.Equal(t, "soc.a1b2c", tc.Namespace)
	assert.Equal(t, "TLS, client certificate", tc.Security())
	c, err := tc.Dial(context.Background(), client.Options{})
	require.NoError(t, err)
	c.Close()

	// s1copilot's own variables override the profile's address and namespace.
	t.Setenv("S1C_TEMPORAL_NAMESPACE", "staging")
	tc, err = LoadTemporal()
	require.NoError(t, err)
	assert.Equal(t, "staging", tc.Namespace)
	assert.Equal(t, f.addr, tc.Address)
}

func TestNoProfileMeansTheLocalDevServer(t *testing.T) {
	temporalEnv(t, nil)
	tc, err := LoadTemporal()
	require.NoError(t, err)
	assert.Equal(t, DefaultTemporalAddress, tc.Address)
	assert.Equal(t, DefaultTemporalNamespace, tc.Namespace)
	assert.Equal(t, "plain text", tc.Security())
}

func TestBrokenProfileIsAProblemToFix(t *testing.T) {
	temporalEnv(t, map[string]string{"TEMPORAL_PROFILE": "missing"})
	_, err := LoadTemporal()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TEMPORAL_PROFILE")

	temporalEnv(t, map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/cert.pem", "TEMPORAL_TLS_CLIENT_KEY_PATH": "/nonexistent/key.pem"})
	_, err = LoadTemporal()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TEMPORAL_TLS_CLIENT_CERT_PATH")
}
