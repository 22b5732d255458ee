// Package hunt is the hunting assistant's vocabulary: an analyst's question, the Deep
// Visibility query that answers it (written by a model or taken from the library of
// named hunts), the checks a query must pass before it runs, and the summary of what it
// found. The Hunt workflow (package workflows) runs it; package llm translates with a
// model; package hunt/s1ql parses, validates and evaluates S1QL.
package hunt

import (
	"context"
	"time"
)

// Language is the query language of a Translation.
type Language string

const (
	// S1QL is Deep Visibility's query language (v1), run by POST /dv/init-query.
	S1QL Language = "s1ql"
	// PowerQuery is the Singularity Data Lake's, run by POST /dv/events/pq, where the
	// tenant has it.
	PowerQuery Language = "powerquery"
)

// Request is a question to translate.
type Request struct {
	// Question is the analyst's words, e.g. "endpoints with suspicious PowerShell in the last 24 hours".
	Question string `json:"question"`
	// Now anchors relative time ranges ("last 24 hours"). The workflow passes its own
	// clock, so a retried translation asks about the same window.
	Now time.Time `json:"now"`
}

// Translation is a query that answers a Request.
type Translation struct {
	Query    string   `json:"query"`
	Language Language `json:"language"`
	// From and To bound the events searched (Deep Visibility's fromDate and toDate).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Explanation says in one line what the query looks for.
	Explanation string `json:"explanation"`
	// Translator says who wrote the query: "openai:<model>" or "library".
	Translator string `json:"translator"`
	// NamedHunt is the library hunt used ("" when a model wrote the query).
	NamedHunt string `json:"namedHunt,omitempty"`
	// Notice is said to the analyst with the query, e.g. that no model translated the
	// question and which named hunt matched instead.
	Notice string `json:"notice,omitempty"`
}

// Translator turns a question into a query. Implementations: Library (named hunts
// matched by keyword, no model) and llm.HuntTranslator (a model through structured
// output). A question nothing answers is an error that says what to ask instead.
type Translator interface {
	Translate(ctx context.Context, r Request) (Translation, error)
}
