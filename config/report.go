package config

import (
	"fmt"
	"strings"
	"time"
)

// Report is the weekly SOC report (package report): where it is written, when it
// runs, which audit logs it reads and what the model's tokens cost.
type Report struct {
	Dir        string        `envconfig:"REPORT_DIR" default:"reports" desc:"directory the SOC report is written to (Markdown and HTML, named by period)"`
	Schedule   string        `envconfig:"REPORT_SCHEDULE" default:"0 8 * * 1" desc:"when the worker's Temporal Schedule makes the SOC report: a cron expression in UTC (default Monday 08:00), an interval (e.g. 24h), or off"`
	Period     time.Duration `envconfig:"REPORT_PERIOD" default:"168h" desc:"the period a scheduled SOC report covers, ending when it runs"`
	AuditFiles []string      `envconfig:"REPORT_AUDIT_FILES" desc:"comma-separated audit logs (paths or globs) the SOC report reads; empty = S1C_AUDIT_FILE and its rotated files"`
	// Prices are US dollars per million tokens; zero leaves the cost in tokens.
	PricePrompt     float64 `envconfig:"LLM_PRICE_PROMPT" desc:"US dollars per million prompt tokens, for the SOC report's model cost; 0 = tokens only"`
	PriceCompletion float64 `envconfig:"LLM_PRICE_COMPLETION" desc:"US dollars per million completion tokens, for the SOC report's model cost; 0 = tokens only"`
}

// ReportSchedule is S1C_REPORT_SCHEDULE parsed: off, a cron expression, or an interval.
type ReportSchedule struct {
	Off   bool
	Cron  string
	Every time.Duration
}

// ParseReportSchedule reads S1C_REPORT_SCHEDULE.
func ParseReportSchedule(s string) (ReportSchedule, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || strings.EqualFold(s, "off"):
		return ReportSchedule{Off: true}, nil
	case len(strings.Fields(s)) == 5:
		return ReportSchedule{Cron: strings.Join(strings.Fields(s), " ")}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute {
		return ReportSchedule{}, fmt.Errorf("%s_REPORT_SCHEDULE %q must be a 5-field cron expression (minute hour day month weekday, UTC), an interval of at least 1m (e.g. 24h), or off", Prefix, s)
	}
	return ReportSchedule{Every: d}, nil
}

func (r Report) validate() []string {
	var p []string
	if _, err := ParseReportSchedule(r.Schedule); err != nil {
		p = append(p, err.Error())
	}
	if r.Period <= 0 {
		p = append(p, Prefix+"_REPORT_PERIOD must be positive")
	}
	if r.PricePrompt < 0 || r.PriceCompletion < 0 {
		p = append(p, Prefix+"_LLM_PRICE_PROMPT and "+Prefix+"_LLM_PRICE_COMPLETION must not be negative")
	}
	return p
}

// AuditLogs are the audit logs the report reads: S1C_REPORT_AUDIT_FILES, else
// S1C_AUDIT_FILE (whose rotated files the report finds beside it).
func (c Config) AuditLogs() []string {
	if len(c.Report.AuditFiles) > 0 {
		return c.Report.AuditFiles
	}
	if c.AuditFile != "" {
		return []string{c.AuditFile}
	}
	return nil
}
