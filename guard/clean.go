package guard

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FenceMarker is the fixed part of the data fences around untrusted evidence
// (llm builds the fences from it). Clean strips every S1-sourced string of it
// (and of <<< / >>>), so no data can close the fence or forge a new one,
// whatever the random suffix.
const FenceMarker = "S1DATA"

// Bounds on the model's prose, kept by the analyzer that reads the answer and by
// AgainstInjection when it rewrites one: analyses travel through Temporal
// history and into S1 notes.
const (
	MaxSummaryRunes  = 2000
	MaxOpenQuestions = 10
)

// Clean makes an untrusted string safe to place inside the data fence: valid
// UTF-8, one line (control characters become spaces, invisible format characters
// such as bidi overrides are dropped) and free of fence look-alikes.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Cc, r):
			return ' '
		case unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	// Removing one marker can join two halves into a new one ("S1DS1DATAATA"), so
	// repeat until nothing changes.
	for {
		before := s
		s = strings.ReplaceAll(s, "<<<", "")
		s = strings.ReplaceAll(s, ">>>", "")
		s = removeFold(s, FenceMarker)
		if s == before {
			return strings.TrimSpace(s)
		}
	}
}

// removeFold deletes every case-insensitive occurrence of the ASCII string sub.
func removeFold(s, sub string) string {
	lowerSub := strings.ToLower(sub)
	var b strings.Builder
	for {
		// ASCII lowering keeps byte offsets aligned with s.
		i := strings.Index(asciiLower(s), lowerSub)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i+len(sub):]
	}
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// Truncate cuts s to max runes and says how much was cut, so the model (and a
// human reading a note) knows the value is incomplete.
func Truncate(s string, max int) string {
	n := utf8.RuneCountInString(s)
	if n <= max {
		return s
	}
	runes := []rune(s)
	return fmt.Sprintf("%s…[truncated, %d more chars]", string(runes[:max]), n-max)
}
