package slackbot

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Limits of an HTTP request from Slack.
const (
	// MaxBody bounds a request body: Slack's largest payloads (a modal's state) are a
	// few tens of KiB.
	MaxBody = 256 << 10
	// MaxClockSkew is how far a request's timestamp may be from now, as Slack advises;
	// it is also how long a signature is remembered to refuse a replay.
	MaxClockSkew = 5 * time.Minute
)

// refusal is why a request was refused before it was parsed.
type refusal struct {
	status int
	reason string
}

// verify reads r's body and checks, in this order, its size, its timestamp, Slack's
// signature over it, and that it was not seen before. It returns the body only when
// every check passed; nothing in the body is looked at before.
func (b *Bot) verify(r *http.Request) ([]byte, *refusal) {
	if r.ContentLength > MaxBody {
		return nil, &refusal{http.StatusRequestEntityTooLarge, "request body over 256 KiB"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, &refusal{http.StatusBadRequest, "unreadable request body"}
	}
	if len(body) > MaxBody {
		return nil, &refusal{http.StatusRequestEntityTooLarge, "request body over 256 KiB"}
	}
	sig, tsText := r.Header.Get("X-Slack-Signature"), r.Header.Get("X-Slack-Request-Timestamp")
	if sig == "" || tsText == "" {
		return nil, &refusal{http.StatusUnauthorized, "missing Slack signature headers"}
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return nil, &refusal{http.StatusUnauthorized, "invalid Slack request timestamp"}
	}
	sent := time.Unix(ts, 0)
	if d := b.o.Now().Sub(sent); d > MaxClockSkew || d < -MaxClockSkew {
		return nil, &refusal{http.StatusUnauthorized, "stale Slack request timestamp"}
	}
	// slack-go computes the v0 HMAC-SHA256 of "v0:<ts>:<body>" and compares it in
	// constant time (hmac.Equal).
	sv, err := slack.NewSecretsVerifier(r.Header, b.o.SigningSecret.Reveal())
	switch {
	case errors.Is(err, slack.ErrExpiredTimestamp):
		return nil, &refusal{http.StatusUnauthorized, "stale Slack request timestamp"}
	case err != nil:
		return nil, &refusal{http.StatusUnauthorized, "invalid Slack signature"}
	}
	if _, err := sv.Write(body); err != nil {
		return nil, &refusal{http.StatusUnauthorized, "invalid Slack signature"}
	}
	if err := sv.Ensure(); err != nil {
		return nil, &refusal{http.StatusUnauthorized, "invalid Slack signature"}
	}
	// Remembered only once verified, so that nobody but Slack can fill the cache.
	if !b.replay.first(tsText+"\x00"+strings.ToLower(sig), sent.Add(MaxClockSkew), b.o.Now()) {
		return nil, &refusal{http.StatusUnauthorized, "replayed Slack request"}
	}
	return body, nil
}

// replayCache remembers the signed requests seen while their timestamp is accepted.
// It is per process: replicas behind one load balancer each keep their own, so a
// replay sent to another replica is caught there only by the decision's request ID.
type replayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time // request → when its timestamp stops being accepted
	lastPrune time.Time
}

func newReplayCache() *replayCache { return &replayCache{seen: map[string]time.Time{}} }

// first records key until expires and reports whether it was not seen before.
func (c *replayCache) first(key string, expires, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastPrune) > time.Minute {
		for k, exp := range c.seen {
			if now.After(exp) {
				delete(c.seen, k)
			}
		}
		c.lastPrune = now
	}
	if exp, ok := c.seen[key]; ok && !now.After(exp) {
		return false
	}
	c.seen[key] = expires
	return true
}
