package activities

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/coalesce"
	"github.com/s1copilot/s1copilot/s1client"
)

// DefaultCoalesceWindow is how long a SentinelOne call waits for others of its kind to
// share one request (S1C_S1_COALESCE_WINDOW): short beside a threat's minutes to
// containment, long enough for an outbreak's investigations to meet.
const DefaultCoalesceWindow = 25 * time.Millisecond

// consoleBatches coalesce this worker's SentinelOne calls (package coalesce): the one
// process that makes them all (the SentinelOne worker) sends a burst's reads and
// writes of one kind as one request. Each activity keeps its own result and its own
// idempotency check; only the wire request is shared.
type consoleBatches struct {
	once       sync.Once
	threats    *coalesce.Group[struct{}, string, s1client.Threat]
	agents     *coalesce.Group[struct{}, string, s1client.Agent]
	mitigate   *coalesce.Group[s1client.MitigationAction, string, string]
	disconnect *coalesce.Group[struct{}, string, string]
	incident   *coalesce.Group[incidentWrite, string, struct{}]
	notes      *coalesce.Group[string, NoteInput, struct{}]
	// coLocated shares a cluster's (or an image's) recent threats between the
	// enrichments of an outbreak in it (colocated.go).
	coLocated *coalesce.Group[coLocatedQuery, string, coLocatedPage]
}

type incidentWrite struct{ status, verdict string }

// Request limits: reads are bounded by the page (s1client.MaxIDsPerRead); writes by
// what one filter should carry, so a refused batch refuses a bounded set.
const maxIDsPerWrite = 100

// maxThreatsPerNote bounds a shared note: each threat adds its own lines, and an analyst
// reads the note on one of them.
const maxThreatsPerNote = 50

func (a *Activities) batches() *consoleBatches {
	b := &a.console
	b.once.Do(func() {
		// In a burst (calls about two different threats or agents within the burst
		// window: more than one investigation at work) a batch waits the burst window
		// for company; otherwise the short window, or nothing when the kind is idle.
		read := coalesce.Options{Window: a.CoalesceWindow, MaxSize: s1client.MaxIDsPerRead, BurstWindow: a.BurstWindow, BurstCalls: 2}
		write := coalesce.Options{Window: a.CoalesceWindow, MaxSize: maxIDsPerWrite, BurstWindow: a.BurstWindow, BurstCalls: 2}
		id := func(id string) string { return id }
		b.threats = coalesce.New("get-threats", read, a.readThreats).WithSubject(id)
		b.agents = coalesce.New("get-agents", read, a.readAgents).WithSubject(id)
		b.coLocated = coalesce.New("co-located", read, a.readCoLocated).WithSubject(id)
		b.mitigate = coalesce.New("mitigate", write, a.mitigateMany).WithSubject(id)
		b.disconnect = coalesce.New("disconnect", write, a.disconnectMany).WithSubject(id)
		b.incident = coalesce.New("incident", write, a.setIncidentMany).WithSubject(id)
		note := write
		note.MaxSize = maxThreatsPerNote
		b.notes = coalesce.New("note", note, a.postSharedNote).WithSubject(func(in NoteInput) string { return in.ThreatID })
	})
	return b
}

// getThreat reads one threat, in a GET /threats?ids=… shared with concurrent reads.
func (a *Activities) getThreat(ctx context.Context, id string) (s1client.Threat, error) {
	t, _, err := a.batches().threats.Do(ctx, struct{}{}, id)
	return t, err
}

// getAgent reads one agent, in a GET /agents?ids=… shared with concurrent reads.
func (a *Activities) getAgent(ctx context.Context, id string) (s1client.Agent, error) {
	ag, _, err := a.batches().agents.Do(ctx, struct{}{}, id)
	return ag, err
}

func (a *Activities) readThreats(ctx context.Context, _ struct{}, ids []string) []coalesce.Outcome[s1client.Threat] {
	got, err := a.S1.GetThreats(ctx, ids)
	out := make([]coalesce.Outcome[s1client.Threat], len(ids))
	for i, id := range ids {
		t, ok := got[id]
		switch {
		case err != nil:
			out[i].Err = err
		case !ok:
			out[i].Err = fmt.Errorf("s1: get threat %s: %w", id, s1client.ErrNotFound)
		default:
			out[i].Value = t
		}
	}
	return out
}

func (a *Activities) readAgents(ctx context.Context, _ struct{}, ids []string) []coalesce.Outcome[s1client.Agent] {
	got, err := a.S1.GetAgents(ctx, ids)
	out := make([]coalesce.Outcome[s1client.Agent], len(ids))
	for i, id := range ids {
		ag, ok := got[id]
		switch {
		case err != nil:
			out[i].Err = err
		case !ok:
			out[i].Err = fmt.Errorf("s1: get agent %s: %w", id, s1client.ErrNotFound)
		default:
			out[i].Value = ag
		}
	}
	return out
}

// mitigateMany sends one POST /threats/mitigate/{action} for the threats and tells each
// whether the console acted on it: its own entry in the answer's details; or, from a
// console that only counts (older ones answer {"affected":N}), all of them when N is
// the batch, none when it is 0, and otherwise a read of the threats for the action's
// entry. A threat's outcome is "" when the action was accepted, else why not.
func (a *Activities) mitigateMany(ctx context.Context, action s1client.MitigationAction, ids []string) []coalesce.Outcome[string] {
	out := make([]coalesce.Outcome[string], len(ids))
	uniq := dedupIDs(ids)
	res, err := a.S1.Mitigate(ctx, action, uniq)
	if err != nil {
		return fill(out, coalesce.Outcome[string]{Err: err})
	}
	why := map[string]string{}
	known := map[string]bool{}
	for _, d := range res.Details {
		id := string(d.ThreatID)
		known[id] = true
		for _, s := range d.Skipped {
			why[id] = fmt.Sprintf("SentinelOne skipped %s: %s %s", s.Action, s.Reason, s.Description)
			break
		}
	}
	notApplied := "SentinelOne applied " + string(action) + " to no threat (not permitted for this token, or the threat is gone)"
	var unknown []string
	for _, id := range uniq {
		switch {
		case known[id]:
		case len(res.Details) == 0 && res.Affected == len(uniq):
			known[id] = true
		case len(res.Details) == 0 && res.Affected == 0:
			known[id], why[id] = true, notApplied
		default:
			unknown = append(unknown, id)
		}
	}
	var readErr error
	if len(unknown) > 0 {
		// Some, not all, were affected, and the answer does not say which: the
		// threats' own mitigation entries do.
		got, err := a.S1.GetThreats(ctx, unknown)
		readErr = err
		for _, id := range unknown {
			if _, ok := got[id].MitigationEntry(action.StatusAction()); err == nil && !ok {
				why[id] = notApplied
			}
			known[id] = err == nil
		}
	}
	for i, id := range ids {
		if !known[id] {
			// Accepted by the batch, unknown for this threat: the activity fails and its
			// retry reads the threat before it posts again.
			out[i].Err = fmt.Errorf("s1: mitigate %s: the console affected %d of %d threats and reading them back failed: %w", action, res.Affected, len(uniq), readErr)
			continue
		}
		out[i].Value = why[id]
	}
	return out
}

// disconnectMany isolates agents in one POST /agents/actions/disconnect; a count short
// of the batch is resolved by reading the agents' network status.
func (a *Activities) disconnectMany(ctx context.Context, _ struct{}, ids []string) []coalesce.Outcome[string] {
	out := make([]coalesce.Outcome[string], len(ids))
	uniq := dedupIDs(ids)
	n, err := a.S1.DisconnectAgents(ctx, uniq)
	if err != nil {
		return fill(out, coalesce.Outcome[string]{Err: err})
	}
	notApplied := "SentinelOne disconnected no agent (not permitted for this token, or the agent is gone)"
	if n == len(uniq) || n == 0 {
		why := ""
		if n == 0 {
			why = notApplied
		}
		return fill(out, coalesce.Outcome[string]{Value: why})
	}
	got, err := a.S1.GetAgents(ctx, uniq)
	for i, id := range ids {
		switch st := got[id].NetworkStatus; {
		case err != nil:
			out[i].Err = fmt.Errorf("s1: disconnect: the console affected %d of %d agents and reading them back failed: %w", n, len(uniq), err)
		case st != "disconnecting" && st != "disconnected":
			out[i].Value = notApplied
		}
	}
	return out
}

// setIncidentMany writes one incident status (and verdict) to the threats in one POST
// /threats/incident. Writing a value already there changes nothing, so the count
// tells nothing worth splitting.
func (a *Activities) setIncidentMany(ctx context.Context, w incidentWrite, ids []string) []coalesce.Outcome[struct{}] {
	out := make([]coalesce.Outcome[struct{}], len(ids))
	if _, err := a.S1.SetIncidentStatus(ctx, dedupIDs(ids), w.status, w.verdict); err != nil {
		return fill(out, coalesce.Outcome[struct{}]{Err: err})
	}
	return out
}

func fill[T any](out []T, v T) []T {
	for i := range out {
		out[i] = v
	}
	return out
}

func dedupIDs(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// sharedPart is a shareable note without its threat's own lines: notes with the same
// shared part go out as one.
func sharedPart(in NoteInput) string {
	own := make(map[string]int, len(in.OwnLines))
	for _, l := range in.OwnLines {
		own[l]++
	}
	var keep []string
	for _, l := range strings.Split(in.Text, "\n") {
		if own[l] > 0 {
			own[l]--
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// postSharedNote posts one note on the threats of notes sharing shared: a lone note is
// posted as it reads; several become the shared text once and, per threat, its own lines
// and its marker, which is what a retry looks for. A count short of the threats fails
// every caller: each retry looks for its marker before it posts again.
func (a *Activities) postSharedNote(ctx context.Context, shared string, ins []NoteInput) []coalesce.Outcome[struct{}] {
	out := make([]coalesce.Outcome[struct{}], len(ins))
	var text string
	if len(ins) == 1 {
		text = ins[0].Text + "\n" + ins[0].Marker
	} else {
		text = combinedNote(shared, ins)
	}
	ids := make([]string, len(ins))
	for i, in := range ins {
		ids[i] = in.ThreatID
	}
	ids = dedupIDs(ids)
	affected, err := a.S1.AddThreatNote(ctx, ids, text)
	switch {
	case err != nil:
		return fill(out, coalesce.Outcome[struct{}]{Err: S1Error("add note to "+strings.Join(ids, ","), err)})
	case affected == 0:
		return fill(out, coalesce.Outcome[struct{}]{Err: temporal.NewNonRetryableApplicationError("SentinelOne added the note to no threat (deleted, or out of the token's scope)", ErrTypeThreatNotFound, nil)})
	case affected < len(ids):
		return fill(out, coalesce.Outcome[struct{}]{Err: fmt.Errorf("s1: a note shared by %d threats was added to %d; each retry looks for its own before posting again", len(ids), affected)})
	}
	return out
}

// combinedNote is the note of several threats: the headline says it is shared, the
// shared lines follow once, then each threat's own lines under its ID, with its marker.
func combinedNote(shared string, ins []NoteInput) string {
	head, rest, _ := strings.Cut(shared, "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "%s\nOne note for %d threats with the same analysis and plan (an outbreak); each threat's own facts are under its ID below.\n", head, len(ins))
	if rest = strings.TrimRight(rest, "\n"); rest != "" {
		b.WriteString(rest + "\n")
	}
	b.WriteString("Threats:\n")
	for _, in := range ins {
		fmt.Fprintf(&b, "- %s %s\n", in.ThreatID, in.Marker)
		for _, l := range in.OwnLines {
			fmt.Fprintf(&b, "    %s\n", l)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
