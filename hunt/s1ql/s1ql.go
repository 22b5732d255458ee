// Package s1ql parses, validates and evaluates Deep Visibility's query language (S1QL
// v1, API reference §4.5) for the subset s1copilot writes and accepts: known fields,
// known operators, AND/OR/NOT and parentheses. The product validates a query with it
// before running one; the simulator and the eval evaluate queries with it.
package s1ql

// Query is a parsed S1QL query.
type Query struct {
	// filled in by the implementation
}

// Parse parses and validates q, refusing unknown fields and operators with an error
// that says what to write instead.
func Parse(q string) (*Query, error) {
	panic("s1ql.Parse: not implemented yet")
}

// Match reports whether an event matches. field returns the event's value of a query
// field (e.g. "SrcProcName"), "" when the event has none.
func (q *Query) Match(field func(name string) string) bool {
	panic("s1ql.Match: not implemented yet")
}
