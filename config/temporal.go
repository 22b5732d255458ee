package config

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/codec"
)

// Defaults when neither S1C_TEMPORAL_* nor the Temporal profile names them.
const (
	DefaultTemporalAddress   = "127.0.0.1:7233"
	DefaultTemporalNamespace = "default"
)

// Temporal is where the workflows run and how to reach it. The connection (TLS, mTLS,
// API key, gRPC headers) comes from the Temporal profile, the TEMPORAL_* variables and
// TOML file that the temporal CLI reads too (go.temporal.io/sdk/contrib/envconfig), so one
// profile serves the CLI and every s1copilot process. S1C_TEMPORAL_ADDRESS and
// S1C_TEMPORAL_NAMESPACE, when set, override the profile's address and namespace.
type Temporal struct {
	Address   string `envconfig:"TEMPORAL_ADDRESS" desc:"Temporal frontend host:port; empty = the Temporal profile's (TEMPORAL_ADDRESS, the profile file), else 127.0.0.1:7233"`
	Namespace string `envconfig:"TEMPORAL_NAMESPACE" desc:"Temporal namespace; empty = the Temporal profile's (TEMPORAL_NAMESPACE, the profile file), else default"`
	TaskQueue string `envconfig:"TASK_QUEUE" default:"s1copilot" desc:"task queue of the investigation workflows"`
	// S1TaskQueue is separate so that exactly one worker process, whose client keeps
	// SentinelOne's per-class limits, runs every activity that calls SentinelOne.
	// Derived from TaskQueue unless set, so that two deployments in one namespace never
	// run each other's SentinelOne calls.
	S1TaskQueue string `envconfig:"S1_TASK_QUEUE" desc:"task queue of the activities that call SentinelOne; empty = <S1C_TASK_QUEUE>-s1"`
	// Codec encrypts every payload this process writes to Temporal and decrypts what it
	// reads; every process of a deployment, the operator commands included, needs the
	// same key ring, so it lives with the connection.
	Codec Codec

	// conn is the profile's connection, read by LoadTemporal/Load. A Temporal built in
	// code (tests, the devstack) has none and dials in plain text.
	conn client.Options
	// connSource says where conn came from, for messages ("profile prod of FILE").
	connSource string
}

// The names below derive from TaskQueue, so that two deployments in one namespace
// (two consoles, or staging beside production) never share a poller, a control
// workflow or each other's SentinelOne calls.

// ControlTaskQueue is the task queue of the singleton control workflow: its own, so
// that reading the kill switch or reserving an action never waits behind a backlog of
// investigation workflow tasks (10,000 investigations arriving at once, say).
func (t Temporal) ControlTaskQueue() string { return t.TaskQueue + "-control" }

// ControlWorkflowID is the ID of the deployment's control workflow (kill switch, caps).
func (t Temporal) ControlWorkflowID() string { return t.TaskQueue + "-control" }

// DVGateWorkflowID is the ID of the deployment's Deep Visibility query gate: one per
// SentinelOne token, as the S1 task queue is (init-query is limited per token).
func (t Temporal) DVGateWorkflowID() string { return t.S1TaskQueue + "-dv-gate" }

// PollerTaskQueue carries the poller workflow and its activity.
func (t Temporal) PollerTaskQueue() string { return t.TaskQueue + "-poller" }

// PollerWorkflowID is the ID of the deployment's one long-running poller workflow.
func (t Temporal) PollerWorkflowID() string { return t.TaskQueue + "-poller" }

// derive fills the names left empty from TaskQueue, and the address and namespace
// from the defaults when neither s1copilot's variables nor a profile set them.
func (t *Temporal) derive() {
	if t.S1TaskQueue == "" && t.TaskQueue != "" {
		t.S1TaskQueue = t.TaskQueue + "-s1"
	}
	if t.Address == "" {
		t.Address = DefaultTemporalAddress
	}
	if t.Namespace == "" {
		t.Namespace = DefaultTemporalNamespace
	}
}

// loadProfile reads the Temporal profile (TEMPORAL_CONFIG_FILE or the CLI's default file,
// TEMPORAL_PROFILE, then the TEMPORAL_* variables) and keeps its connection settings.
// A missing file is no profile; a broken one is a problem to fix.
func (t *Temporal) loadProfile() []string {
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{})
	if err != nil {
		return []string{fmt.Sprintf("Temporal profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE, TEMPORAL_*): %v", err)}
	}
	if t.Address == "" {
		t.Address = prof.Address
	}
	if t.Namespace == "" {
		t.Namespace = prof.Namespace
	}
	opts, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return []string{fmt.Sprintf("Temporal connection: %v (check TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH or the profile's [profile.<name>.tls])", err)}
	}
	t.conn = opts
	t.connSource = describeProfile(prof)
	ring, err := t.Codec.Keyring()
	if err != nil {
		return []string{err.Error()}
	}
	if ring != nil {
		t.connSource += ", payloads encrypted (key " + ring.CurrentKeyID() + ")"
	}
	return nil
}

// Encrypt sets o's data converter to the encrypting one, and its failure converter to one
// that moves failure messages and stack traces into encrypted attributes too (an error
// text may name a host or a path), when Codec has a key ring and o sets neither.
func (t Temporal) Encrypt(o *client.Options) error {
	dc, err := t.DataConverter()
	if err != nil || dc == nil || o.DataConverter != nil {
		return err
	}
	o.DataConverter = dc
	if o.FailureConverter == nil {
		o.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
	}
	return nil
}

// DataConverter is the SDK's default converter, with every payload encrypted when Codec
// has a key ring (nil, nil when it has none: the SDK's default applies).
func (t Temporal) DataConverter() (converter.DataConverter, error) {
	ring, err := t.Codec.Keyring()
	if err != nil || ring == nil {
		return nil, err
	}
	return codec.DataConverter(ring), nil
}

// describeProfile names how the connection is secured, never with the secrets.
func describeProfile(p envconfig.ClientConfigProfile) string {
	var parts []string
	switch {
	case p.TLS != nil && p.TLS.Disabled:
		parts = append(parts, "plain text")
	case p.TLS != nil || p.APIKey != "":
		parts = append(parts, "TLS")
		if p.TLS != nil && (p.TLS.ClientCertPath != "" || len(p.TLS.ClientCertData) > 0) {
			parts = append(parts, "client certificate")
		}
	default:
		parts = append(parts, "plain text")
	}
	if p.APIKey != "" {
		parts = append(parts, "API key")
	}
	return strings.Join(parts, ", ")
}

// Security says how this process connects ("TLS, API key"), for its start-up log line.
func (t Temporal) Security() string {
	if t.connSource == "" {
		return "plain text"
	}
	return t.connSource
}

// ClientOptions are the Temporal client options for these settings: the profile's
// connection with s1copilot's address and namespace. Every process dials through Dial,
// which uses these, so connection settings live in one place.
func (t Temporal) ClientOptions(logger log.Logger) client.Options {
	o := t.conn
	o.HostPort, o.Namespace, o.Logger = t.Address, t.Namespace, logger
	return o
}

// Dial connects to Temporal with the process's own options (logger, metrics, identity,
// data converter) on top of the connection settings, and turns a failed handshake into
// an error that says which setting to fix. It is the one dial function of every process.
func (t Temporal) Dial(ctx context.Context, process client.Options) (client.Client, error) {
	o := process
	o.HostPort, o.Namespace = t.Address, t.Namespace
	o.Credentials, o.HeadersProvider = t.conn.Credentials, t.conn.HeadersProvider
	o.ConnectionOptions.TLS = t.conn.ConnectionOptions.TLS
	o.ConnectionOptions.TLSDisabled = t.conn.ConnectionOptions.TLSDisabled
	o.ConnectionOptions.Authority = t.conn.ConnectionOptions.Authority
	if err := t.Encrypt(&o); err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s (namespace %s, %s): %w%s", t.Address, t.Namespace, t.Security(), err, t.dialAdvice(err))
	}
	return c, nil
}

// dialAdvice maps the handshake failures people meet with TLS and Temporal Cloud to the
// setting that fixes them.
func (t Temporal) dialAdvice(err error) string {
	msg := err.Error()
	var netErr *net.OpError
	switch {
	case strings.Contains(msg, "certificate signed by unknown authority"), strings.Contains(msg, "x509: certificate is not trusted"):
		return "\nthe server's certificate is not signed by a CA this process trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH (or tls.server_ca_cert_path in the profile) to the CA that signed it"
	case strings.Contains(msg, "x509: certificate is valid for"), strings.Contains(msg, "certificate is not valid for"):
		return "\nthe server's certificate names another host: set TEMPORAL_TLS_SERVER_NAME (or tls.server_name) to a name it is valid for"
	case strings.Contains(msg, "certificate required"), strings.Contains(msg, "bad certificate"):
		return "\nthe server wants a client certificate it accepts (mTLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_cert_path and tls.client_key_path)"
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return "\nthe server does not speak TLS: unset TEMPORAL_TLS and TEMPORAL_API_KEY, or point TEMPORAL_ADDRESS at its TLS port"
	case strings.Contains(msg, "Unauthenticated"), strings.Contains(msg, "PermissionDenied"), strings.Contains(msg, "Request unauthorized"):
		return "\nTemporal refused this process's credentials: set TEMPORAL_API_KEY (Temporal Cloud API key) or a client certificate the namespace accepts, and check it has not expired"
	case strings.Contains(msg, "broken pipe"), strings.Contains(msg, "connection reset by peer"), strings.Contains(msg, "EOF"), strings.Contains(msg, "error reading server preface"):
		// With TLS 1.3 a server that refuses the client's certificate may just close
		// the connection, so the client sees a broken pipe rather than the alert.
		if t.conn.ConnectionOptions.TLS != nil {
			if len(t.conn.ConnectionOptions.TLS.Certificates) == 0 {
				return "\nthe server closed the connection during the TLS handshake; if it wants a client certificate (mTLS), set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (or tls.client_cert_path and tls.client_key_path)"
			}
			return "\nthe server closed the connection during the TLS handshake: check that it accepts this client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH)"
		}
		return "\nthe server closed the connection: if it expects TLS, set TEMPORAL_TLS=true (and TEMPORAL_API_KEY or a client certificate)"
	case errors.As(err, &netErr):
		return "\ncheck S1C_TEMPORAL_ADDRESS (or TEMPORAL_ADDRESS) and that the server is reachable"
	}
	return ""
}

// LoadTemporal reads only the Temporal settings.
func LoadTemporal() (Temporal, error) {
	var t Temporal
	problems := parseEach(&t)
	problems = append(problems, t.loadProfile()...)
	t.derive()
	problems = append(problems, t.validate()...)
	if len(problems) > 0 {
		return t, &Error{Problems: problems}
	}
	return t, nil
}

func (t Temporal) validate() []string {
	var p []string
	if _, _, err := net.SplitHostPort(t.Address); err != nil {
		p = append(p, fmt.Sprintf("%s_TEMPORAL_ADDRESS %q must be host:port", Prefix, t.Address))
	}
	if t.Namespace == "" {
		p = append(p, Prefix+"_TEMPORAL_NAMESPACE must not be empty")
	}
	if t.TaskQueue == "" {
		p = append(p, Prefix+"_TASK_QUEUE must not be empty")
	}
	if t.S1TaskQueue == "" || t.S1TaskQueue == t.TaskQueue {
		p = append(p, Prefix+"_S1_TASK_QUEUE must differ from "+Prefix+"_TASK_QUEUE (leave it empty for <"+Prefix+"_TASK_QUEUE>-s1)")
	}
	return p
}
