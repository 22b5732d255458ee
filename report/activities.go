package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/s1copilot/s1copilot/activities"
	"github.com/s1copilot/s1copilot/config"
	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/s1client"
	"github.com/s1copilot/s1copilot/slackbot/messages"
)

// Activities are the report's steps that touch the outside world. Their names start
// with Report so they never collide with the investigation's on the same worker.
type Activities struct {
	// S1 reads threat details (on the SentinelOne task queue).
	S1 *s1client.Client
	// Model drafts the summary; nil: the rules write it, and NoModel says why.
	Model   Drafter
	NoModel string
	// AuditLogs are the audit log paths or globs (config.Config.AuditLogs).
	AuditLogs []string
	// Dir is where reports are written unless a run names another directory.
	Dir string
	// Slack posts the report to SlackChannel; nil when Slack is not configured.
	Slack        *messages.Poster
	SlackChannel string
	// Roles returns the policy's roles (approver groups) as they are now.
	Roles func() map[string][]string
	// Pricing is nil when no price per token is configured.
	Pricing *Pricing
	// Namespace is the Temporal namespace the investigations run in; S1TaskQueue,
	// the queue of the one worker that calls SentinelOne.
	Namespace   string
	S1TaskQueue string
}

// New wires the report's activities from the configuration. The model is the
// investigations' (S1C_LLM_*); a model that cannot be built leaves the summary to
// the rules, saying why (the worker refuses such a configuration anyway).
func New(cfg config.Config, s1 *s1client.Client, roles func() map[string][]string) *Activities {
	a := &Activities{S1: s1, AuditLogs: cfg.AuditLogs(), Dir: cfg.Report.Dir, Roles: roles, Namespace: cfg.Temporal.Namespace, S1TaskQueue: cfg.Temporal.S1TaskQueue, NoModel: "no model configured"}
	if cfg.LLMConfigured() {
		m, err := llm.NewOpenAI(llm.OpenAIConfig{BaseURL: cfg.LLMBaseURL, APIKey: cfg.LLMAPIKey.Reveal(), Model: cfg.LLMModel, Timeout: cfg.LLMTimeout})
		if err != nil {
			a.NoModel = "the model could not be set up: " + err.Error()
		} else {
			a.Model = m
		}
	}
	if cfg.Slack.Enabled() {
		a.Slack, a.SlackChannel = messages.NewPoster(cfg.Slack.BotToken.Reveal(), cfg.Slack.APIBase(), nil), cfg.Slack.Channel
	}
	if cfg.Report.PricePrompt > 0 || cfg.Report.PriceCompletion > 0 {
		a.Pricing = &Pricing{PromptPerMillion: cfg.Report.PricePrompt, CompletionPerMillion: cfg.Report.PriceCompletion}
	}
	return a
}

// Settings are what a report run applies, recorded in its history.
type Settings struct {
	Dir     string   `json:"dir"`
	Pricing *Pricing `json:"pricing,omitempty"`
	Model   string   `json:"model,omitempty"`
	Slack   bool     `json:"slack"`
	// S1TaskQueue is where the SentinelOne reads run ("": the report's own queue).
	S1TaskQueue string `json:"s1TaskQueue,omitempty"`
}

// ReportSettings returns the settings of this worker's report.
func (a *Activities) ReportSettings(context.Context) (Settings, error) {
	s := Settings{Dir: a.Dir, Pricing: a.Pricing, Slack: a.Slack != nil, S1TaskQueue: a.S1TaskQueue}
	if a.Model != nil {
		s.Model = a.Model.Name()
	}
	return s, nil
}

// ListInput asks for one page of the investigations started in Window.
type ListInput struct {
	Window    Window `json:"window"`
	PageToken []byte `json:"pageToken,omitempty"`
}

// ReportListInvestigations reads one page of investigations from Temporal visibility.
func (a *Activities) ReportListInvestigations(ctx context.Context, in ListInput) (ListPage, error) {
	return ListInvestigations(ctx, activity.GetClient(ctx), a.Namespace, in.Window, in.PageToken)
}

// AuditInput names the investigations whose trails to read; Since is the window's
// start (older files are skipped).
type AuditInput struct {
	InvestigationIDs []string  `json:"investigationIds"`
	Since            time.Time `json:"since"`
}

// AuditRead is the investigations' trails, and what could not be read.
type AuditRead struct {
	Trails []Trail  `json:"trails"`
	Notes  []string `json:"notes,omitempty"`
	Files  []string `json:"files,omitempty"`
}

// ReportReadAudit reads the investigations' audit records and reduces them to trails.
// No audit log is a note in the report, not a failure: the search attributes still count.
func (a *Activities) ReportReadAudit(ctx context.Context, in AuditInput) (AuditRead, error) {
	if len(a.AuditLogs) == 0 {
		return AuditRead{Notes: []string{"no audit log to read (S1C_AUDIT_FILE is empty, so records went to standard output): times, actions, approvals, feedback and model usage are missing"}}, nil
	}
	files, err := AuditFiles(a.AuditLogs, in.Since)
	if err != nil {
		return AuditRead{}, temporal.NewNonRetryableApplicationError(err.Error()+" (fix S1C_REPORT_AUDIT_FILES)", "BadAuditPattern", nil)
	}
	out := AuditRead{Files: files}
	if len(files) == 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("no audit log written since %s found at %v", in.Since.UTC().Format(time.RFC3339), a.AuditLogs))
		return out, nil
	}
	want := make(map[string]bool, len(in.InvestigationIDs))
	for _, id := range in.InvestigationIDs {
		want[id] = true
	}
	records, skipped, err := ReadAudit(files, want)
	if err != nil {
		return AuditRead{}, err // a file that vanished (rotation) or cannot be read now: retry
	}
	if skipped > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d line(s) of the audit log are not records and were skipped", skipped))
	}
	roles := map[string][]string{}
	if a.Roles != nil {
		roles = a.Roles()
	}
	out.Trails = Trails(records, roles)
	return out, nil
}

// ReportThreatDetails reads the threats' names, hosts and hashes from SentinelOne in
// one request (GET /threats?ids=…, at most s1client.MaxLimit IDs).
func (a *Activities) ReportThreatDetails(ctx context.Context, ids []string) ([]Threat, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > s1client.MaxLimit {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%d threat IDs in one request; at most %d", len(ids), s1client.MaxLimit), activities.ErrTypeBadInput, nil)
	}
	page, err := a.S1.ListThreats(ctx, s1client.ListThreatsParams{IDs: ids, Limit: len(ids)})
	if err != nil {
		return nil, activities.S1Error("read the investigated threats", err)
	}
	out := make([]Threat, 0, len(page.Items))
	for _, t := range page.Items {
		out = append(out, Threat{ID: string(t.ID), Name: t.ThreatInfo.ThreatName, AgentName: t.AgentRealtimeInfo.AgentComputerName,
			SHA1: t.ThreatInfo.SHA1, SHA256: t.ThreatInfo.SHA256, CreatedAt: t.ThreatInfo.CreatedAt.Time})
	}
	return out, nil
}

// SummaryAttempts is how many times the model is asked before the rules write the
// summary: a report is never held up by a model.
const SummaryAttempts = 3

// ReportSummarize drafts the executive summary (see Summarize). After
// SummaryAttempts failed attempts the rules write it, saying the model failed.
func (a *Activities) ReportSummarize(ctx context.Context, f Figures) (Summary, error) {
	if a.Model == nil {
		return RulesSummary(f, a.NoModel), nil
	}
	s, err := Summarize(ctx, a.Model, f)
	if err == nil {
		return s, nil
	}
	var pe *llm.ProviderError
	permanent := errors.Is(err, llm.ErrInvalidOutput) || (errors.As(err, &pe) && !pe.Retryable())
	if permanent || activity.GetInfo(ctx).Attempt >= SummaryAttempts {
		rs := RulesSummary(f, "the model failed: "+err.Error())
		rs.Usage = s.Usage
		return rs, nil
	}
	return Summary{}, err
}

// WriteInput is a report to write; Dir overrides the configured directory.
type WriteInput struct {
	Figures Figures `json:"figures"`
	Summary Summary `json:"summary"`
	Dir     string  `json:"dir,omitempty"`
}

// Written are the files of a report.
type Written struct {
	Markdown string `json:"markdown"`
	HTML     string `json:"html"`
}

// ReportWrite renders the report and writes <dir>/<report ID>.md and .html. The
// names come from the period, and each file is replaced whole (written aside, then
// renamed), so a retry rewrites the same files and a reader never sees half of one.
func (a *Activities) ReportWrite(_ context.Context, in WriteInput) (Written, error) {
	dir := in.Dir
	if dir == "" {
		dir = a.Dir
	}
	page, err := HTML(in.Figures, in.Summary)
	if err != nil {
		return Written{}, temporal.NewNonRetryableApplicationError(err.Error(), "ReportRender", nil)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Written{}, fmt.Errorf("creating the report directory %s (S1C_REPORT_DIR): %w", dir, err)
	}
	w := Written{Markdown: filepath.Join(dir, in.Figures.ReportID+".md"), HTML: filepath.Join(dir, in.Figures.ReportID+".html")}
	if err := writeWhole(w.Markdown, Markdown(in.Figures, in.Summary)); err != nil {
		return Written{}, err
	}
	if err := writeWhole(w.HTML, page); err != nil {
		return Written{}, err
	}
	if abs, err := filepath.Abs(w.Markdown); err == nil {
		w.Markdown = abs
	}
	if abs, err := filepath.Abs(w.HTML); err == nil {
		w.HTML = abs
	}
	return w, nil
}

func writeWhole(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".report-*")
	if err != nil {
		return fmt.Errorf("writing the report %s: %w", name, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing the report %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing the report %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the report %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("writing the report %s: %w", name, err)
	}
	return nil
}

// DeliverInput is a report to post.
type DeliverInput struct {
	Figures Figures `json:"figures"`
	Summary Summary `json:"summary"`
}

// ReportDeliver posts the report to the Slack channel, once per report ID (see
// messages.Poster.PostReport). It says what it did; without Slack it does nothing.
func (a *Activities) ReportDeliver(ctx context.Context, in DeliverInput) (string, error) {
	if a.Slack == nil {
		return "Slack not configured", nil
	}
	headline := fmt.Sprintf("*Weekly SOC report* (%s): %s.", in.Figures.Window.Period(), in.Figures.Headline())
	ts, posted, err := a.Slack.PostReport(ctx, a.SlackChannel, in.Figures.ReportID, headline, string(Markdown(in.Figures, in.Summary)))
	if err != nil {
		if retryAfter, permanent := messages.Classify(err); permanent {
			return "", temporal.NewNonRetryableApplicationError(err.Error()+" (check S1C_SLACK_BOT_TOKEN and S1C_SLACK_CHANNEL)", "SlackRefused", nil)
		} else if retryAfter > 0 {
			return "", temporal.NewApplicationErrorWithOptions(err.Error(), "SlackRateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: retryAfter})
		}
		return "", err
	}
	if posted == 0 {
		return fmt.Sprintf("already posted to Slack channel %s (message %s)", a.SlackChannel, ts), nil
	}
	return fmt.Sprintf("posted to Slack channel %s (message %s)", a.SlackChannel, ts), nil
}
