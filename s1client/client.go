// Package s1client is a typed client for the SentinelOne Management API v2.1: threats,
// agents, notes, mitigation and network isolation.
//
// It knows nothing of Temporal and never retries: the caller owns retries and uses
// *APIError (Temporary, RetryDelay) and the sentinel errors to decide. The API token is sent
// only in the Authorization header and never appears in errors or in fmt/slog output.
//
// # Rate limits
//
// Each Client waits on a local token bucket per endpoint class (EndpointClass; the table and
// its sources are on DefaultRateLimits). The console counts per API token across all
// processes, so the buckets keep its limits exactly only when one process makes every call
// with the token: the product runs every SentinelOne activity in one worker for that
// reason (README, Scaling workers). WithRateLimits changes the buckets, WithoutRateLimits
// turns them off.
package s1client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

const (
	apiPrefix = "/web/api/v2.1"
	// DefaultUserAgent identifies the product to the console's audit logs.
	DefaultUserAgent = "s1copilot-s1client/1 (+https://github.com/s1copilot/s1copilot)"
	// DefaultTimeout bounds one HTTP exchange when the caller gives no http.Client.
	DefaultTimeout = 60 * time.Second
	// maxBody caps response bodies: 1000 threats per page is a few MB; 64 MiB is a safe cap.
	maxBody = 64 << 20
	// maxErrBody caps the raw body kept in an APIError.
	maxErrBody = 512
)

// Client calls one SentinelOne console with one API token. It is safe for concurrent use.
type Client struct {
	root      string // e.g. https://usea1.sentinelone.net (no trailing slash)
	apiBase   string // root + /web/api/v2.1
	host      string
	userAgent string
	hc        *http.Client
	// limits is the configuration; limiters is built from it in New. shared, if set (the
	// legacy WithRateLimiter), replaces every per-class limiter.
	limits   map[EndpointClass]Limit
	limiters map[EndpointClass]*rate.Limiter
	// serial holds the classes with a burst of 1, whose requests go one at a time
	// (see serialGate).
	serial map[EndpointClass]*serialGate
	shared *rate.Limiter
	// auth is behind a pointer so that printing a Client value (%v of *c) shows an address,
	// never the token; String/GoString/LogValue cover the pointer.
	auth *credential
	// reached turns true once the console answered with JSON; until then connection
	// failures and HTML answers carry a hint about region-specific console URLs.
	reached atomic.Bool
}

type credential struct{ header string }

// String, GoString and LogValue keep the token out of fmt and slog even if a credential is
// printed on its own.
func (credential) String() string       { return "[REDACTED]" }
func (credential) GoString() string     { return "[REDACTED]" }
func (credential) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient uses h for requests (its Transport, Timeout, Jar). The client works on a
// copy whose redirect policy refuses to follow redirects to another host or scheme, so the
// token is never sent elsewhere.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.hc = h
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua = strings.TrimSpace(ua); ua != "" {
			c.userAgent = ua
		}
	}
}

// New returns a client for the console at baseURL, the console root such as
// https://usea1.sentinelone.net (a trailing slash or /web/api/v2.1 suffix is tolerated).
func New(baseURL, token string, opts ...Option) (*Client, error) {
	token = strings.TrimSpace(token)
	// Tolerate a pasted header value ("ApiToken xyz").
	if len(token) > len("ApiToken ") && strings.EqualFold(token[:len("ApiToken ")], "ApiToken ") {
		token = strings.TrimSpace(token[len("ApiToken "):])
	}
	if token == "" {
		return nil, errors.New("s1: new client: empty API token")
	}
	if strings.ContainsAny(token, "\r\n") {
		return nil, errors.New("s1: new client: API token contains a line break")
	}
	root, host, err := normalizeBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		root:      root,
		apiBase:   root + apiPrefix,
		host:      host,
		userAgent: DefaultUserAgent,
		hc:        &http.Client{Timeout: DefaultTimeout},
		limits:    DefaultRateLimits(),
		auth:      &credential{header: "ApiToken " + token},
	}
	for _, o := range opts {
		o(c)
	}
	c.buildLimiters()
	hc := *c.hc // copy: never mutate the caller's client
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && (req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme) {
			return fmt.Errorf("s1: refusing to follow a redirect to %s://%s (the token stays with %s); %s",
				req.URL.Scheme, req.URL.Host, via[0].URL.Host, consoleHint)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 5 {
			return errors.New("s1: stopped after 5 redirects")
		}
		return nil
	}
	c.hc = &hc
	return c, nil
}

func normalizeBaseURL(baseURL string) (root, host string, err error) {
	s := strings.TrimSpace(baseURL)
	if s == "" {
		return "", "", fmt.Errorf("s1: new client: empty console URL; %s", consoleHint)
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("s1: new client: invalid console URL %q: %w", baseURL, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", "", fmt.Errorf("s1: new client: console URL %q: scheme must be https", baseURL)
	}
	if u.Host == "" {
		return "", "", fmt.Errorf("s1: new client: console URL %q has no host; %s", baseURL, consoleHint)
	}
	if u.User != nil {
		return "", "", errors.New("s1: new client: console URL must not contain user info")
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, apiPrefix)
	p = strings.TrimRight(p, "/")
	return u.Scheme + "://" + u.Host + p, u.Host, nil
}

// BaseURL returns the console root the client talks to.
func (c *Client) BaseURL() string { return c.root }

// String describes the client without its token.
func (c *Client) String() string {
	if c == nil {
		return "s1client.Client(nil)"
	}
	return fmt.Sprintf("s1client.Client{baseURL: %s, token: [REDACTED]}", c.root)
}

// GoString is used by %#v; it keeps the token out.
func (c *Client) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the token.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(
		slog.String("baseURL", c.root),
		slog.String("userAgent", c.userAgent),
		slog.String("token", "[REDACTED]"),
	)
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %q…) render String.
func (c *Client) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	_, _ = io.WriteString(f, c.String())
}

// envelope is the console's {"data":…, "pagination":…} wrapper. errors is ignored on 2xx
// (fixtures carry "errors":[{}] next to valid data).
type envelope[T any] struct {
	Data       T `json:"data"`
	Pagination struct {
		NextCursor FlexString `json:"nextCursor"`
		TotalItems *FlexInt   `json:"totalItems"` // nil: absent or null
	} `json:"pagination"`
}

// request describes one API call. tmpl is the path template for errors (no IDs, no query).
type request struct {
	method string
	path   string // below /web/api/v2.1, already escaped
	tmpl   string
	query  url.Values
	body   any
}

// do performs r and decodes a 2xx JSON body into out (if non-nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	if err := c.wait(ctx, r.method, r.tmpl, r.path); err != nil {
		return err
	}
	release, err := c.serialize(ctx, r.method, r.tmpl, r.path)
	if err != nil {
		return err
	}
	defer release()
	u := c.apiBase + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("s1: %s %s: encoding request body: %w", r.method, r.tmpl, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("s1: %s %s: building request: %w", r.method, r.tmpl, err)
	}
	req.Header.Set("Authorization", c.auth.header)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.hc.Do(req)
	release() // the answer has begun: the console has counted this request
	if err != nil {
		if ctx.Err() == nil && !c.reached.Load() {
			return fmt.Errorf("s1: %s %s: %w; %s", r.method, r.tmpl, err, consoleHint)
		}
		return fmt.Errorf("s1: %s %s: %w", r.method, r.tmpl, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if ctx.Err() == nil && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			// The body was cut mid-way (proxy, load balancer): worth retrying.
			return fmt.Errorf("s1: %s %s: %d response body cut short: %w: %w", r.method, r.tmpl, resp.StatusCode, ErrBadResponse, err)
		}
		return fmt.Errorf("s1: %s %s: reading response: %w", r.method, r.tmpl, err)
	}
	if len(raw) > maxBody {
		return fmt.Errorf("s1: %s %s: response larger than %d bytes", r.method, r.tmpl, maxBody)
	}
	isJSON := looksJSON(resp.Header.Get("Content-Type"), raw)
	if isJSON {
		c.reached.Store(true)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.apiError(r, resp, raw, isJSON)
	}
	if out == nil {
		return nil
	}
	if !isJSON {
		err := fmt.Errorf("s1: %s %s: %d response is not JSON (Content-Type %q)", r.method, r.tmpl, resp.StatusCode, resp.Header.Get("Content-Type"))
		if !c.reached.Load() {
			err = fmt.Errorf("%w; %s", err, consoleHint)
		}
		return err
	}
	if err := decodeJSON(raw, out); err != nil {
		return fmt.Errorf("s1: %s %s: %d response body (%d bytes) is not the expected JSON: %w: %w",
			r.method, r.tmpl, resp.StatusCode, len(raw), ErrBadResponse, err)
	}
	return nil
}

func (c *Client) apiError(r request, resp *http.Response, raw []byte, isJSON bool) error {
	e := &APIError{
		StatusCode: resp.StatusCode,
		Method:     r.method,
		Path:       r.tmpl,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	var env struct {
		Errors []struct {
			Code   FlexInt    `json:"code"`
			Title  string     `json:"title"`
			Detail FlexString `json:"detail"`
		} `json:"errors"`
	}
	if isJSON && json.Unmarshal(raw, &env) == nil {
		for _, d := range env.Errors {
			if d.Code == 0 && d.Title == "" && d.Detail == "" {
				continue
			}
			e.Errors = append(e.Errors, ErrorDetail{Code: int(d.Code), Title: d.Title, Detail: c.redact(string(d.Detail))})
		}
	}
	if len(e.Errors) == 0 {
		e.Body = c.redact(truncate(strings.TrimSpace(string(raw)), maxErrBody))
	}
	if !isJSON && !c.reached.Load() && resp.StatusCode == http.StatusNotFound {
		e.hint = consoleHint
	}
	if resp.StatusCode == http.StatusUnauthorized {
		// One clear message, never the token: callers treat 401 as permanent (no retry storm).
		e.hint = fmt.Sprintf("the console at %s refuses the API token (expired, revoked, or issued by another console): "+
			"generate a new API token for the service user and restart with it", c.root)
	}
	return e
}

// redact removes the token should a server ever echo it back.
func (c *Client) redact(s string) string {
	tok := strings.TrimPrefix(c.auth.header, "ApiToken ")
	if tok == "" {
		return s
	}
	return strings.ReplaceAll(s, tok, "[REDACTED]")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}

func looksJSON(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		if mt == "application/json" || strings.HasSuffix(mt, "+json") {
			return true
		}
		if mt == "text/html" {
			return false
		}
	}
	b := bytes.TrimSpace(body)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

// decodeJSON decodes with UseNumber so that free-form maps (activity data) keep 18-digit IDs.
func decodeJSON(raw []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(out)
}
