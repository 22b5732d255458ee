package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Handoff is the outbound case hand-off to a SOAR or ticketing system (package handoff).
type Handoff struct {
	URL    string `envconfig:"HANDOFF_URL" desc:"URL that receives each investigation's case (JSON, schema handoff/case.schema.json) at triage and at the outcome; empty = off"`
	Secret Secret `envconfig:"HANDOFF_SECRET" desc:"key of the hand-off's HMAC-SHA256 signature (X-S1C-Timestamp, X-S1C-Signature, as the push endpoint); at least 32 characters; empty = unsigned"`
	// RetryFor bounds each delivery: the activity retries with backoff while the
	// receiver is down, then the investigation records it as not delivered.
	RetryFor time.Duration `envconfig:"HANDOFF_RETRY_FOR" default:"5m" desc:"how long the worker retries one case delivery (5xx, 429, network errors) before recording it as not delivered; responses never wait for it"`
}

// Enabled reports whether cases are handed off.
func (h Handoff) Enabled() bool { return h.URL != "" }

func (h Handoff) validate() []string {
	var p []string
	if h.URL == "" {
		if h.Secret != "" {
			p = append(p, Prefix+"_HANDOFF_SECRET is set but "+Prefix+"_HANDOFF_URL is not: set the receiver's URL or remove the secret")
		}
		return p
	}
	if u, err := url.Parse(h.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p = append(p, fmt.Sprintf("%s_HANDOFF_URL %q must be an http(s) URL", Prefix, h.URL))
	} else if u.User != nil {
		p = append(p, Prefix+"_HANDOFF_URL must not carry credentials: use "+Prefix+"_HANDOFF_SECRET")
	}
	if s := h.Secret.Reveal(); s != "" && len(strings.TrimSpace(s)) < 32 {
		p = append(p, Prefix+"_HANDOFF_SECRET must be at least 32 characters")
	}
	if h.RetryFor < 5*time.Second || h.RetryFor > 24*time.Hour {
		p = append(p, fmt.Sprintf("%s_HANDOFF_RETRY_FOR %s must be between 5s and 24h", Prefix, h.RetryFor))
	}
	return p
}
