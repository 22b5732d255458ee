package policy

// WithSlackBotKey returns a copy of p that accepts decisions the Slack bot signs with
// the key's private half (Identity.SlackBotKey), with its digest recomputed so the
// history says which policy applied. It is how the built-in policy, which has no file,
// learns the bot's key (S1C_SLACK_BOT_PUBLIC_KEY).
func (p *Policy) WithSlackBotKey(key string) *Policy {
	cp := *p
	cp.Identity.SlackBotKey = key
	cp.Digest = cp.contentDigest()
	return &cp
}
