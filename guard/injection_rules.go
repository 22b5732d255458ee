package guard

import "regexp"

// The detector's rules, by kind of text (see the comment at the top of injection.go
// for what they catch and what they do not).

// Kinds of suspected injection, as they appear in flags.
const (
	injOverride  = "instruction override"
	injRole      = "role hijack"
	injSystem    = "system prompt"
	injVerdict   = "verdict manipulation"
	injAction    = "action manipulation"
	injOutput    = "output format"
	injMarker    = "chat-role marker"
	injFence     = "fence look-alike"
	injInvisible = "invisible characters"
	injEncoded   = "base64-encoded instructions"
	// Kinds that name what the text does rather than how it is phrased.
	injState     = "state-setting syntax"
	injAuthority = "claim of authority"
	injTool      = "instruction to act"
	injExfil     = "exfiltration request"
	injFraming   = "framing"
	injScript    = "mixed scripts"
	injCommand   = "command aimed at the reader"
	injVerdictIn = "verdict word in a data field"
	injReader    = "addressed to an automated reader"
)

// kindOrder is the order of kinds in a flag.
var kindOrder = []string{injOverride, injRole, injSystem, injVerdict, injAction, injOutput, injMarker, injFence,
	injInvisible, injEncoded, injState, injAuthority, injTool, injExfil, injFraming, injScript, injCommand, injVerdictIn, injReader}

type injRule struct {
	kind string
	re   *regexp.Regexp
}

func wordRule(kind, expr string) injRule {
	return injRule{kind: kind, re: regexp.MustCompile(`\b(?:` + expr + `)\b`)}
}

// wordRules run on the normalised words of a value: lower case, letters and
// digits only, one space between words (see normalizeWords).
var wordRules = []injRule{
	wordRule(injOverride, `(?:ignore|disregard|forget|override|bypass|neglect)(?: \w+){0,4} (?:instructions?|prompts?|directions|directives|guidelines|guidance)`),
	wordRule(injOverride, `(?:ignore|disregard|forget)(?: (?:all|any|the|your|of|my|every|everything))* (?:previous|prior|preceding|above|earlier|foregoing|former)`),
	wordRule(injOverride, `(?:new|updated|real|actual|additional) instructions?|instructions? (?:for|to) (?:the )?(?:ai|assistant|model|llm|analyst|copilot|triage|soc|gpt)`),
	wordRule(injRole, `you are now|from now on|(?:act|behave) as (?:a|an|the|if)|pretend (?:to be|you are|that)|developer mode|jailbreak\w*`),
	wordRule(injSystem, `system prompt|(?:system|developer) (?:message|instructions?)`),
	wordRule(injVerdict, `(?:mark|marked|classify|classified|label|labeled|labelled|treat|treated|flag|tag|consider|report|rate|categori[sz]e|close|dismiss|resolve)(?: \w+){0,3} as (?:an? )?(?:benign|false positive|fp|clean|safe|harmless|non malicious|not malicious|legitimate|trusted|approved|whitelisted|allowlisted|expected|undetermined)`),
	wordRule(injVerdict, `(?:set|change|update|make|switch|override)(?: (?:the|your|this|its|analyst|threat|final))* verdict`),
	wordRule(injVerdict, `verdict (?:is |should be |must be |shall be |will be |equals |becomes )?(?:false positive|benign|clean|safe|undetermined|true positive|suspicious)`),
	wordRule(injVerdict, `(?:this|it|the file|the process|the script|this file|this binary|this script|this process|this activity|this threat|this alert|this detection) is (?:an? |the |just an? )?(?:approved|authori[sz]ed|sanctioned|legitimate|legit|known good|whitelisted|allowlisted|benign|harmless|safe|false positive|not malicious)`),
	wordRule(injVerdict, `(?:approved|authori[sz]ed|sanctioned|whitelisted|allowlisted|cleared|signed off) by (?:the )?(?:soc|security|secops|it|infosec|ciso|admin|administrators?|management|blue team|red team)`),
	wordRule(injAction, `(?:do not|dont|don t|never|no need to|must not|should not|shouldn t|shouldnt|avoid)(?: \w+){0,2} (?:isolat\w*|quarantin\w*|kill\w*|remediat\w*|roll ?back\w*|contain\w*|disconnect\w*|mitigat\w*|escalat\w*|take (?:any )?action|act on)`),
	wordRule(injAction, `no (?:further )?actions? (?:is |are )?(?:required|needed|necessary|recommended)`),
	wordRule(injAction, `(?:isolate|disconnect|quarantine|kill|rollback|roll back|remediate|shut ?down|wipe|reimage|block)(?: \w+){0,3} (?:every|all|each|entire|whole)(?: \w+){0,2} (?:hosts?|machines?|endpoints?|servers?|domain controllers?|dcs|agents?|devices?|computers?|network|fleet|workstations?|sites?|subnets?)`),
	wordRule(injAction, `(?:isolate|disconnect|quarantine|rollback|remediate|wipe|reimage) (?:this|the|that|every|all|each) (?:host|machine|endpoint|server|domain controller|device|computer|network)s?`),
	wordRule(injAction, `recommend(?:ed)?(?: \w+){0,2} actions?`),
	wordRule(injOutput, `(?:respond|reply|answer|output|return|print|say|write)(?: \w+){0,3} (?:with|in|only)(?: \w+){0,3} (?:json|verdict|false positive|benign|the following)`),

	wordRule(injVerdict, `(?:classify|mark|label|treat|rate|flag|report|record|set)(?: \w+){0,3} (?:as )?(?:an? )?(?:true positive|confirmed malicious|critical incident)`),
	wordRule(injAction, `skip(?: \w+){0,2} (?:mitigation|containment|isolation|remediation|quarantine|response|escalation|review|approval)`),
	wordRule(injAction, `(?:isolate|disconnect|quarantine|kill|rollback|roll back|remediate|wipe|reimage|block|delete)(?: \w+){0,2} (?:all|every|each) (?:copies|instances|files|sites|users|endpoints|processes)`),
	wordRule(injOutput, `(?:respond|reply|answer|output|say|write|print)(?: \w+){0,3} (?:with|only|exactly)(?: \w+){0,4} (?:verbatim|only|exactly|and nothing else)|output (?:that|this|the) (?:label|word|verdict|answer) only|(?:just|only|simply) (?:answer|reply|respond|say|output)`),

	// The text speaks to an automated reader: a field of S1 data has no business to.
	wordRule(injReader, `(?:any |all |the |every )?(?:automated|automatic|ai|llm|machine|bot|robot)(?: \w+)? (?:reviewers?|analysts?|handlers?|responders?|triage|systems?|agents?|assistants?|readers?|models?|processors?|pipelines?)(?: \w+){0,2} (?:should|must|shall|are expected|is expected|will|need|needs|may|can|has to|have to|please)`),
	wordRule(injReader, `(?:for|to|dear|attention|hey|hello|hi) (?:the |any |all |our |an? )?(?:ai|llm|copilot|assistant|language model|automated (?:reviewer|analyst|handler|responder|system)s?|reviewer bot|triage bot|soc bot|gpt|chatgpt|claude)\b`),

	// Claims of authority or of a verification already made: data cannot vouch for itself.
	wordRule(injAuthority, `(?:reviewed|cleared|vetted|validated|attested|certified|sanctioned|authori[sz]ed|whitelisted|allowlisted|greenlit|okayed|exempted|signed off)(?: and \w+)? by (?:the |our |a |an )?(?:\w+ ){0,2}\w+`),
	wordRule(injAuthority, `(?:authori[sz]ed|approved|sanctioned|covered|governed|exempt\w*|permitted|cleared|excluded) (?:under|per|by|via|in) (?:the |our )?(?:\w+ ){0,2}(?:[a-z]+\d+\w*|polic(?:y|ies)|tickets?|changes?|sows?|exceptions?|waivers?|advisor(?:y|ies)|bulletins?|contracts?|agreements?|mandates?)`),
	wordRule(injAuthority, `exempt\w* from (?:\w+ ){0,2}(?:verdicts?|analysis|review|triage|containment|mitigation|isolation|detection|response|scanning)|(?:per|by) (?:the )?(?:security|soc|it|executive|company) (?:leadership|management|team|lead|director|policy)`),
	wordRule(injAuthority, `no (?:analyst |human |manual |further |additional )?(?:confirmation|review|approval|verification|validation|sign ?off|triage|investigation) (?:is )?(?:needed|required|necessary)`),
	wordRule(injAuthority, `(?:advisory|bulletin|directive|mandate|regulator|cert|cisa|ncsc|psirt|msrc|vendor|mdr)(?: \w+){0,4} (?:mandates?|requires?|orders?|directs?|instructs?)`),
	wordRule(injAuthority, `(?:confirmed|verified|attested|validated|certified|deemed) (?:as |to be )?(?:malicious|true positive)`),
	wordRule(injAuthority, `(?:verified|vetted|validated|certified|confirmed|reviewed|audited|cleared|approved|whitelisted|allowlisted|signed off|greenlit|sanctioned|authori[sz]ed|okayed|exempted)(?: \w+){0,4} (?:by|per|under|via) (?:the |our |your |a |an )?(?:\w+ ){0,2}(?:soc|secops|infosec|security|it|ciso|cto|cio|lead|manager|management|admins?|administrators?|team|department|vendor|sentinelone|s1|policy|ticket|change|cab|committee|analysts?|director|head|owner|legal|compliance|desk)`),
	wordRule(injAuthority, `(?:verified|vetted|validated|certified|confirmed|known|deemed|determined|attested|rated|scanned|found|classified|reviewed)(?: \w+){0,3} (?:as|to be) (?:an? )?(?:safe|clean|benign|harmless|legitimate|trusted|not malicious|non malicious|approved|false positive|fp|authori[sz]ed)`),
	wordRule(injAuthority, `pre ?(?:approved|authori[sz]ed|verified|cleared|vetted|sanctioned)|approval (?:is )?(?:not )?(?:required|needed|granted|waived|on file)`),
	wordRule(injAuthority, `(?:policy|exception|waiver|ticket|change|chg|cr|rule|sop|runbook|playbook|allowlist|whitelist)(?: \w+){0,3} (?:allows?|permits?|authori[sz]es?|approves?|exempts?|covers?|grants?|waives?|excludes?)`),
	wordRule(injAuthority, `(?:on behalf of|by order of|with (?:the )?approval (?:of|from)|instructed by|at the request of|signed off by|authori[sz]ation from) (?:the |our )?(?:\w+ ){0,2}(?:soc|ciso|security|it|management|admins?|lead|manager|director|head|team|analyst)`),
	wordRule(injAuthority, `(?:soc|secops|infosec|security|ciso|lead|manager|admins?|team|director|head|owner|analyst)(?: \w+){0,2} (?:has |have |had |already )*(?:authori[sz]ed|approved|sanctioned|cleared|signed off|okayed|allowed|vetted|verified|whitelisted|allowlisted) (?:this|it|the (?:file|process|script|binary|activity|tool|run|execution|action|behaviou?r|detection|alert|threat|change|deployment|host))`),

	// Instructions to act, aimed at the reader's tools or at the console's state.
	wordRule(injTool, `(?:you|must|should|need to|needs to|have to|please|now|immediately|then|assistant|model|ai|copilot|agent)(?: \w+){0,2} (?:call|invoke|use|run|trigger|execute|fire|hit|submit|perform)(?: \w+){0,3} (?:tool|function|api|endpoint|plugin|action|webhook|mitigation|command|rollback|remediation|isolation|quarantine|containment|playbook|response)s?`),
	wordRule(injTool, `(?:set|change|update|mark|move|switch|flip|close|resolve)(?: (?:the|this|its|incident|analyst|threat|alert|case|ticket|mitigation))*(?: \w+)? (?:status|state|verdict|incident|ticket|case|alert|threat)(?: \w+){0,2}(?: (?:to|as))? (?:resolved|closed|benign|false positive|mitigated|done|complete\w*|success\w*|clean|safe|none|archived)`),
	wordRule(injTool, `(?:mitigat\w*|respon\w*|remediat\w*) (?:action|with action|mode) (?:none|noop|no op|skip|null|nothing)`),
	wordRule(injTool, `(?:add|put|insert|move|place)(?: \w+){0,3} (?:to|into|on) (?:the |an? )?(?:exclusions?|allow ?list|white ?list|safe ?list|exceptions?|trusted list)`),
	wordRule(injTool, `page (?:the |all |every |entire |whole )+(?:\w+ ){0,2}(?:on ?call|rotation|team|staff|soc|everyone|managers?)|(?:open|create|raise|file|log)\w* no (?:case|ticket|incident|alert)s?`),
	wordRule(injTool, `(?:you|must|should|please|just|simply|only|always)(?: \w+){0,2} (?:report|say|state|claim|respond|reply|answer|confirm|tell|output|return|log)(?: \w+){0,6} (?:successful|succeeded|success|completed?|resolved|mitigated|clean|handled|remediated|contained)`),
	wordRule(injTool, `(?:close|suppress|silence|mute|dismiss|archive|discard|ignore)(?: (?:the|this|all|any|every|these|future|linked|related|open))?(?: \w+)? (?:alerts?|tickets?|cases?|incidents?|detections?|notifications?|threats?|findings?)`),
	wordRule(injTool, `(?:do not|dont|don t|never|no need to|must not|should not|avoid)(?: \w+){0,2} (?:notify\w*|alert\w*|page|paging|inform\w*|open\w* (?:a )?tickets?|creat\w* (?:a )?tickets?|rais\w*|writ\w* (?:a )?notes?|post\w* (?:a )?notes?)`),

	// Requests to leak secrets or configuration.
	wordRule(injExfil, `(?:api (?:keys?|tokens?)|tokens?|keys?|secrets?|passwords?|credentials?|webhook urls?|endpoints?|config\w*|instructions?|prompts?)(?: \w+){0,4} (?:you were (?:given|configured|set up|provided)|you (?:use|used|have)|from your (?:setup|config\w*|instructions|prompt|environment|system))`),
	wordRule(injExfil, `(?:post|send|include|put|write|add|append|paste|leak|embed|insert|attach|share|email|mail|upload|forward|copy|reveal|disclose|print|output|expose|echo|quote|repeat|state|mention|list|exfiltrat\w*)(?: \w+){0,6} (?:api keys?|api tokens?|access tokens?|auth tokens?|bearer tokens?|session tokens?|tokens?|secrets?|passwords?|credentials?|creds|cookies?|env(?:ironment)? (?:variables?|vars?)|system prompt|your instructions|your configuration|your config)(?: \w+){0,5} (?:in|into|to|as|inside|within|on|through|via) (?:a |the |your |this |each |every )?(?:\w+ )?(?:notes?|summary|summaries|output|response|answer|reply|message|comments?|report|verdict|fields?|webhook|url|https?|ticket|slack|channel|email|parameter|query|link|image|header)`),
	wordRule(injExfil, `(?:post|send|write|add|leave|create|put|include|append)(?: \w+){0,2} (?:notes?|summary|comments?|message|report|reply|response|answer|ticket)(?: \w+){0,2} (?:containing|with|including|includes|listing|showing|holding|carrying|revealing|quoting)(?: \w+){0,3} (?:api keys?|tokens?|secrets?|passwords?|credentials?|creds|system prompt|config\w*|env\w*)`),
	wordRule(injExfil, `(?:post|send|include|put|write|add|append|paste|leak|embed|insert|attach|share|email|upload|forward|reveal|disclose|print|output|expose|tell me|give me)(?: \w+){0,3} (?:your|the model s|the assistant s|the copilot s|the system s|s1copilot s|the console s|the api s|the service s|the analyst s)(?: \w+){0,2} (?:api keys?|keys?|tokens?|secrets?|passwords?|credentials?|creds|config\w*|settings|prompt|instructions|env\w*)`),

	// Framing: the text tells the reader what kind of task this is.
	wordRule(injFraming, `(?:do not|dont|don t|never|no need to|stop|skip|instead of|rather than|without)(?: \w+){0,2} (?:analy[sz]\w*|investigat\w*|triag\w*|evaluat\w*|assess\w*|classif\w*|judg\w*|inspect\w*|scrutini[sz]\w*)`),
	wordRule(injFraming, `(?:translate|summari[sz]e|repeat|paraphrase|rewrite|transcribe|recite|spell out|echo back)(?: \w+){0,4} (?:the following|following|text below|below|after me|verbatim|word for word|this (?:text|message|line|string|record)|it back)`),
	wordRule(injFraming, `(?:this|the following|what follows|the text below|the record below|this record|this entry|this event|this alert|this data|this detection|this sample)(?: \w+){0,2} (?:is|are) (?:only |just |merely |purely |simply )?(?:a |an |part of an? )?(?:test|drill|exercise|simulation|demo|example|sample|training|game|story|poem|joke|hypothetical|fiction\w*|role ?play|benchmark)`),
	wordRule(injFraming, `(?:for|into) translation|translat\w* (?:\w+ )?(?:into|to) \w+ only|(?:summari[sz]e|translate|paraphrase|repeat|echo|transcribe) only|no (?:assessment|analysis|triage|evaluation|review|investigation|verdict|classification) (?:is )?(?:requested|needed|required|necessary|wanted)`),
	wordRule(injFraming, `not (?:an? )?real (?:alert|threat|detection|incident|attack|event|record)|(?:expected|correct|right) answer|graders?|creative writing|writing prompt|bedtime story|(?:retell|rewrite|narrate|recount)(?: \w+){0,3} as an? (?:\w+ ){0,2}(?:story|poem|song|haiku|tale|limerick|joke)`),
	wordRule(injFraming, `(?:answer|respond|reply|write|speak|talk)(?: \w+){0,2} (?:as|like|in the (?:style|voice) of) (?:an? |the )?(?:poet|pirate|story|poem|song|haiku|character|narrator|translator|storyteller|comedian)|hypothetical\w*|role ?play\w*|imagine that|let s play|in this story`),
}

// rawRules run on the lower-cased value as it is (white space and punctuation intact).
var rawRules = []injRule{
	{injOutput, regexp.MustCompile(`["'\x60]?\b(?:verdict|recommended_actions|action_reasons|key_evidence|mitre_techniques|open_questions|attack_timeline)\b["'\x60]?\s*[:=]`)},
	{injMarker, regexp.MustCompile(`(?m)(?:^|[\r\n])[ \t>*#-]*(?:system|user|developer|human|assistant|ai|model)\s*:`)},
	{injMarker, regexp.MustCompile(`\bassistant\s*:`)},
	{injMarker, regexp.MustCompile(`<\|[a-z_]{2,20}\|>|\[/?inst\]|<</?sys>>|(?:^|\s)#{2,}\s*(?:system|instructions?|assistant|user|response)\b`)},
	{injMarker, regexp.MustCompile(`</?\s*(?:system|assistant|user|data|s1data|instructions?|prompt|evidence|context|untrusted|end)\b[^<>]{0,40}>`)},
	{injFence, regexp.MustCompile("<<<|>>>|s1\\W{0,3}data|```")},

	// Template or expression syntax that sets a decision, or a flag assignment of one.
	{injState, regexp.MustCompile(`(?:["'][a-z0-9_.-]*|\b[a-z0-9]+[_.][a-z0-9_.]*)(?:verdict|is_?safe|benign|trusted|whitelist|allowlist|skip_|auto_|require_|requires_|needs_|remediat|isolat|escalat|contain|respon|severity|priority|page_|approv|review|exclusion|mitigat|quarantin|triage|ai_|llm_|model_|analyst|assessment|classification)[a-z0-9_.-]*["']?\s*(?::=|=>|=|:)\s*["']?(?:true|false|yes|no|none|benign|safe|clean|false_?positive|approved|skip|ok|informational|undetermined|suspicious|resolved|isolate|all|global)\b`)},
	{injState, regexp.MustCompile(`\b(?:status|verdict|severity|response|action|result|outcome|disposition)\s*[=:]\s*["']?(?:success|succeeded|resolved|closed|none|benign|safe|clean|false_?positive|informational|undetermined|approved|skip|ignore)\b`)},

	// Vocatives: the text turns to its reader ("assistant,", "reviewer bot:", "automation:").
	// (Only where a clause starts: a comment, a quote, a bracket, a separator.)
	{injReader, regexp.MustCompile(`(?:^|[#;>"'(\[|]|\brem\b|--|//)\s*(?:dear\s+)?(?:assistant|copilot|model|ai|llm|reviewer(?: bot)?|responder|automation|bot|triage bot|automated (?:handlers?|reviewers?|analysts?|systems?))\s*[:,]\s`)},
	// End-of-data markers followed by a new task.
	{injFence, regexp.MustCompile(`(?:end of|begin|start of) (?:the )?(?:alert|data|record|log|input|context|evidence|document|field)\b`)},
	{injOverride, regexp.MustCompile(`\bnew (?:task|instructions?|objective|role|goal|assignment|directive)\s*:`)},
	// Secrets: the reader's own, named; markdown images and links that carry data out; a
	// secret sent to an address.
	{injExfil, regexp.MustCompile(`\b(?:sentinelone|s1|model|openai|llm|copilot|console|your|assistant|ai)[_-]?(?:api[_-]?)?(?:key|token|secret|password|credentials?)\b`)},
	{injExfil, regexp.MustCompile(`!\[[^\]]{0,40}\]\(\s*https?://[^)\s]*\?`)},
	{injExfil, regexp.MustCompile(`(?:token|key|secret|password|credential|creds)s?\b[^.;\n]{0,40}\bto\s+(?:[\w.+-]+@[\w-]+\.[\w.]+|https?://)`)},

	// Commands that only a reader could run: SQL on the decision's tables, slash commands, approve tools.
	{injCommand, regexp.MustCompile(`\bupdate\s+["\[]?[\w.]*(?:verdicts?|threats?|alerts?|incidents?|detections?|analys[ie]s|approvals?|polic(?:y|ies)|allowlists?|whitelists?|findings?|cases?|tickets?|mitigations?|exclusions?|agents?|hashes|blocklists?|blacklists?)\w*["\]]?\s+set\b|\b(?:insert\s+into|delete\s+from|drop\s+table|alter\s+table|truncate\s+table|replace\s+into)\s+["\[]?[\w.]*(?:verdicts?|threats?|alerts?|incidents?|detections?|analys[ie]s|approvals?|polic(?:y|ies)|allowlists?|whitelists?|findings?|cases?|tickets?|mitigations?|exclusions?|agents?|hashes|blocklists?|blacklists?)`)},
	{injCommand, regexp.MustCompile(`['"]\s*;\s*--|['"]\s*;\s*(?:insert|update|delete|drop|select|alter|exec)\b|\bor\s+'?1'?\s*=\s*'?1\b`)},
	{injCommand, regexp.MustCompile(`--?[a-z][\w-]*[= ]['"]?(?:false_?positive|benign|undetermined|true_?positive|resolved)\b`)},
	{injCommand, regexp.MustCompile(`(?:^|[\s;|&])/(?:verdict|approve|override|ignore|allow|whitelist|allowlist|benign|safe|skip[-_]?\w*|mitigate|resolve|close|isolate|quarantine|rollback|remediate)\b`)},
	{injCommand, regexp.MustCompile(`(?:^|[\s;|&])(?:sudo\s+)?(?:approve|allowlist|whitelist|set-verdict|setverdict|mark-benign|mark-safe|resolve-threat|close-incident|s1-approve)\s+(?:--?\w+|all\b|\*)`)},
	{injCommand, regexp.MustCompile(`\b(?:call|invoke|run|execute|trigger|use)\s+(?:the\s+)?[a-z_]*(?:resolve|close|mitigat|isolat|quarantin|approv|verdict|exclu|allow|whitelist|suppress|dismiss|escalat|notify|remediat|rollback|ticket|incident|threat|status)[a-z_]*(?:\s+(?:tool|function|api|action)\b|\s*\(|\s+with\b)`)},
}

// Template and expression syntax ({{…}}, {%…%}, <%…%>, ${…}, #{…}) whose body names a
// decision and sets something: data that would set the reader's state. Templates that
// only read a value (${HOME}, {{ .Values.image }}) are ordinary in command lines.
var (
	templateBody  = regexp.MustCompile(`(?:\{\{|\{%|<%|\$\{|#\{|\[\[|#set\s*\()([^{}\]]{1,160})`)
	decisionWord  = regexp.MustCompile(`(?:verdict|approv\w*|\bsafe|benign|trusted|whitelist\w*|allowlist\w*|\bskip\w*|bypass\w*|analysis|assessment|triage|\bai\b|llm|\bmodel\b|assistant|copilot|malicious|isolat\w*|quarantin\w*|override|\bignore|\bclean\b|status|action|mitigat\w*|escalat\w*|review\w*|respon\w*|require\w*|severity|priority|\bpage\w*|oncall|contain\w*|remediat\w*|exclu\w*|incident)`)
	settingSyntax = regexp.MustCompile(`[^=!<>]=[^=~]|:=|\bset\b|\b(?:true|false)\b`)
)

// stateTemplate returns where a template sets a decision in lower, if one does.
func stateTemplate(lower string) (int, bool) {
	for _, m := range templateBody.FindAllStringSubmatchIndex(lower, 16) {
		body := lower[m[2]:m[3]]
		if decisionWord.MatchString(body) && settingSyntax.MatchString(body) {
			return m[0], true
		}
	}
	return 0, false
}

// verdictWordFields are the fields that name things (files, users, hosts, publishers):
// a verdict or clearance word in a name is addressed to a reader. (A command line
// carries any text, so it is left to the other kinds.)
var verdictWordFields = map[string]bool{"threatName": true, "filePath": true, "processUser": true,
	"originatorProcess": true, "publisherName": true, "agentName": true, "initiatedBy": true, "storyline": true,
	"workload.containerName": true, "workload.containerImage": true, "workload.namespace": true, "workload.pod": true,
	"workload.controller": true, "workload.ecsService": true}

// clearedName is a team's clearance in a host or user name ("FIN-WS-12-SOC-CLEARED"); a
// path may well hold "IT\Approved", a machine's name has no reason to.
var clearedName = regexp.MustCompile(`\b(?:soc|secops|security|sec|it|admin|ir|mdr|av|edr|infosec) (?:cleared|approved|vetted|verified|allowed|whitelisted|allowlisted|sanctioned|okd|ok|signed off|exempt)\b`)

// verdictWords are verdicts and clearances, in normalised words.
var verdictWords = regexp.MustCompile(`\b(?:false positive|falsepositive|benign|not malicious|non malicious|harmless|safe to (?:ignore|run|allow)|whitelisted|allowlisted|no action(?: needed| required)?|verified safe|known good)\b`)

// skeletonPhrases catch a phrase whatever separates (or does not separate) its
// letters: they run on the value's letters only, so they must be long and
// distinctive enough not to occur by accident inside ordinary words.
var skeletonPhrases = []struct{ kind, phrase string }{
	{injOverride, "ignorepreviousinstruction"}, {injOverride, "ignoreallpreviousinstruction"},
	{injOverride, "ignorepriorinstruction"}, {injOverride, "ignoreallpriorinstruction"},
	{injOverride, "ignoreaboveinstruction"}, {injOverride, "ignoretheaboveinstruction"},
	{injOverride, "ignoreyourinstruction"}, {injOverride, "ignoreallinstruction"},
	{injOverride, "ignoreinstruction"}, {injOverride, "disregardinstruction"},
	{injOverride, "disregardpreviousinstruction"}, {injOverride, "disregardallprevious"},
	{injOverride, "disregardprior"}, {injOverride, "disregardabove"},
	{injOverride, "forgetpreviousinstruction"}, {injOverride, "forgetallprevious"},
	{injOverride, "forgetyourinstruction"}, {injOverride, "ignoreallprevious"},
	{injOverride, "ignoreallprior"}, {injOverride, "ignoreprevious"}, {injOverride, "ignoreprior"},
	{injOverride, "overrideinstruction"},
	{injRole, "youarenow"}, {injRole, "developermode"}, {injRole, "jailbreak"},
	{injSystem, "systemprompt"},
	{injVerdict, "markasbenign"}, {injVerdict, "markitasbenign"}, {injVerdict, "markthisasbenign"},
	{injVerdict, "markasfalsepositive"}, {injVerdict, "markitasfalsepositive"}, {injVerdict, "markthisasfalsepositive"},
	{injVerdict, "markasclean"}, {injVerdict, "markthisasclean"}, {injVerdict, "markassafe"},
	{injVerdict, "verdictfalsepositive"}, {injVerdict, "verdictbenign"}, {injVerdict, "setverdict"},
	{injVerdict, "setthe" + "verdict"}, {injVerdict, "classifyasbenign"}, {injVerdict, "treatasbenign"},
	{injVerdict, "falsepositiveverdict"}, {injVerdict, "thisisbenign"}, {injVerdict, "thisisafalsepositive"},
	{injVerdict, "thisisfalsepositive"},
	{injAction, "donotisolate"}, {injAction, "dontisolate"}, {injAction, "donotquarantine"},
	{injAction, "dontquarantine"}, {injAction, "donotkill"}, {injAction, "dontkill"},
	{injAction, "donotremediate"}, {injAction, "donotrollback"}, {injAction, "noactionrequired"},
	{injAction, "noactionneeded"}, {injAction, "isolateall"}, {injAction, "isolateevery"},
	{injOutput, "respondwithjson"}, {injOutput, "answerwithjson"}, {injOutput, "respondonlywith"},
	{injOutput, "replyonlywith"},
}
