// Command eval scores the analyzers on the labeled scenario set (issue 5):
// accuracy, precision and recall per verdict class, accuracy per file and per
// OS, a confusion matrix and every miss.
//
//	go run ./tools/eval [-scenarios tools/eval/scenarios] [-analyzer rules|model|both] [-min-accuracy 0.8] [-v]
//
// Each scenario file is served by an in-process simulator; every threat's
// evidence is read through the S1 client as the EnrichThreat activity reads it,
// then analysed and scored against the threat's "expect" label. The model is
// evaluated when OPENAI_BASE_URL is set (with OPENAI_API_KEY and S1C_LLM_MODEL
// or OPENAI_MODEL); otherwise the report says it was not evaluated.
//
// Then the hunting section (issue 15, package tools/eval/hunts): labeled plain-language
// questions translated by the named-hunt library (and the model translator once wired,
// see huntTranslators), each answer run through the simulator's Deep Visibility and
// scored as event-ID sets against its label. -hunting=false leaves it out.
//
// Then the prompt-injection section (issue 18, package tools/eval/injection): the
// detector's recall per kind on the corpus it was written with and, apart, on the
// held-out corpus; its false alarms on clean S1 data. -injection=false leaves it out.
//
// Exit status: 0; 1 when -min-accuracy is set and the rules analyzer's
// verdict+actions accuracy is below it; 2 on usage or scenario errors.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/s1copilot/s1copilot/hunt"
	"github.com/s1copilot/s1copilot/llm"
	"github.com/s1copilot/s1copilot/rules"
	"github.com/s1copilot/s1copilot/tools/eval/evalset"
	"github.com/s1copilot/s1copilot/tools/eval/hunts"
	"github.com/s1copilot/s1copilot/tools/eval/injection"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: tests drive it with their own environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("scenarios", "tools/eval/scenarios", "directory of labeled scenario files (*.json)")
	which := fs.String("analyzer", "both", "rules, model or both (the model only when OPENAI_BASE_URL is set)")
	minAcc := fs.Float64("min-accuracy", 0, "exit 1 when the rules analyzer's verdict+actions accuracy is below this (0..1; 0 = off)")
	verbose := fs.Bool("v", false, "print the per-threat table even for one analyzer")
	conc := fs.Int("concurrency", 4, "model calls in flight")
	timeout := fs.Duration("model-timeout", 60*time.Second, "timeout of one model call")
	hunting := fs.Bool("hunting", true, "also run the hunting questions (tools/eval/hunts)")
	injections := fs.Bool("injection", true, "also measure the prompt-injection detector (tools/eval/injection)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "eval: unexpected arguments %v\n", fs.Args())
		return 2
	}
	if *which != "rules" && *which != "model" && *which != "both" {
		fmt.Fprintf(stderr, "eval: -analyzer must be rules, model or both, not %q\n", *which)
		return 2
	}
	if *minAcc < 0 || *minAcc > 1 {
		fmt.Fprintf(stderr, "eval: -min-accuracy must be within 0..1\n")
		return 2
	}

	files, err := evalset.LoadDir(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "eval: %v\n", err)
		return 2
	}

	var (
		analyzers []evalset.Named
		notes     []string
	)
	if *which != "model" {
		analyzers = append(analyzers, evalset.Named{Name: rules.AnalyzerName, Analyzer: rules.New()})
	}
	if *which != "rules" {
		m, why := modelFromEnv(getenv, *timeout)
		if m == nil {
			notes = append(notes, "model not evaluated ("+why+")")
		} else {
			analyzers = append(analyzers, evalset.Named{Name: m.Name(), Analyzer: m})
			notes = append(notes, fmt.Sprintf("model evaluated: %s", m))
		}
	}

	rep, err := evalset.Run(ctx, *dir, files, analyzers, *conc)
	if err != nil {
		fmt.Fprintf(stderr, "eval: %v\n", err)
		return 2
	}
	if err := evalset.Print(stdout, rep, evalset.PrintOptions{Notes: notes, PerThreat: *verbose}); err != nil {
		fmt.Fprintf(stderr, "eval: %v\n", err)
		return 2
	}
	if *hunting {
		if err := runHunting(ctx, getenv, *timeout, stdout); err != nil {
			fmt.Fprintf(stderr, "eval: hunting: %v\n", err)
			return 2
		}
	}
	if *injections {
		res, err := injection.Run(injection.Options{
			ScenarioDirs: []string{"tools/s1sim/scenarios", *dir},
			SamplesDir:   filepath.Join("..", "shared", "reference", "s1-samples"),
		})
		if err != nil {
			fmt.Fprintf(stderr, "eval: injection: %v\n", err)
			return 2
		}
		res.Report(stdout)
	}
	if *minAcc > 0 {
		i := rep.Index(rules.AnalyzerName)
		if i < 0 {
			fmt.Fprintln(stderr, "eval: -min-accuracy applies to the rules analyzer, which did not run (-analyzer model)")
			return 2
		}
		if acc := rep.Stats(i, nil).Accuracy(); acc < *minAcc {
			fmt.Fprintf(stdout, "\nFAIL: rules verdict+actions accuracy %.1f%% is below -min-accuracy %.1f%%\n", 100*acc, 100**minAcc)
			return 1
		}
	}
	return 0
}

// modelConfigFromEnv reads the model settings from OPENAI_BASE_URL, OPENAI_API_KEY
// and S1C_LLM_MODEL (or OPENAI_MODEL); the reason when there is no model to evaluate.
func modelConfigFromEnv(getenv func(string) string, timeout time.Duration) (llm.OpenAIConfig, string) {
	base := getenv("OPENAI_BASE_URL")
	if base == "" {
		return llm.OpenAIConfig{}, "no OPENAI_BASE_URL"
	}
	model := getenv("S1C_LLM_MODEL")
	if model == "" {
		model = getenv("OPENAI_MODEL")
	}
	if model == "" {
		return llm.OpenAIConfig{}, "OPENAI_BASE_URL is set but neither S1C_LLM_MODEL nor OPENAI_MODEL names a model"
	}
	return llm.OpenAIConfig{BaseURL: base, APIKey: getenv("OPENAI_API_KEY"), Model: model, Timeout: timeout}, ""
}

// modelFromEnv builds the model analyzer (see modelConfigFromEnv); nil and the
// reason when it cannot.
func modelFromEnv(getenv func(string) string, timeout time.Duration) (*llm.OpenAI, string) {
	cfg, why := modelConfigFromEnv(getenv, timeout)
	if why != "" {
		return nil, why
	}
	m, err := llm.NewOpenAI(cfg)
	if err != nil {
		return nil, err.Error()
	}
	return m, ""
}

// huntTranslators are the translators the hunting section scores: the library always
// (offline, no model), and the model (llm.HuntTranslator, with the validator
// production uses) when OPENAI_BASE_URL is set.
func huntTranslators(getenv func(string) string, timeout time.Duration) ([]hunts.Named, []string) {
	translators := []hunts.Named{{Name: hunt.LibraryTranslator, Translator: hunt.NewLibrary()}}
	cfg, why := modelConfigFromEnv(getenv, timeout)
	if why != "" {
		return translators, []string{"model translator not evaluated (" + why + ")"}
	}
	ht, err := llm.NewHuntTranslator(cfg, func(t hunt.Translation, now time.Time) error { return t.Check(now) })
	if err != nil {
		return translators, []string{"model translator not evaluated (" + err.Error() + ")"}
	}
	return append(translators, hunts.Named{Name: ht.Name(), Translator: ht}), nil
}

func runHunting(ctx context.Context, getenv func(string) string, timeout time.Duration, stdout io.Writer) error {
	qs, err := hunts.Questions()
	if err != nil {
		return err
	}
	translators, notes := huntTranslators(getenv, timeout)
	rep, err := hunts.Run(ctx, qs, translators)
	if err != nil {
		return err
	}
	return hunts.Print(stdout, rep, notes)
}
