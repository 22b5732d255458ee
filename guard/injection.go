package guard

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/s1copilot/s1copilot/investigation"
)

// Prompt-injection defence.
//
// Every string SentinelOne reports about a threat (file paths, command lines,
// threat names, user names, indicators, timeline entries) can be written by the
// attacker. The model client (llm.OpenAI) fences that data and tells the model
// it is not instructions, but a model may obey it anyway. So, independently of
// the model:
//
//   - DetectInjection scans the data for text aimed at a model and returns flags,
//     which travel with the analysis (Analysis.InjectionFlags) into the note.
//   - AgainstInjection, applied by llm.OpenAI.Analyze whenever there are flags,
//     holds the model's verdict and actions to what the deterministic rules
//     analyzer (which cannot be talked to) supports.
//
// What the detector catches (case-insensitively, after normalisation):
//   - instruction overrides: ignore / disregard / forget / override … previous,
//     prior, above … instructions, prompts, rules; "new instructions";
//   - role hijacks: "you are now", "from now on", "act as a…", "pretend to be",
//     "developer mode", "jailbreak";
//   - "system prompt", "system/developer message";
//   - verdict manipulation: mark / classify / treat / label … as benign, false
//     positive, clean, safe, approved, not malicious …; "set the verdict",
//     "verdict: false_positive"; "this is an approved/authorised … script";
//     "approved by the SOC/IT/security";
//   - action manipulation: do not / don't / never / no need to … isolate,
//     quarantine, kill, remediate, roll back, contain, escalate; "no action
//     required"; isolate / wipe … every / all … hosts, servers, domain
//     controllers; "isolate the host"; "recommended actions";
//   - output-format hijacks: respond / reply / output … with / only … JSON,
//     verdict; our schema's keys followed by ":" or "=" ("verdict": …);
//   - chat-role markers: "system:", "user:", "developer:" at the start of a line,
//     "assistant:" anywhere, chat-template tokens (<|im_start|>, [INST],
//     <<SYS>>, ### Instruction) and tags such as </data>, <system>;
//   - fence look-alikes: <<<, >>>, S1DATA, ``` ;
//   - invisible characters: zero-width, bidi overrides, Unicode tag characters
//     (and the ASCII hidden in tag characters is decoded and scanned);
//   - base64 blobs (also UTF-16LE, as in powershell -enc) that decode to any of
//     the above.
//
// And, by what the text does rather than how it is phrased (issue 18):
//   - state-setting syntax: templates ({{…}}, {%…%}, <%…%>, ${…}, #{…}, [[…]],
//     #set(…)) whose body names a decision and sets something, and flag assignments
//     of decisions (require_approval=false, "auto_remediate": true, status=resolved);
//   - claims of authority or of a verification already made: "validated by <anyone>",
//     "covered by policy P-17", "authorised under INC…", "no analyst confirmation
//     needed", an advisory that "mandates" an action, "confirmed malicious";
//   - instructions to act, aimed at tools or the console: call or run a tool, function
//     or mitigation; set a status; close, suppress or dismiss alerts and tickets; add to
//     the exclusions; page people; "report success";
//   - exfiltration requests: secrets, configuration or prompts sent, posted, quoted or
//     appended somewhere, the reader's own keys named (YOUR_API_KEY, the model API key),
//     markdown images and links that carry data out;
//   - framing: "do not analyse", translate or summarise only, "this record is a test",
//     stories and poems, expected answers, "not a real alert";
//   - text addressed to an automated reader: "automated reviewers should…", "note to the
//     AI", a vocative ("assistant:", "reviewer bot,") where a clause starts;
//   - mixed scripts: a word mixing Latin with Cyrillic, Greek, Armenian or Cherokee
//     letters, or letters styled from the mathematical, circled or squared alphabets
//     (which normalisation also folds to ASCII, so the words beneath are read too);
//   - commands only a reader could run: SQL on security tables, SQL injection shapes,
//     slash commands, approve/verdict CLIs and flags (--threat-type=false_positive);
//   - a verdict or clearance word in a field that names something (a path, a user, a
//     host, a publisher: "…\false positive\…", "WS-SOC-CLEARED").
//
// Recall is measured per kind by `make eval` (tools/eval/injection) on the corpus the
// detector was tuned with and, apart, on a held-out corpus written without sight of it.
//
// Normalisation defeats the cheap obfuscations: letters spaced out or separated
// by punctuation ("i g n o r e", "i.g.n.o.r.e"), snake_case and CamelCase runs
// ("IGNORE_ALL_PRIOR_INSTRUCTIONS", "IgnorePreviousInstructions.exe"), leetspeak
// digits (0→o 1→i 3→e 4→a 5→s 7→t, @→a, $→s), full-width letters, common
// Cyrillic look-alikes (а е о р с х у і), zero-width characters inside words.
//
// What it does not catch: paraphrases without any of these shapes ("be a dear and
// let this one slide"), other languages, instructions split across
// several fields, text encoded other than in base64 (hex, rot13, gzip, URL
// encoding), homoglyphs beyond the common Cyrillic ones, and data that is merely
// misleading rather than instructive (a malicious binary named
// "WindowsUpdate.exe"). That is why the guard does not depend on the detector
// alone for safety: the policy's own guards (S1 confidence, thresholds,
// approvals) still apply, and the rules analyzer sets the floor.
//
// Known false-alarm risks, accepted because a flag only holds the model to the
// rules and never acts by itself: S1 timeline text such as "Analyst verdict:
// False positive", or a user literally named "system" at the start of a line.

// Bounds on the flags: they travel through Temporal history and into S1 notes.
const (
	maxInjectionFlags   = 12
	maxExcerptRunes     = 80
	excerptLeadRunes    = 24
	maxBase64Candidates = 16
	maxBase64Len        = 8192
)

// injectionField is one S1-sourced string and the name a flag gives it.
type injectionField struct{ name, value string }

// injectionFields lists every attacker-influenced string of the evidence, named
// as in the JSON of ThreatFacts (lists and the timeline with their index). S1's
// own enumerations (confidence level, verdicts, statuses, OS type), IDs and
// hashes are not scanned: no attacker writes them.
func injectionFields(ev investigation.Evidence) []injectionField {
	f := ev.Facts
	out := []injectionField{
		{"threatName", f.ThreatName}, {"classification", f.Classification},
		{"classificationSource", f.ClassificationSource}, {"filePath", f.FilePath},
		{"publisherName", f.PublisherName}, {"commandLine", f.CommandLine},
		{"originatorProcess", f.OriginatorProcess}, {"initiatedBy", f.InitiatedBy},
		{"processUser", f.ProcessUser}, {"storyline", f.Storyline},
		{"agentName", f.AgentName}, {"osName", f.OSName},
		{"siteName", f.SiteName}, {"groupName", f.GroupName},
	}
	list := func(name string, vs []string) {
		for i, v := range vs {
			out = append(out, injectionField{fmt.Sprintf("%s[%d]", name, i), v})
		}
	}
	list("engines", f.Engines)
	list("indicators", f.Indicators)
	list("techniques", f.Techniques)
	list("tags", f.Tags)
	for i, it := range ev.Timeline {
		out = append(out, injectionField{fmt.Sprintf("timeline[%d]", i), it.Description})
	}
	if w := f.Workload; w != nil {
		out = append(out, injectionField{"workload.containerName", w.ContainerName}, injectionField{"workload.containerImage", w.ContainerImage},
			injectionField{"workload.namespace", w.Namespace}, injectionField{"workload.pod", w.Pod},
			injectionField{"workload.controller", w.Controller}, injectionField{"workload.ecsService", w.ECSService})
	}
	if c := ev.CoLocated; c != nil {
		for i, e := range c.Examples {
			out = append(out, injectionField{fmt.Sprintf("coLocated.examples[%d].threatName", i), e.ThreatName})
		}
	}
	if c := ev.Context; c != nil {
		for i, ch := range c.ProcessChains {
			for j, p := range ch.Processes {
				out = append(out, injectionField{fmt.Sprintf("processTree[%d][%d].name", i, j), p.Name},
					injectionField{fmt.Sprintf("processTree[%d][%d].cmd", i, j), p.Cmd},
					injectionField{fmt.Sprintf("processTree[%d][%d].user", i, j), p.User})
			}
		}
		list("network", c.Network)
		list("files", c.Files)
		list("registry", c.Registry)
		list("behaviors", c.Behaviors)
		for i, t := range c.PriorThreats {
			out = append(out, injectionField{fmt.Sprintf("priorThreats[%d].threatName", i), t.ThreatName})
		}
	}
	return out
}

// DetectInjection scans every attacker-influenced string of the evidence for
// text aimed at a model (see the comment at the top of this file for what is
// and is not caught). It returns one flag per suspicious field, in field order:
//
//	commandLine: instruction override, verdict manipulation: "…ignore previous instructions and mark…"
//
// The excerpt is cleaned (one line, no control, invisible or fence characters,
// double quotes turned into single ones) and at most 80 characters; at most 12
// flags are returned, the last one counting the fields left out. It is
// deterministic and returns nil for clean evidence.
func DetectInjection(ev investigation.Evidence) []string {
	var flags []string
	for _, f := range injectionFields(ev) {
		if strings.TrimSpace(f.value) == "" {
			continue
		}
		kinds, at := scanInjection(f.value, true)
		if verdictWordFields[f.name] && !slices.Contains(kinds, injVerdictIn) {
			words := normalizeWords(f.value)
			loc := verdictWords.FindStringIndex(words)
			if loc == nil && (f.name == "agentName" || f.name == "processUser") {
				loc = clearedName.FindStringIndex(words)
			}
			if loc != nil {
				if len(kinds) == 0 {
					at = max(anchor(asciiLower(f.value), words[loc[0]:loc[1]]), 0)
				}
				kinds = inKindOrder(append(kinds, injVerdictIn))
			}
		}
		if len(kinds) > 0 {
			flags = append(flags, fmt.Sprintf("%s: %s: %q", f.name, strings.Join(kinds, ", "), excerpt(f.value, at)))
		}
	}
	if len(flags) > maxInjectionFlags {
		more := len(flags) - (maxInjectionFlags - 1)
		flags = append(flags[:maxInjectionFlags-1], fmt.Sprintf("(%d more fields flagged)", more))
	}
	return flags
}

// scanInjection returns the kinds of injection found in s, in a fixed order,
// and the byte offset in s of the first hit it can locate (0 if none).
// decode enables the base64 pass (off inside it: no recursion).
func scanInjection(s string, decode bool) ([]string, int) {
	found := map[string]bool{}
	at := -1
	hit := func(kind string, pos int) {
		found[kind] = true
		if pos >= 0 && (at < 0 || pos < at) {
			at = pos
		}
	}

	lower := asciiLower(s)
	for _, r := range rawRules {
		if loc := r.re.FindStringIndex(lower); loc != nil {
			hit(r.kind, loc[0])
		}
	}

	visible, hidden, invisible := stripInvisible(s)
	if invisible > 0 {
		hit(injInvisible, strings.IndexFunc(s, isInvisible))
	}
	texts := []string{visible}
	if hidden != "" {
		texts = append(texts, hidden)
		for _, r := range rawRules {
			if r.re.MatchString(asciiLower(hidden)) {
				hit(r.kind, -1)
			}
		}
	}
	for _, t := range texts {
		words := normalizeWords(t)
		for _, r := range wordRules {
			if m := r.re.FindString(words); m != "" {
				hit(r.kind, anchor(lower, m))
			}
		}
		skel := strings.ReplaceAll(words, " ", "")
		for _, p := range skeletonPhrases {
			if !found[p.kind] && strings.Contains(skel, p.phrase) {
				hit(p.kind, -1)
			}
		}
	}

	if at, ok := mixedScripts(s); ok {
		hit(injScript, at)
	}
	if at, ok := stateTemplate(lower); ok {
		hit(injState, at)
	}

	if decode {
		for _, c := range base64Candidates(s) {
			if kinds, _ := scanInjection(c.text, false); len(kinds) > 0 {
				hit(injEncoded, c.at)
			}
		}
	}

	if len(found) == 0 {
		return nil, 0
	}
	var kinds []string
	for k := range found {
		kinds = append(kinds, k)
	}
	return inKindOrder(kinds), max(at, 0)
}

// inKindOrder sorts kinds as flags list them (kindOrder).
func inKindOrder(kinds []string) []string {
	slices.SortFunc(kinds, func(a, b string) int { return slices.Index(kindOrder, a) - slices.Index(kindOrder, b) })
	return kinds
}

// mixedScripts reports the first word that mixes Latin letters with Cyrillic, Greek,
// Armenian or Cherokee ones ("bеnign" with a Cyrillic е), or any letter styled from
// the mathematical, circled or squared alphabets (𝐛𝐞𝐧𝐢𝐠𝐧): spellings that exist to
// read as one word to a model and as another to a filter. Names written wholly in
// one script (Иван, Δημήτρης) are not flagged.
func mixedScripts(s string) (int, bool) {
	wordStart, scripts := -1, 0
	for i, r := range s {
		if styledLetter(r) {
			return i, true
		}
		if !unicode.IsLetter(r) {
			wordStart, scripts = -1, 0
			continue
		}
		if wordStart < 0 {
			wordStart = i
		}
		scripts |= scriptOf(r)
		if scripts&scriptLatin != 0 && scripts&^scriptLatin != 0 {
			return wordStart, true
		}
	}
	return 0, false
}

const (
	scriptLatin = 1 << iota
	scriptOtherLookAlike
)

// scriptOf classifies a letter: Latin, a script with Latin look-alikes, or neither (0).
func scriptOf(r rune) int {
	switch {
	case r < utf8.RuneSelf || unicode.Is(unicode.Latin, r):
		return scriptLatin
	case r == 'µ' || r == 'μ': // the micro sign, in Latin text as a unit ("μs")
		return 0
	case unicode.In(r, unicode.Cyrillic, unicode.Greek, unicode.Armenian, unicode.Cherokee):
		return scriptOtherLookAlike
	}
	return 0
}

// styledLetter: mathematical alphanumerics, circled and squared letters.
func styledLetter(r rune) bool {
	return r >= 0x1D400 && r <= 0x1D7FF || r >= 0x24B6 && r <= 0x24E9 || r >= 0x1F130 && r <= 0x1F189
}

// anchor finds where a normalised match starts in the lower-cased original: the
// offset of its first word, or -1 if that word was obfuscated beyond a plain search.
func anchor(lower, match string) int {
	first, _, _ := strings.Cut(match, " ")
	return strings.Index(lower, first)
}

func isInvisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

// stripInvisible drops invisible format characters (zero-width, bidi, tags). It
// returns the text without them, the ASCII hidden in Unicode tag characters (if
// any) and how many invisible characters there were.
func stripInvisible(s string) (visible, hidden string, n int) {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var v, h strings.Builder
	for _, r := range s {
		if !isInvisible(r) {
			v.WriteRune(r)
			continue
		}
		n++
		if r >= 0xE0020 && r <= 0xE007E {
			h.WriteRune(r - 0xE0000)
		}
	}
	return v.String(), h.String(), n
}

// homoglyphs maps look-alike letters to the ASCII letter they imitate.
var homoglyphs = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'х': 'x', 'у': 'y', 'і': 'i', 'ј': 'j', 'ѕ': 's',
	'ԁ': 'd', 'ɡ': 'g', 'ո': 'n', 'ı': 'i', 'ѵ': 'v', 'к': 'k', 'м': 'm', 'т': 't', 'в': 'b', 'н': 'h',
	'ӏ': 'l', 'һ': 'h', 'ԛ': 'q', 'ԝ': 'w', 'ѡ': 'w', 'г': 'r', 'п': 'n', 'ь': 'b',
	// Greek
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't', 'υ': 'u', 'χ': 'x', 'γ': 'y', 'ϲ': 'c',
	// Latin small capitals and look-alikes
	'ᴀ': 'a', 'ʙ': 'b', 'ᴄ': 'c', 'ᴅ': 'd', 'ᴇ': 'e', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i', 'ᴊ': 'j', 'ᴋ': 'k', 'ʟ': 'l', 'ᴍ': 'm', 'ɴ': 'n',
	'ᴏ': 'o', 'ᴘ': 'p', 'ʀ': 'r', 'ꜱ': 's', 'ᴛ': 't', 'ᴜ': 'u', 'ᴠ': 'v', 'ᴡ': 'w', 'ʏ': 'y', 'ᴢ': 'z', 'ɑ': 'a', 'ℯ': 'e', 'ⅰ': 'i',
}

// styledToASCII maps the letters of the mathematical alphabets (52 letters each, from
// U+1D400), and circled and squared letters, to plain ASCII.
func styledToASCII(r rune) (rune, bool) {
	switch {
	case r >= 0x1D400 && r <= 0x1D6A3:
		i := (r - 0x1D400) % 52
		if i < 26 {
			return 'A' + i, true
		}
		return 'a' + i - 26, true
	case r >= 0x24B6 && r <= 0x24CF:
		return 'A' + r - 0x24B6, true
	case r >= 0x24D0 && r <= 0x24E9:
		return 'a' + r - 0x24D0, true
	case r >= 0x1F130 && r <= 0x1F149:
		return 'A' + r - 0x1F130, true
	case r >= 0x1F170 && r <= 0x1F189:
		return 'A' + r - 0x1F170, true
	}
	return 0, false
}

// leet maps the digits and symbols used to dodge keyword filters to letters.
var leet = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's'}

// normalizeWords lower-cases s, folds full-width forms, look-alikes and leetspeak
// to ASCII letters, splits CamelCase, turns every other character into a word
// break, and joins runs of three or more single letters ("i g n o r e").
func normalizeWords(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		if m, ok := homoglyphs[unicode.ToLower(r)]; ok {
			r = m
		} else if m, ok := styledToASCII(r); ok {
			r = m
		}
		if unicode.IsLower(prev) && unicode.IsUpper(r) {
			b.WriteByte(' ') // CamelCase word break
		}
		prev = r
		r = unicode.ToLower(r)
		if m, ok := leet[r]; ok {
			r = m
		}
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			b.WriteRune(r)
		case r >= utf8.RuneSelf && unicode.IsLetter(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	var out []string
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && utf8.RuneCountInString(words[j]) == 1 {
			j++
		}
		if j-i >= 3 {
			out = append(out, strings.Join(words[i:j], ""))
			i = j
			continue
		}
		out = append(out, words[i])
		i++
	}
	return strings.Join(out, " ")
}

var base64RE = regexp.MustCompile(`[A-Za-z0-9+/_-]{20,}={0,2}`)

type decoded struct {
	text string
	at   int
}

// base64Candidates decodes the base64-looking tokens of s (standard or URL
// alphabet, padded or not, UTF-8 or UTF-16LE text) that decode to mostly
// printable text.
func base64Candidates(s string) []decoded {
	var out []decoded
	for _, loc := range base64RE.FindAllStringIndex(s, maxBase64Candidates) {
		tok := s[loc[0]:loc[1]]
		if len(tok) > maxBase64Len {
			tok = tok[:maxBase64Len&^3]
		}
		raw := strings.TrimRight(tok, "=")
		var b []byte
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			if d, err := enc.DecodeString(raw); err == nil {
				b = d
				break
			}
		}
		if len(b) < 8 {
			continue
		}
		if t, ok := printableText(b); ok {
			out = append(out, decoded{text: t, at: loc[0]})
		}
	}
	return out
}

// printableText interprets b as UTF-16LE (when every other byte is zero, as
// powershell -EncodedCommand has it) or UTF-8, and reports whether the result is
// mostly printable.
func printableText(b []byte) (string, bool) {
	zeros := 0
	for i := 1; i < len(b); i += 2 {
		if b[i] == 0 {
			zeros++
		}
	}
	var s string
	if zeros*10 >= (len(b)/2)*8 {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
		s = string(utf16.Decode(u))
	} else {
		if !utf8.Valid(b) {
			return "", false
		}
		s = string(b)
	}
	total, printable := 0, 0
	for _, r := range s {
		total++
		if unicode.IsPrint(r) || r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			printable++
		}
	}
	return s, total > 0 && printable*10 >= total*9
}

// excerpt is a short, cleaned window of s around byte offset at.
func excerpt(s string, at int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	at = min(max(at, 0), len(s))
	for at > 0 && !utf8.RuneStart(s[at]) {
		at--
	}
	runes := []rune(s)
	hit := utf8.RuneCountInString(s[:at])
	start := max(0, hit-excerptLeadRunes)
	end := min(len(runes), start+maxExcerptRunes)
	text := strings.Join(strings.Fields(strings.ReplaceAll(Clean(string(runes[start:end])), `"`, "'")), " ")
	if start > 0 {
		text = "…" + text
	}
	if end < len(runes) {
		text += "…"
	}
	return text
}

// AgainstInjection holds a model's analysis to what the rules analyzer
// supports when the evidence carries suspected prompt injection (flags from
// DetectInjection). Without flags it returns model unchanged. With flags, the
// decision-relevant fields are bounded by rules, an analysis of the same
// evidence by the rules analyzer, which no text can talk into anything:
//
//   - Verdict: never below the rules' verdict (order false_positive <
//     undetermined < suspicious < true_positive); a lower one is replaced by the
//     rules' verdict and confidence. The model may raise a verdict to suspicious
//     (a human looks) but not to true_positive: a true_positive the rules do not
//     reach becomes suspicious, so no fabricated verdict can unlock automatic
//     actions or be written back to the console.
//   - Confidence: at most the rules' confidence, so a forged 0.99 cannot cross
//     an automatic threshold the rules would not cross.
//   - Priority: never below the rules' priority.
//   - Recommended actions: exactly the rules' actions. The model can neither
//     remove containment the rules recommend nor add any action they do not
//     recommend (low or high impact); the dropped ones are listed as an open
//     question for a human. Each kept action keeps the model's reason if the
//     model recommended it, otherwise the rules' reason.
//   - Summary: says that prompt injection is suspected, in which fields, and
//     what was overridden, followed by the model's own summary, labelled as
//     possibly influenced.
//
// Guarding an already guarded analysis again (say, one reused for another
// threat, with that threat's flags and rules) bounds it afresh and keeps one
// copy of the model's summary. InjectionFlags is set to flags and Rules to the
// rules that fired. The model's attack timeline, MITRE techniques and open
// questions are kept (they were grounded in the evidence). The result passes investigation.Analysis.Validate
// when both inputs do.
func AgainstInjection(model, rules investigation.Analysis, flags []string) investigation.Analysis {
	if len(flags) == 0 {
		return model
	}
	out := model
	out.InjectionFlags = slices.Clone(flags)
	out.Rules = slices.Clone(rules.Rules)
	out.OpenQuestions = slices.Clone(model.OpenQuestions)
	var changes []string

	// Verdict and confidence.
	switch {
	case model.Verdict.Rank() < rules.Verdict.Rank():
		out.Verdict, out.Confidence = rules.Verdict, rules.Confidence
		changes = append(changes, fmt.Sprintf("verdict %s replaced by the rules' %s (confidence %.2f)", model.Verdict, rules.Verdict, rules.Confidence))
	case model.Verdict == investigation.VerdictTruePositive && rules.Verdict != investigation.VerdictTruePositive:
		out.Verdict = investigation.VerdictSuspicious
		out.Confidence = min(model.Confidence, rules.Confidence)
		changes = append(changes, fmt.Sprintf("verdict true_positive lowered to suspicious (the rules say %s)", rules.Verdict))
	case model.Confidence > rules.Confidence:
		out.Confidence = rules.Confidence
		changes = append(changes, fmt.Sprintf("confidence %.2f capped at the rules' %.2f", model.Confidence, rules.Confidence))
	}
	if model.Priority.Rank() < rules.Priority.Rank() {
		out.Priority = rules.Priority
		changes = append(changes, fmt.Sprintf("priority %s raised to the rules' %s", model.Priority, rules.Priority))
	}

	// Actions: exactly the rules'.
	var restored, dropped []string
	for _, act := range rules.RecommendedActions {
		if !slices.Contains(model.RecommendedActions, act) {
			restored = append(restored, string(act))
		}
	}
	for _, act := range model.RecommendedActions {
		if !slices.Contains(rules.RecommendedActions, act) {
			dropped = append(dropped, string(act))
		}
	}
	out.RecommendedActions = slices.Clone(rules.RecommendedActions)
	out.ActionReasons = nil
	for _, act := range out.RecommendedActions {
		reason := model.ReasonFor(act)
		if !slices.Contains(model.RecommendedActions, act) || strings.TrimSpace(reason) == "" {
			reason = rules.ReasonFor(act)
		}
		if strings.TrimSpace(reason) == "" {
			reason = "recommended by the rules analyzer"
		}
		out.ActionReasons = append(out.ActionReasons, investigation.ActionReason{Action: act, Reason: reason})
	}
	if len(restored) > 0 {
		changes = append(changes, "containment the model left out restored: "+strings.Join(restored, ", "))
	}
	if len(dropped) > 0 {
		changes = append(changes, "actions only the model recommended dropped: "+strings.Join(dropped, ", "))
		q := fmt.Sprintf("The model also recommended %s, which the rules do not support and which were dropped because the S1 data contains suspected prompt injection: does this threat need them?", strings.Join(dropped, ", "))
		if len(out.OpenQuestions) >= MaxOpenQuestions {
			out.OpenQuestions = out.OpenQuestions[:MaxOpenQuestions-1]
		}
		out.OpenQuestions = append(out.OpenQuestions, q)
	}

	// Guarded before (an analysis reused for another threat): what was replaced then
	// was replaced from the model's own answer, and stays said.
	out.GuardChanges = slices.Clone(model.GuardChanges)
	for _, c := range changes {
		if !slices.Contains(out.GuardChanges, c) {
			out.GuardChanges = append(out.GuardChanges, c)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Suspected prompt injection: the SentinelOne data contain text aimed at an AI model (in %s). ",
		strings.Join(flaggedFields(flags), ", "))
	b.WriteString(GuardOutcome(out) + " ")
	s := strings.TrimSpace(model.Summary)
	if _, inner, ok := strings.Cut(s, modelSummaryLabel); ok && strings.HasPrefix(s, "Suspected prompt injection:") {
		s = inner // guarded before (e.g. a reused analysis): keep the model's own words once
	} else if strings.HasPrefix(s, "Suspected prompt injection:") {
		s = ""
	}
	if s != "" {
		b.WriteString(modelSummaryLabel)
		b.WriteString(s)
	}
	out.Summary = Truncate(b.String(), MaxSummaryRunes)
	return out
}

// GuardOutcome says, in one sentence, what the injection guard did to an analysis whose
// data it flagged: which of the model's verdict, confidence, priority and actions it
// replaced with the rules analyzer's, or that they stood.
func GuardOutcome(a investigation.Analysis) string {
	if len(a.GuardChanges) > 0 {
		return "The guard replaced parts of the model's answer with the rules analyzer's, because the data may have steered the model: " +
			strings.Join(a.GuardChanges, "; ") + "."
	}
	return "The guard checked the model's verdict, confidence, priority and actions against the rules analyzer: they stand."
}

// modelSummaryLabel introduces the model's own summary in a guarded analysis.
const modelSummaryLabel = "Model's summary (may be influenced by the injection): "

// flaggedFields returns the field names of flags ("commandLine", "timeline[2]").
func flaggedFields(flags []string) []string {
	var out []string
	for _, f := range flags {
		if name, _, ok := strings.Cut(f, ": "); ok && !strings.HasPrefix(f, "(") {
			out = append(out, name)
		} else {
			out = append(out, f) // "(n more fields flagged)"
		}
	}
	if len(out) == 0 {
		out = append(out, "see the injection flags")
	}
	return out
}
