package slackbot

import (
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
)

func TestReplayCacheForgetsOnlyAfterTheWindow(t *testing.T) {
	c := newReplayCache()
	t0 := time.Unix(1_700_000_000, 0)
	exp := t0.Add(MaxClockSkew)
	assert.True(t, c.first("a", exp, t0))
	assert.False(t, c.first("a", exp, t0.Add(MaxClockSkew)), "a replay within the window")
	assert.True(t, c.first("b", exp, t0))
	// Past the window the timestamp check refuses it anyway; the cache lets go of it.
	later := exp.Add(2 * time.Minute)
	assert.True(t, c.first("c", later.Add(MaxClockSkew), later))
	assert.NotContains(t, c.seen, "a")
	assert.NotContains(t, c.seen, "b")
}

func TestRequestIDs(t *testing.T) {
	ic := slack.InteractionCallback{Team: slack.Team{ID: "T1"}, User: slack.User{ID: "U1"},
		Container: slack.Container{MessageTs: "1.0"}}
	a := &slack.BlockAction{ActionID: "s1c_approve", Value: "42", ActionTs: "2.0"}
	id := buttonRequestID(ic, a)
	assert.Equal(t, id, buttonRequestID(ic, a), "stable")
	a2 := *a
	a2.ActionTs = "3.0"
	assert.NotEqual(t, id, buttonRequestID(ic, &a2), "another click")
	ic2 := ic
	ic2.User.ID = "U2"
	assert.NotEqual(t, id, buttonRequestID(ic2, a), "another user")

	ic.View.ID = "V1"
	assert.Equal(t, viewRequestID(ic), viewRequestID(ic))
	ic2 = ic
	ic2.View.ID = "V2"
	assert.NotEqual(t, viewRequestID(ic), viewRequestID(ic2))
}

func TestValidThreatID(t *testing.T) {
	for _, ok := range []string{"1910000000000000101", "abc-1_2"} {
		assert.True(t, validThreatID(ok), ok)
	}
	for _, bad := range []string{"", "../x", "1 2", "<!channel>", string(make([]byte, 65))} {
		assert.False(t, validThreatID(bad), bad)
	}
}

func TestResponseURLAllowed(t *testing.T) {
	b := &Bot{o: Options{ResponseHosts: []string{"127.0.0.1:8080"}}}
	assert.True(t, b.responseURLAllowed("https://hooks.slack.com/commands/T1/2/abc"))
	assert.True(t, b.responseURLAllowed("http://127.0.0.1:8080/response/x"))
	for _, bad := range []string{"", "http://hooks.slack.com/commands/x", "https://hooks.slack.com.evil.example/x", "https://evil.example/x", "::"} {
		assert.False(t, b.responseURLAllowed(bad), bad)
	}
}

func TestAge(t *testing.T) {
	assert.Equal(t, "45m", age(45*time.Minute))
	assert.Equal(t, "2h5m", age(2*time.Hour+5*time.Minute))
	assert.Equal(t, "3d4h", age(76*time.Hour))
}

func TestEscape(t *testing.T) {
	assert.Equal(t, "&lt;!channel&gt; &amp;", esc("<!channel> &"))
}
