package feedback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/s1copilot/s1copilot/investigation"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/scenario"
)

// ExportOptions label an exported case. Empty fields take the analyst's console verdict
// and the actions that follow from it (LabelFor).
type ExportOptions struct {
	Verdict investigation.Verdict
	// Actions are the actions the analyst says must be recommended; ["none"] means no
	// action may be.
	Actions []string
}

// ErrNoAnalystVerdict: the threat carries no analyst verdict to label it with.
var ErrNoAnalystVerdict = errors.New("the threat has no analyst verdict in the console (true_positive, false_positive, suspicious or marked benign); set one there or pass --verdict")

// exportCreatedAgo places the exported threat in the simulator's past; the timeline keeps
// its offsets from the detection.
const exportCreatedAgo = time.Hour

// exportTimelineRead bounds the timeline entries read (the evidence keeps TimelineLimit).
const exportTimelineRead = 200

// ExportCase reads a threat, its agent and its timeline from SentinelOne and returns a
// one-threat eval scenario labeled with the analyst's verdict (or o's) as an Expect: the
// file format of tools/eval/scenarios. The threat is written as it was detected — the
// triage state and the console users' own timeline entries (verdict and status changes,
// mitigation commands and reports) are left out, so the label does not leak into the
// evidence. The API token is never part of it.
func ExportCase(ctx context.Context, s1 *s1client.Client, threatID string, o ExportOptions) (*scenario.Scenario, error) {
	t, err := s1.GetThreat(ctx, threatID)
	if err != nil {
		return nil, fmt.Errorf("reading threat %s: %w", threatID, err)
	}
	ti := t.ThreatInfo
	verdict, source := o.Verdict, "given with --verdict"
	if verdict == "" {
		verdict = AnalystVerdict(Console{AnalystVerdict: ti.AnalystVerdict, MitigationStatus: ti.MitigationStatus})
		source = fmt.Sprintf("the analyst's verdict in the SentinelOne console (analystVerdict %s, mitigationStatus %s)", ti.AnalystVerdict, ti.MitigationStatus)
	}
	if verdict == "" {
		return nil, fmt.Errorf("threat %s: %w", threatID, ErrNoAnalystVerdict)
	}
	expect, err := LabelFor(verdict, o.Actions)
	if err != nil {
		return nil, err
	}
	expect.Why = fmt.Sprintf("exported from SentinelOne threat %s; label: %s; actions %s", threatID, source, expect.actionWhy(len(o.Actions) > 0))

	agent := agentOf(t)
	if id := string(t.AgentRealtimeInfo.AgentID); id != "" {
		ag, err := s1.GetAgent(ctx, id)
		switch {
		case err == nil:
			agent = mergeAgent(agent, ag)
		case !errors.Is(err, s1client.ErrNotFound):
			return nil, fmt.Errorf("reading agent %s: %w", id, err)
		}
	}
	entries, err := s1.ThreatTimeline(ctx, threatID, exportTimelineRead)
	if err != nil {
		return nil, fmt.Errorf("reading the timeline of threat %s: %w", threatID, err)
	}

	st := threatOf(t, agent.ID)
	st.Timeline = timelineOf(entries, ti.CreatedAt.Time)
	raw, err := marshalExpect(expect)
	if err != nil {
		return nil, err
	}
	st.Expect = raw
	sc := &scenario.Scenario{
		Name:        "case-" + threatID,
		Description: fmt.Sprintf("Labeled case exported from SentinelOne threat %s (%s on %s).", threatID, ti.ThreatName, agent.ComputerName),
		Agents:      []scenario.Agent{agent},
		Threats:     []scenario.Threat{st},
	}
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("threat %s cannot be written as a simulator scenario: %w", threatID, err)
	}
	return sc, nil
}

// LabelFor is the label of an exported case: the verdict, and the actions — those given
// (["none"]: no action), else what the verdict implies, following the set's own labels:
//
//	true_positive   kill and quarantine must be recommended (contain the process and file)
//	suspicious      isolate and rollback must not be (no high-impact action on a doubt)
//	false_positive  no action at all
//	undetermined    no action at all (a human looks first)
func LabelFor(v investigation.Verdict, actions []string) (Expect, error) {
	e := Expect{Verdict: v, Actions: &ActionExpect{}}
	if !v.Valid() {
		return e, fmt.Errorf("verdict %q is not one of %v", v, investigation.Verdicts)
	}
	switch {
	case len(actions) == 1 && actions[0] == "none":
		e.Actions.None = true
	case len(actions) > 0:
		for _, a := range actions {
			act := investigation.Action(strings.TrimSpace(a))
			if !act.Valid() {
				return e, fmt.Errorf("action %q is not one of %v (or say none)", a, investigation.Actions)
			}
			if !slices.Contains(e.Actions.Required, act) {
				e.Actions.Required = append(e.Actions.Required, act)
			}
		}
		if v == investigation.VerdictFalsePositive {
			return e, fmt.Errorf("a false_positive case cannot require actions %v; use --actions none or leave it out", actions)
		}
	case v == investigation.VerdictTruePositive:
		e.Actions.Required = []investigation.Action{investigation.ActionKill, investigation.ActionQuarantine}
	case v == investigation.VerdictSuspicious:
		e.Actions.Forbidden = []investigation.Action{investigation.ActionIsolate, investigation.ActionRollback}
	default:
		e.Actions.None = true
	}
	return e, nil
}

func (e Expect) actionWhy(given bool) string {
	s := strings.TrimPrefix(e.String(), string(e.Verdict))
	s = strings.TrimPrefix(s, ", ")
	if given {
		return s + " (given with --actions)"
	}
	return s + " (derived from the verdict)"
}

// responseActivity: entries that record the response to the threat, not its detection.
func responseActivity(e s1client.TimelineEntry) bool {
	if string(e.UserID) != "" {
		return true // a console user (analyst or API token) acted
	}
	switch c := e.ActivityType.Int(); {
	case c >= 2001 && c <= 2035: // mitigation reports and commands, verdict and status changes
		return true
	case c == int(s1client.ActivityAgentDisconnected), c == int(s1client.ActivityAgentReconnected):
		return true
	}
	return false
}

func timelineOf(entries []s1client.TimelineEntry, created time.Time) []scenario.Activity {
	var out []scenario.Activity
	for _, e := range entries {
		if responseActivity(e) || e.PrimaryDescription == "" || e.ActivityType.Int() <= 0 {
			continue
		}
		ago := exportCreatedAgo - e.CreatedAt.Sub(created)
		if e.CreatedAt.IsZero() || created.IsZero() {
			ago = exportCreatedAgo
		}
		if ago < 0 {
			ago = 0
		}
		out = append(out, scenario.Activity{
			ActivityType: e.ActivityType.Int(), PrimaryDescription: e.PrimaryDescription,
			SecondaryDescription: e.SecondaryDescription, Ago: ago.Round(time.Second).String(),
		})
	}
	return out
}

func threatOf(t s1client.Threat, agentID string) scenario.Threat {
	ti := t.ThreatInfo
	st := scenario.Threat{
		ID: string(t.ID), AgentID: agentID, ThreatName: ti.ThreatName, Classification: ti.Classification,
		ClassificationSource: ti.ClassificationSource, ConfidenceLevel: ti.ConfidenceLevel,
		SHA1: ti.SHA1, SHA256: ti.SHA256, MD5: ti.MD5, FilePath: ti.FilePath,
		FileVerificationType: ti.FileVerificationType, PublisherName: ti.PublisherName, IsFileless: bool(ti.IsFileless),
		MaliciousProcessArguments: ti.MaliciousProcessArguments, OriginatorProcess: ti.OriginatorProcess,
		ProcessUser: ti.ProcessUser, InitiatedBy: ti.InitiatedBy, Engines: ti.Engines, DetectionType: ti.DetectionType,
		Storyline: ti.Storyline, CreatedAgo: exportCreatedAgo.String(),
	}
	if st.ID == "" {
		st.ID = string(ti.ThreatID)
	}
	if n := ti.FileSize.Int(); n > 0 {
		size := int64(n)
		st.FileSize = &size
	}
	if len(st.Engines) == 0 {
		for _, e := range ti.DetectionEngines {
			st.Engines = append(st.Engines, e.Title)
		}
	}
	for _, ind := range t.Indicators {
		si := scenario.Indicator{Category: ind.Category, Description: ind.Description}
		for _, tac := range ind.Tactics {
			stac := scenario.Tactic{Name: tac.Name, Source: tac.Source}
			for _, tech := range tac.Techniques {
				stac.Techniques = append(stac.Techniques, scenario.Technique{Name: tech.Name, Link: tech.Link})
			}
			si.Tactics = append(si.Tactics, stac)
		}
		st.Indicators = append(st.Indicators, si)
	}
	return st
}

// agentOf is the threat's own copy of its agent, the fallback when the agent is gone.
func agentOf(t s1client.Threat) scenario.Agent {
	ag := t.AgentRealtimeInfo
	return scenario.Agent{
		ID: string(ag.AgentID), UUID: ag.AgentUUID, ComputerName: ag.AgentComputerName, Domain: ag.AgentDomain,
		OSType: ag.AgentOsType, OSName: ag.AgentOsName, OSRevision: ag.AgentOsRevision, MachineType: ag.AgentMachineType,
		AgentVersion: ag.AgentVersion, AccountID: string(ag.AccountID), AccountName: ag.AccountName,
		SiteID: string(ag.SiteID), SiteName: ag.SiteName, GroupID: string(ag.GroupID), GroupName: ag.GroupName,
		NetworkStatus: ag.AgentNetworkStatus, MitigationMode: ag.AgentMitigationMode,
		LastLoggedInUserName: t.AgentDetectionInfo.AgentLastLoggedInUserName, ExternalIP: t.AgentDetectionInfo.ExternalIP,
	}
}

// mergeAgent overlays the agent record (fresher, with tags), as MergeAgent does for the
// evidence. The network status is the one at detection: an isolation since then is the
// response, not the evidence.
func mergeAgent(sa scenario.Agent, ag s1client.Agent) scenario.Agent {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&sa.UUID, ag.UUID)
	set(&sa.ComputerName, ag.ComputerName)
	set(&sa.Domain, ag.Domain)
	set(&sa.OSType, ag.OsType)
	set(&sa.OSName, ag.OsName)
	set(&sa.OSRevision, ag.OsRevision)
	set(&sa.OSArch, ag.OsArch)
	set(&sa.MachineType, ag.MachineType)
	set(&sa.AgentVersion, ag.AgentVersion)
	set(&sa.AccountName, ag.AccountName)
	set(&sa.SiteName, ag.SiteName)
	set(&sa.GroupName, ag.GroupName)
	set(&sa.LastLoggedInUserName, ag.LastLoggedInUserName)
	set(&sa.ExternalIP, ag.ExternalIP)
	set(&sa.LastIPToMgmt, ag.LastIPToMgmt)
	set(&sa.MitigationMode, ag.MitigationMode)
	active := bool(ag.IsActive)
	sa.IsActive = &active
	if sa.NetworkStatus == "disconnected" || sa.NetworkStatus == "disconnecting" || sa.NetworkStatus == "" {
		sa.NetworkStatus = "connected"
	}
	sa.Tags = nil
	for _, scope := range sortedKeys(ag.Tags) {
		for _, tag := range ag.Tags[scope] {
			sa.Tags = append(sa.Tags, scenario.Tag{Key: tag.Key, Value: tag.Value})
		}
	}
	return sa
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func marshalExpect(e Expect) (json.RawMessage, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encoding the label: %w", err)
	}
	return b, nil
}

// MarshalCase renders an exported case as the eval set's files are written (indented JSON).
func MarshalCase(sc *scenario.Scenario) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sc); err != nil {
		return nil, fmt.Errorf("encoding the scenario: %w", err)
	}
	return buf.Bytes(), nil
}
