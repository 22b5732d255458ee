package s1ql

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tNumber
	tLParen
	tRParen
	tComma
	tSymbol // =, !=, >, <, >=, <=
)

func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of query"
	case tWord:
		return "word"
	case tString:
		return "string"
	case tNumber:
		return "number"
	case tLParen:
		return `"("`
	case tRParen:
		return `")"`
	case tComma:
		return `","`
	}
	return "operator"
}

type token struct {
	kind tokKind
	text string // a string's content without quotes; otherwise the source text
	pos  int    // byte offset
}

// describe renders a token for an error message.
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "the end of the query"
	case tString:
		return `"` + t.text + `"`
	}
	return quoted(t.text)
}

func quoted(s string) string { return "“" + s + "”" }

// lex splits q into tokens. Strings are double-quoted and have no escapes, as in the
// console: a backslash is an ordinary character (paths like "\shell\open\command").
func lex(q string) ([]token, error) {
	var toks []token
	for i := 0; i < len(q); {
		r, size := utf8.DecodeRuneInString(q[i:])
		switch {
		case unicode.IsSpace(r):
			i += size
		case r == '(':
			toks = append(toks, token{tLParen, "(", i})
			i++
		case r == ')':
			toks = append(toks, token{tRParen, ")", i})
			i++
		case r == ',':
			toks = append(toks, token{tComma, ",", i})
			i++
		case r == '"' || r == '\'':
			end := strings.IndexRune(q[i+1:], r)
			if end < 0 {
				return nil, errAt(i, "unterminated string: add the closing %c", r)
			}
			toks = append(toks, token{tString, q[i+1 : i+1+end], i})
			i += end + 2
		case r == '=':
			toks = append(toks, token{tSymbol, "=", i})
			i++
		case r == '!' || r == '<' || r == '>':
			if i+1 < len(q) && q[i+1] == '=' {
				toks = append(toks, token{tSymbol, q[i : i+2], i})
				i += 2
				continue
			}
			if r == '!' {
				return nil, errAt(i, "“!” must be followed by “=” (write != for not equal)")
			}
			toks = append(toks, token{tSymbol, string(r), i})
			i++
		case r >= '0' && r <= '9' || r == '-' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j < len(q) && isWordByte(q[j]) {
				return nil, errAt(i, "%s is neither a number nor a field name; quote values: \"%s\"", quoted(wordAt(q, i)), wordAt(q, i))
			}
			toks = append(toks, token{tNumber, q[i:j], i})
			i = j
		case r < utf8.RuneSelf && isWordByte(byte(r)):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			toks = append(toks, token{tWord, q[i:j], i})
			i = j
		default:
			return nil, errAt(i, "unexpected character %q: values must be quoted, e.g. SrcProcName = \"cmd.exe\"", r)
		}
	}
	return append(toks, token{kind: tEOF, pos: len(q)}), nil
}

func isWordByte(b byte) bool {
	return b == '_' || b == '.' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

func wordAt(q string, i int) string {
	j := i
	for j < len(q) && (isWordByte(q[j]) || q[j] == '-') {
		j++
	}
	return q[i:j]
}
