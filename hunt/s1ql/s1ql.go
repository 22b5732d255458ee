// Package s1ql parses, validates and evaluates Deep Visibility's query language (S1QL
// v1, API reference §4.5) for the subset s1copilot writes and accepts: known fields,
// known operators, AND/OR/NOT and parentheses. The product validates a query with it
// before running one; the simulator and the eval evaluate queries with it. It imports
// only the standard library, so the simulator can use it without the product.
//
// # The subset
//
// A query is conditions `Field Operator Value` joined with AND, OR and NOT (NOT binds
// tighter than AND, AND tighter than OR) and grouped with parentheses. Keywords,
// operators and field names are case-insensitive, as in the console. Values are
// double-quoted strings without escapes (a backslash is an ordinary character, as in
// "\shell\open\command"); single quotes work too. Numbers may be bare (DstPort > 1024).
//
// Operators (Operators lists them):
//
//	=  !=                          equal / not equal (case-sensitive; numeric on number fields)
//	In ("a","b")                   equal to one of
//	In Anycase (…)                 equal to one of, case-insensitively
//	In Contains (…)                contains one of (case-sensitive)
//	In Contains Anycase (…)        contains one of, case-insensitively
//	Contains, Contains Anycase     contains (case-sensitive / not)
//	ContainsCIS                    contains, case-insensitively
//	Does Not Contain, Does Not ContainCIS
//	StartsWith, EndsWith           prefix / suffix, case-insensitively (paths and names vary in case)
//	RegExp                         Go RE2 regular expression, unanchored (use ^…$); add (?i) to ignore case
//	Is Empty, Is Not Empty         the event has no value / has one
//	>  <  >=  <=                   numeric fields only (DstPort, SrcPort, SrcProcPid, …)
//
// Fields are those of Fields (each with its type); EventType takes the Deep
// Visibility event types of EventTypes. A missing value is "": it is Empty, is "!="
// every value, contains nothing and compares false numerically.
//
// A query is bounded (MaxLength characters, MaxConditions conditions, MaxDepth nested
// parentheses, MaxRegexpLength per regular expression) so that a model cannot write a
// query that costs the console too much.
package s1ql

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// Bounds of a query.
const (
	MaxLength       = 10000
	MaxConditions   = 200
	MaxDepth        = 32
	MaxListValues   = 500
	MaxRegexpLength = 500
	// maxRegexpInsts bounds the compiled program: RE2 never backtracks, but nested
	// counted repetitions ((a{50}){50}) still compile to a program big enough to make
	// every match slow.
	maxRegexpInsts = 3000
)

// Error is a problem in a query, at a byte offset.
type Error struct {
	// Pos is the byte offset of the problem (0-based); Error prints it 1-based.
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("s1ql: at character %d: %s", e.Pos+1, e.Msg) }

func errAt(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Op is a comparison operator.
type Op int

// The operators.
const (
	OpEq Op = iota + 1
	OpNe
	OpIn
	OpInAnycase
	OpInContains
	OpInContainsAnycase
	OpContains
	OpContainsCIS // also "Contains Anycase"
	OpNotContains
	OpNotContainsCIS
	OpStartsWith
	OpEndsWith
	OpRegExp
	OpIsEmpty
	OpIsNotEmpty
	OpGt
	OpLt
	OpGe
	OpLe
)

var opNames = map[Op]string{
	OpEq: "=", OpNe: "!=", OpIn: "In", OpInAnycase: "In Anycase", OpInContains: "In Contains",
	OpInContainsAnycase: "In Contains Anycase", OpContains: "Contains", OpContainsCIS: "ContainsCIS",
	OpNotContains: "Does Not Contain", OpNotContainsCIS: "Does Not ContainCIS", OpStartsWith: "StartsWith",
	OpEndsWith: "EndsWith", OpRegExp: "RegExp", OpIsEmpty: "Is Empty", OpIsNotEmpty: "Is Not Empty",
	OpGt: ">", OpLt: "<", OpGe: ">=", OpLe: "<=",
}

func (o Op) String() string { return opNames[o] }

func (o Op) list() bool {
	return o == OpIn || o == OpInAnycase || o == OpInContains || o == OpInContainsAnycase
}

func (o Op) numeric() bool { return o == OpGt || o == OpLt || o == OpGe || o == OpLe }

func (o Op) unary() bool { return o == OpIsEmpty || o == OpIsNotEmpty }

// Operators lists the operators' spellings, for error messages and a model's prompt.
const Operators = `=, !=, In ("a","b"), In Anycase (…), In Contains (…), In Contains Anycase (…), Contains, ContainsCIS, ` +
	`Contains Anycase, Does Not Contain, Does Not ContainCIS, StartsWith, EndsWith, RegExp, Is Empty, Is Not Empty, ` +
	`>, <, >=, <= (numbers only)`

// Query is a parsed S1QL query.
type Query struct {
	root       node
	conditions int
}

type node interface {
	match(field func(string) string) bool
	write(b *strings.Builder, parentPrec int)
}

const (
	precOr = iota + 1
	precAnd
	precNot
)

type binary struct {
	and         bool
	left, right node
}

type not struct{ x node }

// Condition is one `Field Operator Value` of a query.
type Condition struct {
	Field  string // canonical name, e.g. "SrcProcName"
	Op     Op
	Values []string // one value; several for In; none for Is (Not) Empty
	lower  []string
	nums   []int64
	re     *regexp.Regexp
}

// Parse parses and validates q, refusing unknown fields and operators with an error
// (an *Error with the position) that says what to write instead.
func Parse(q string) (*Query, error) {
	if len(q) > MaxLength {
		return nil, errAt(MaxLength, "query is %d characters long; the limit is %d: split it into several hunts", len(q), MaxLength)
	}
	if strings.TrimSpace(q) == "" {
		return nil, errAt(0, `empty query: write conditions like EventType = "Process Creation" AND SrcProcName ContainsCIS "powershell"`)
	}
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.or(0)
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, errAt(t.pos, "unbalanced parentheses: this “)” closes nothing")
		}
		return nil, errAt(t.pos, "expected AND, OR or the end of the query, found %s", t.describe())
	}
	return &Query{root: root, conditions: p.conditions}, nil
}

// Match reports whether an event matches. field returns the event's value of a query
// field (its canonical name, e.g. "SrcProcName"), "" when the event has none.
func (q *Query) Match(field func(name string) string) bool { return q.root.match(field) }

// String is the canonical form: canonical field names and operator spellings, values
// double-quoted, parentheses only where precedence needs them. Parse(q.String())
// gives an equivalent query.
func (q *Query) String() string {
	var b strings.Builder
	q.root.write(&b, 0)
	return b.String()
}

// Conditions returns the query's conditions in source order (for follow-up hunts and
// explanations).
func (q *Query) Conditions() []Condition {
	var out []Condition
	var walk func(n node)
	walk = func(n node) {
		switch n := n.(type) {
		case *binary:
			walk(n.left)
			walk(n.right)
		case *not:
			walk(n.x)
		case *Condition:
			c := *n
			c.Values = slices.Clone(n.Values)
			out = append(out, c)
		}
	}
	walk(q.root)
	return out
}

type parser struct {
	toks       []token
	i          int
	conditions int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) keyword(t token, kw string) bool {
	return t.kind == tWord && strings.EqualFold(t.text, kw)
}

func (p *parser) or(depth int) (node, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek(), "OR") {
		p.next()
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = &binary{and: false, left: left, right: right}
	}
	return left, nil
}

func (p *parser) and(depth int) (node, error) {
	left, err := p.unary(depth)
	if err != nil {
		return nil, err
	}
	for p.keyword(p.peek(), "AND") {
		p.next()
		right, err := p.unary(depth)
		if err != nil {
			return nil, err
		}
		left = &binary{and: true, left: left, right: right}
	}
	return left, nil
}

func (p *parser) unary(depth int) (node, error) {
	t := p.peek()
	if p.keyword(t, "NOT") {
		p.next()
		if depth >= MaxDepth {
			return nil, errAt(t.pos, "NOT and parentheses nest deeper than %d levels: simplify the query", MaxDepth)
		}
		x, err := p.unary(depth + 1)
		if err != nil {
			return nil, err
		}
		return &not{x: x}, nil
	}
	if t.kind == tLParen {
		p.next()
		if depth >= MaxDepth {
			return nil, errAt(t.pos, "parentheses nest deeper than %d levels: simplify the query", MaxDepth)
		}
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			if c.kind == tEOF {
				return nil, errAt(t.pos, "unbalanced parentheses: this “(” is never closed")
			}
			return nil, errAt(c.pos, "expected AND, OR or “)”, found %s", c.describe())
		}
		return x, nil
	}
	return p.condition()
}

func (p *parser) condition() (node, error) {
	t := p.next()
	switch {
	case t.kind == tEOF:
		return nil, errAt(t.pos, "the query ends where a condition (Field Operator \"Value\") is expected")
	case t.kind == tRParen:
		return nil, errAt(t.pos, "unbalanced parentheses or empty group: a condition is expected before this “)”")
	case t.kind != tWord:
		return nil, errAt(t.pos, "expected a field name (e.g. SrcProcName), found %s", t.describe())
	}
	for _, kw := range []string{"AND", "OR"} {
		if p.keyword(t, kw) {
			return nil, errAt(t.pos, "%s needs a condition on each side", strings.ToUpper(kw))
		}
	}
	f, ok := fieldsByLower[strings.ToLower(t.text)]
	if !ok {
		msg := fmt.Sprintf("unknown field %s", quoted(t.text))
		if s := closest(t.text, fieldNames()); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		return nil, errAt(t.pos, "%s; known fields: %s", msg, strings.Join(fieldNames(), ", "))
	}
	p.conditions++
	if p.conditions > MaxConditions {
		return nil, errAt(t.pos, "more than %d conditions: narrow the hunt or split it into several queries", MaxConditions)
	}
	opPos := p.peek().pos
	op, err := p.operator()
	if err != nil {
		return nil, err
	}
	c := &Condition{Field: f.Name, Op: op}
	switch {
	case op.unary():
	case op.list():
		if c.Values, err = p.list(); err != nil {
			return nil, err
		}
	default:
		v := p.next()
		if v.kind != tString && v.kind != tNumber {
			return nil, errAt(v.pos, "%s %s needs a quoted value, e.g. %s %s \"%s\"; found %s", f.Name, op, f.Name, op, example(f), v.describe())
		}
		c.Values = []string{v.text}
	}
	if err := c.check(f, opPos); err != nil {
		return nil, err
	}
	return c, nil
}

func example(f *Field) string {
	switch {
	case f.Type == Number:
		return "443"
	case len(f.Values) > 0:
		return f.Values[0]
	}
	return "value"
}

// operator reads one operator, its words matched case-insensitively.
func (p *parser) operator() (Op, error) {
	t := p.next()
	bad := func() (Op, error) {
		return 0, errAt(t.pos, "unknown operator %s; operators: %s", t.describe(), Operators)
	}
	if t.kind == tSymbol {
		return map[string]Op{"=": OpEq, "!=": OpNe, ">": OpGt, "<": OpLt, ">=": OpGe, "<=": OpLe}[t.text], nil
	}
	if t.kind != tWord {
		return bad()
	}
	is := func(kw string) bool {
		if p.keyword(p.peek(), kw) {
			p.next()
			return true
		}
		return false
	}
	switch strings.ToLower(t.text) {
	case "in":
		switch {
		case is("Contains"):
			if is("Anycase") {
				return OpInContainsAnycase, nil
			}
			return OpInContains, nil
		case is("Anycase"):
			return OpInAnycase, nil
		}
		return OpIn, nil
	case "contains":
		if is("Anycase") {
			return OpContainsCIS, nil
		}
		return OpContains, nil
	case "containscis":
		return OpContainsCIS, nil
	case "does":
		if !is("Not") {
			return bad()
		}
		switch {
		case is("Contain"), is("Contains"):
			if is("Anycase") {
				return OpNotContainsCIS, nil
			}
			return OpNotContains, nil
		case is("ContainCIS"), is("ContainsCIS"):
			return OpNotContainsCIS, nil
		}
		return bad()
	case "startswith":
		is("Anycase")
		return OpStartsWith, nil
	case "endswith":
		is("Anycase")
		return OpEndsWith, nil
	case "regexp":
		return OpRegExp, nil
	case "is":
		neg := is("Not")
		if !is("Empty") {
			return 0, errAt(t.pos, "write Is Empty or Is Not Empty; operators: %s", Operators)
		}
		if neg {
			return OpIsNotEmpty, nil
		}
		return OpIsEmpty, nil
	}
	return bad()
}

// list reads `( value, value, … )`.
func (p *parser) list() ([]string, error) {
	open := p.next()
	if open.kind != tLParen {
		return nil, errAt(open.pos, `In needs a parenthesised list, e.g. In ("cmd.exe","powershell.exe"); found %s`, open.describe())
	}
	var vals []string
	for {
		v := p.next()
		if v.kind == tRParen && len(vals) == 0 {
			return nil, errAt(open.pos, `empty In (): give at least one value, e.g. In ("cmd.exe")`)
		}
		if v.kind != tString && v.kind != tNumber {
			if v.kind == tEOF {
				return nil, errAt(open.pos, "unbalanced parentheses: the In list opened here is never closed")
			}
			return nil, errAt(v.pos, "expected a quoted value in the In list, found %s", v.describe())
		}
		vals = append(vals, v.text)
		if len(vals) > MaxListValues {
			return nil, errAt(v.pos, "In lists more than %d values: narrow the hunt", MaxListValues)
		}
		switch sep := p.next(); sep.kind {
		case tComma:
		case tRParen:
			return vals, nil
		case tEOF:
			return nil, errAt(open.pos, "unbalanced parentheses: the In list opened here is never closed")
		default:
			return nil, errAt(sep.pos, "expected “,” or “)” in the In list, found %s", sep.describe())
		}
	}
}

// check validates the values against the field and prepares the comparison.
func (c *Condition) check(f *Field, pos int) error {
	if f.Type == Number {
		switch c.Op {
		case OpEq, OpNe, OpIn, OpGt, OpLt, OpGe, OpLe, OpIsEmpty, OpIsNotEmpty:
		default:
			return errAt(pos, "%s is a number: use =, !=, In, >, <, >=, <= or Is (Not) Empty, not %s", f.Name, c.Op)
		}
		for _, v := range c.Values {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return errAt(pos, "%s is a number: %q is not an integer", f.Name, v)
			}
			c.nums = append(c.nums, n)
		}
		return nil
	}
	if c.Op != OpEq && c.Op != OpNe && c.Op != OpIn && c.Op != OpInAnycase && slices.Contains(c.Values, "") {
		return errAt(pos, "%s %s with an empty value matches everything or nothing: use Is Empty or Is Not Empty", f.Name, c.Op)
	}
	if c.Op.numeric() {
		return errAt(pos, "%s is text: %s compares numbers only (numeric fields: %s); use =, Contains, StartsWith or RegExp", f.Name, c.Op, strings.Join(numericFields(), ", "))
	}
	if f.Type == Enum && (c.Op == OpEq || c.Op == OpNe || c.Op == OpIn || c.Op == OpInAnycase) {
		for i, v := range c.Values {
			canon, ok := enumValue(f, v, c.Op == OpInAnycase)
			if !ok {
				msg := fmt.Sprintf("%q is not a valid %s value", v, f.Name)
				if s := closest(v, f.Values); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return errAt(pos, "%s; values: %s", msg, strings.Join(f.Values, ", "))
			}
			c.Values[i] = canon
		}
	}
	if c.Op == OpRegExp {
		re, err := compileBounded(c.Values[0])
		if err != nil {
			return errAt(pos, "%s RegExp %q: %v", f.Name, c.Values[0], err)
		}
		c.re = re
	}
	for _, v := range c.Values {
		c.lower = append(c.lower, strings.ToLower(v))
	}
	return nil
}

// enumValue finds v among the field's values: exactly, or case-insensitively when
// fold is set or the field's values are all lower case (EndpointOs, ObjectType), where
// the case carries no meaning.
func enumValue(f *Field, v string, fold bool) (string, bool) {
	if slices.Contains(f.Values, v) {
		return v, true
	}
	if fold || f.Name != "EventType" {
		for _, e := range f.Values {
			if strings.EqualFold(e, v) {
				return e, true
			}
		}
	}
	return "", false
}

func numericFields() []string {
	var out []string
	for _, f := range fields {
		if f.Type == Number {
			out = append(out, f.Name)
		}
	}
	return out
}

var errRegexpTooBig = errors.New("too complex (nested or large repetitions): simplify it")

func compileBounded(expr string) (*regexp.Regexp, error) {
	if len(expr) > MaxRegexpLength {
		return nil, fmt.Errorf("longer than %d characters: simplify it", MaxRegexpLength)
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("not a valid RE2 regular expression: %w", err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, fmt.Errorf("not a valid RE2 regular expression: %w", err)
	}
	if len(prog.Inst) > maxRegexpInsts {
		return nil, errRegexpTooBig
	}
	return regexp.Compile(expr)
}

func (b *binary) match(field func(string) string) bool {
	if b.and {
		return b.left.match(field) && b.right.match(field)
	}
	return b.left.match(field) || b.right.match(field)
}

func (n *not) match(field func(string) string) bool { return !n.x.match(field) }

func (c *Condition) match(field func(string) string) bool {
	v := field(c.Field)
	if c.nums != nil || c.Op.numeric() {
		return c.matchNumber(v)
	}
	lv := strings.ToLower(v)
	switch c.Op {
	case OpEq:
		return v == c.Values[0]
	case OpNe:
		return v != c.Values[0]
	case OpIn:
		return slices.Contains(c.Values, v)
	case OpInAnycase:
		return slices.Contains(c.lower, lv)
	case OpInContains:
		return v != "" && slices.ContainsFunc(c.Values, func(s string) bool { return strings.Contains(v, s) })
	case OpInContainsAnycase:
		return v != "" && slices.ContainsFunc(c.lower, func(s string) bool { return strings.Contains(lv, s) })
	case OpContains:
		return v != "" && strings.Contains(v, c.Values[0])
	case OpContainsCIS:
		return v != "" && strings.Contains(lv, c.lower[0])
	case OpNotContains:
		return !strings.Contains(v, c.Values[0])
	case OpNotContainsCIS:
		return !strings.Contains(lv, c.lower[0])
	case OpStartsWith:
		return v != "" && strings.HasPrefix(lv, c.lower[0])
	case OpEndsWith:
		return v != "" && strings.HasSuffix(lv, c.lower[0])
	case OpRegExp:
		return v != "" && c.re.MatchString(v)
	case OpIsEmpty:
		return v == ""
	case OpIsNotEmpty:
		return v != ""
	}
	return false
}

func (c *Condition) matchNumber(v string) bool {
	switch c.Op {
	case OpIsEmpty:
		return v == ""
	case OpIsNotEmpty:
		return v != ""
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return c.Op == OpNe // no number is different from every number
	}
	switch c.Op {
	case OpEq:
		return n == c.nums[0]
	case OpNe:
		return n != c.nums[0]
	case OpIn:
		return slices.Contains(c.nums, n)
	case OpGt:
		return n > c.nums[0]
	case OpLt:
		return n < c.nums[0]
	case OpGe:
		return n >= c.nums[0]
	case OpLe:
		return n <= c.nums[0]
	}
	return false
}

func (b *binary) write(sb *strings.Builder, parent int) {
	prec, kw := precOr, " OR "
	if b.and {
		prec, kw = precAnd, " AND "
	}
	paren := prec < parent
	if paren {
		sb.WriteByte('(')
	}
	b.left.write(sb, prec)
	sb.WriteString(kw)
	// The right operand of a left-associative chain needs parentheses at equal
	// precedence only when it is itself a chain of the same kind; (a AND b) AND c
	// and a AND (b AND c) are the same, so prec suffices.
	b.right.write(sb, prec)
	if paren {
		sb.WriteByte(')')
	}
}

func (n *not) write(sb *strings.Builder, _ int) {
	sb.WriteString("NOT ")
	n.x.write(sb, precNot)
}

func (c *Condition) write(sb *strings.Builder, _ int) {
	sb.WriteString(c.Field)
	sb.WriteByte(' ')
	sb.WriteString(c.Op.String())
	switch {
	case c.Op.unary():
	case c.Op.list():
		sb.WriteString(" (")
		for i, v := range c.Values {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(quoteValue(v))
		}
		sb.WriteByte(')')
	default:
		sb.WriteByte(' ')
		sb.WriteString(quoteValue(c.Values[0]))
	}
}

// quoteValue quotes with double quotes, or single quotes for a value that holds a
// double quote (it came from a single-quoted string, so it holds no single quote).
func quoteValue(v string) string {
	if strings.Contains(v, `"`) {
		return "'" + v + "'"
	}
	return `"` + v + `"`
}
