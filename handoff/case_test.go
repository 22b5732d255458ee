package handoff_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/s1copilot/s1copilot/handoff"
	"github.com/s1copilot/s1copilot/handoff/handofftest"
)

// triageCase is a case at triage with every field a triage case can carry.
func triageCase() handoff.Case {
	return handoff.Case{
		SchemaVersion: handoff.SchemaVersion,
		Stage:         handoff.StageTriage,
		CaseID:        "s1-threat/1910000000000000002",
		Threat: handoff.Threat{
			ID: "1910000000000000002", Name: "invoice.docm", Classification: "Malware", ConfidenceLevel: "malicious",
			FilePath: `C:\Users\bob\Downloads\invoice.docm`, SHA1: "3395856ce81f2b7382dee72602f798b642f14140",
			SHA256:      "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
			CommandLine: "powershell.exe -nop -w hidden -enc SQBFAFgA", CreatedAt: "2025-03-01T11:58:03.123456Z",
		},
		Host: handoff.Host{
			AgentID: "1800000000000000002", ComputerName: "SALES-LT-042", OSType: "windows",
			SiteID: "1700000000000000001", SiteName: "HQ", GroupName: "Laptops",
			Workload: &handoff.Workload{Cluster: "prod-eu", Namespace: "web", Pod: "web-7d9f", ContainerImage: "nginx:1.27"},
		},
		Verdict: "true_positive", Confidence: 0.93, Priority: "High", Analyzer: "openai:gpt-4o-mini",
		Summary:         "Word macro dropped an encoded PowerShell stager that beacons to a known C2.",
		Evidence:        []string{"macro spawned powershell -enc", "C2 domain on threat intel"},
		MitreTechniques: []string{"T1059.001", "T1566"},
		Plan: []handoff.PlannedAction{
			{Action: "kill", Disposition: "auto", Reason: "low impact, confident"},
			{Action: "isolate", Disposition: "approve", Reason: "network isolation of a laptop", Approvers: []string{"alice@example.com"}},
		},
		Decisions: []handoff.Decision{},
		Actions: []handoff.Action{
			{Action: "kill", Disposition: "auto", State: "success", Detail: "SentinelOne reported kill success", VerifiedAt: "2025-03-01T12:00:31Z"},
		},
		Links: handoff.Links{WebUI: "http://127.0.0.1:8233/namespaces/default/workflows/s1-threat%2F1910000000000000002", Console: "https://usea1.sentinelone.net/incidents/threats/1910000000000000002/overview"},
	}
}

// outcomeCase is the same case at its outcome, every optional field set.
func outcomeCase() handoff.Case {
	c := triageCase()
	c.Stage = handoff.StageOutcome
	c.Outcome = "mitigated"
	c.TicketID = "TICKET-1"
	c.Decisions = []handoff.Decision{{
		Approved: true, Approver: "alice@example.com", At: "2025-03-01T12:04:00Z", Comment: "confirmed C2 beacon", Actions: []string{"isolate"},
	}}
	c.Actions = append(c.Actions,
		handoff.Action{Action: "isolate", Disposition: "approve", State: "success", Detail: "agent disconnected", VerifiedAt: "2025-03-01T12:05:10Z"},
		handoff.Action{Action: "collect_forensics", Disposition: "auto", State: "success", Detail: "triage bundle", VerifiedAt: "2025-03-01T12:06:00Z",
			Forensics: &handoff.Forensics{TaskID: "1600000000000000001", Status: "completed", FileName: "triage.zip", DownloadURL: "https://usea1.sentinelone.net/web/api/v2.1/remote-scripts/fetch-file/1"}},
	)
	return c
}

func marshal(t *testing.T, c handoff.Case) []byte {
	t.Helper()
	b, err := json.Marshal(c)
	require.NoError(t, err)
	return b
}

func TestFullCasesValidate(t *testing.T) {
	for name, c := range map[string]handoff.Case{"triage": triageCase(), "outcome": outcomeCase()} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, c.Validate())
			require.NoError(t, handofftest.Validate(marshal(t, c)))
		})
	}
}

// TestFixtureSetsEveryField keeps the next test honest: the outcome fixture sets every
// field of every struct (a field added to Case but not to the fixture fails here), so
// validating it with additionalProperties false at every level proves that every JSON
// field the Go types can emit is in the schema.
func TestFixtureSetsEveryField(t *testing.T) {
	set := map[string]bool{} // paths the fixture sets somewhere (any element of a list)
	var values func(path string, v reflect.Value)
	values = func(path string, v reflect.Value) {
		if v.IsZero() {
			return
		}
		set[path] = true
		switch v.Kind() {
		case reflect.Pointer:
			values(path, v.Elem())
		case reflect.Struct:
			for i := range v.NumField() {
				values(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				values(path+"[]", v.Index(i))
			}
		}
	}
	values("", reflect.ValueOf(outcomeCase()))
	var fields func(path string, typ reflect.Type)
	fields = func(path string, typ reflect.Type) {
		assert.True(t, set[path], "the fixture never sets %s", path)
		switch typ.Kind() {
		case reflect.Pointer:
			fields(path, typ.Elem())
		case reflect.Struct:
			for i := range typ.NumField() {
				fields(path+"."+typ.Field(i).Name, typ.Field(i).Type)
			}
		case reflect.Slice:
			fields(path+"[]", typ.Elem())
		}
	}
	fields("", reflect.TypeFor[handoff.Case]())
}

// TestSchemaMatchesGoTypes walks the Go types and the schema together: the same
// properties at every object level, required exactly where the field is always emitted
// (no omitempty), additionalProperties false everywhere.
func TestSchemaMatchesGoTypes(t *testing.T) {
	var schema map[string]any
	require.NoError(t, json.Unmarshal(handoff.Schema, &schema))
	assert.Equal(t, handoff.SchemaID, schema["$id"])
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", schema["$schema"])
	defs := schema["$defs"].(map[string]any)
	resolve := func(n map[string]any) map[string]any {
		for {
			ref, ok := n["$ref"].(string)
			if !ok {
				return n
			}
			n = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
	}
	var walk func(path string, typ reflect.Type, node map[string]any)
	walk = func(path string, typ reflect.Type, node map[string]any) {
		node = resolve(node)
		switch typ.Kind() {
		case reflect.Pointer:
			walk(path, typ.Elem(), node)
		case reflect.Slice:
			assert.Equal(t, "array", node["type"], path)
			walk(path+"[]", typ.Elem(), node["items"].(map[string]any))
		case reflect.Struct:
			assert.Equal(t, "object", node["type"], path)
			assert.Equal(t, false, node["additionalProperties"], "%s: additionalProperties must be false", path)
			props, _ := node["properties"].(map[string]any)
			var fields, always []string
			for i := range typ.NumField() {
				f := typ.Field(i)
				name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
				require.NotEmpty(t, name, "%s.%s has no json name", path, f.Name)
				fields = append(fields, name)
				if !strings.Contains(opts, "omitempty") {
					always = append(always, name)
				}
				if p, ok := props[name].(map[string]any); assert.True(t, ok, "%s.%s is not in the schema", path, name) {
					walk(path+"."+name, f.Type, p)
				}
			}
			var inSchema, required []string
			for k := range props {
				inSchema = append(inSchema, k)
			}
			req, _ := node["required"].([]any)
			for _, r := range req {
				required = append(required, r.(string))
			}
			assert.ElementsMatch(t, fields, inSchema, "%s: schema properties vs Go fields", path)
			assert.ElementsMatch(t, always, required, "%s: required vs fields always emitted", path)
		case reflect.String:
			if _, enum := node["enum"]; !enum && node["const"] == nil {
				assert.Equal(t, "string", node["type"], path)
			}
		case reflect.Float64:
			assert.Equal(t, "number", node["type"], path)
		case reflect.Bool:
			assert.Equal(t, "boolean", node["type"], path)
		default:
			t.Errorf("%s: unexpected kind %s", path, typ.Kind())
		}
	}
	walk("", reflect.TypeFor[handoff.Case](), schema)

	// The enums the schema pins are the Go package's.
	props := schema["properties"].(map[string]any)
	enum := func(n any) []string {
		var out []string
		for _, v := range resolve(n.(map[string]any))["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	var stages []string
	for _, s := range handoff.Stages {
		stages = append(stages, string(s))
	}
	assert.Equal(t, stages, enum(props["stage"]))
	assert.Equal(t, handoff.Verdicts, enum(props["verdict"]))
	assert.Equal(t, handoff.Priorities, enum(props["priority"]))
	assert.Equal(t, handoff.Dispositions, enum(defs["disposition"]))
	assert.Equal(t, handoff.SchemaVersion, props["schemaVersion"].(map[string]any)["const"])
}

func TestNilListsAreEmptyArrays(t *testing.T) {
	c := triageCase()
	c.Evidence, c.MitreTechniques, c.Plan, c.Decisions, c.Actions = nil, nil, nil, nil, nil
	b := marshal(t, c)
	for _, k := range []string{"evidence", "mitreTechniques", "plan", "decisions", "actions"} {
		assert.Contains(t, string(b), `"`+k+`":[]`)
	}
	require.NoError(t, handofftest.Validate(b))
	var back handoff.Case
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, c.CaseID, back.CaseID)
}

// TestSchemaRefuses: documents missing a required field, with a bad enum or value, or
// with an unknown property fail validation.
func TestSchemaRefuses(t *testing.T) {
	type doc = map[string]any
	load := func(c handoff.Case) doc {
		var d doc
		require.NoError(t, json.Unmarshal(marshal(t, c), &d))
		return d
	}
	obj := func(d doc, path ...string) doc {
		for _, p := range path {
			switch v := d[p].(type) {
			case []any:
				d = v[0].(doc)
			default:
				d = v.(doc)
			}
		}
		return d
	}
	cases := map[string]func(d doc){
		"version 2":                 func(d doc) { d["schemaVersion"] = "2" },
		"stage closed":              func(d doc) { d["stage"] = "closed" },
		"verdict malicious":         func(d doc) { d["verdict"] = "malicious" },
		"priority urgent":           func(d doc) { d["priority"] = "urgent" },
		"plan disposition maybe":    func(d doc) { obj(d, "plan")["disposition"] = "maybe" },
		"action disposition manual": func(d doc) { obj(d, "actions")["disposition"] = "manual" },
		"confidence 1.5":            func(d doc) { d["confidence"] = 1.5 },
		"confidence as string":      func(d doc) { d["confidence"] = "0.9" },
		"createdAt yesterday":       func(d doc) { obj(d, "threat")["createdAt"] = "yesterday" },
		"decision at not a time":    func(d doc) { obj(d, "decisions")["at"] = "12:04" },
		"MITRE name":                func(d doc) { d["mitreTechniques"] = []any{"PowerShell"} },
		"sha1 short":                func(d doc) { obj(d, "threat")["sha1"] = "abc" },
		"ticketId control":          func(d doc) { d["ticketId"] = "TICKET-\u00071" },
		"ticketId too long":         func(d doc) { d["ticketId"] = strings.Repeat("x", 129) },
		"ticketId spaces":           func(d doc) { d["ticketId"] = " TICKET-1" },
		"no outcome at outcome":     func(d doc) { delete(d, "outcome") },
		"extra top-level field":     func(d doc) { d["sentAt"] = "2025-03-01T12:00:00Z" },
		"extra threat field":        func(d doc) { obj(d, "threat")["md5"] = "x" },
		"extra forensics field":     func(d doc) { obj(d, "actions", "forensics")["password"] = "x" },
		"evidence null":             func(d doc) { d["evidence"] = nil },
		"workload without pod":      func(d doc) { delete(obj(d, "host", "workload"), "pod") },
		"decision without approver": func(d doc) { delete(obj(d, "decisions"), "approver") },
		"forensics without task":    func(d doc) { delete(obj(d, "actions")["forensics"].(doc), "taskId") },
	}
	var schema map[string]any
	require.NoError(t, json.Unmarshal(handoff.Schema, &schema))
	for _, r := range schema["required"].([]any) {
		cases["missing "+r.(string)] = func(d doc) { delete(d, r.(string)) }
	}
	for _, r := range []string{"id", "name", "sha1", "createdAt"} {
		cases["missing threat."+r] = func(d doc) { delete(obj(d, "threat"), r) }
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			d := load(outcomeCase())
			if strings.Contains(name, "forensics") {
				d["actions"] = d["actions"].([]any)[2:]
			}
			mutate(d)
			b, err := json.Marshal(d)
			require.NoError(t, err)
			assert.Error(t, handofftest.Validate(b))
		})
	}
	t.Run("outcome at triage", func(t *testing.T) {
		d := load(triageCase())
		d["outcome"] = "mitigated"
		b, _ := json.Marshal(d)
		assert.Error(t, handofftest.Validate(b))
	})
	t.Run("not JSON", func(t *testing.T) {
		assert.Error(t, handofftest.Validate([]byte(`{"schemaVersion":"1"`)))
		assert.Error(t, handofftest.Validate(append(marshal(t, triageCase()), []byte(" {}")...)))
	})
}

// TestValidateAgreesWithSchema: Case.Validate refuses what the schema refuses, for what
// a Go value can get wrong.
func TestValidateAgreesWithSchema(t *testing.T) {
	for name, mutate := range map[string]func(c *handoff.Case){
		"version":           func(c *handoff.Case) { c.SchemaVersion = "2" },
		"stage":             func(c *handoff.Case) { c.Stage = "closed" },
		"verdict":           func(c *handoff.Case) { c.Verdict = "malicious" },
		"priority":          func(c *handoff.Case) { c.Priority = "P1" },
		"confidence":        func(c *handoff.Case) { c.Confidence = -0.1 },
		"no case ID":        func(c *handoff.Case) { c.CaseID = "" },
		"no analyzer":       func(c *handoff.Case) { c.Analyzer = "" },
		"plan disposition":  func(c *handoff.Case) { c.Plan[0].Disposition = "maybe" },
		"action state":      func(c *handoff.Case) { c.Actions[0].State = "" },
		"decision time":     func(c *handoff.Case) { c.Decisions[0].At = "noon" },
		"verifiedAt":        func(c *handoff.Case) { c.Actions[0].VerifiedAt = "2025-03-01" },
		"createdAt":         func(c *handoff.Case) { c.Threat.CreatedAt = "" },
		"MITRE":             func(c *handoff.Case) { c.MitreTechniques = []string{"T59"} },
		"no outcome":        func(c *handoff.Case) { c.Outcome = "" },
		"outcome at triage": func(c *handoff.Case) { c.Stage = handoff.StageTriage },
		"ticket control":    func(c *handoff.Case) { c.TicketID = "A\nB" },
		"ticket too long":   func(c *handoff.Case) { c.TicketID = strings.Repeat("é", 129) },
	} {
		t.Run(name, func(t *testing.T) {
			c := outcomeCase()
			mutate(&c)
			assert.Error(t, c.Validate(), "Case.Validate")
			assert.Error(t, handofftest.Validate(marshal(t, c)), "schema")
		})
	}
	// At the limit both accept.
	c := outcomeCase()
	c.TicketID = strings.Repeat("é", 128)
	assert.NoError(t, c.Validate())
	assert.NoError(t, handofftest.Validate(marshal(t, c)))
}

func TestCheckTicketID(t *testing.T) {
	for id, ok := range map[string]bool{
		"TICKET-1": true, "INC0012345": true, "SOC-42 (prod)": true, strings.Repeat("x", 128): true,
		"": false, strings.Repeat("x", 129): false, "a\x00b": false, "a\tb": false, "a\u2028b": false, "\xff": false, " A": false, "A ": false,
	} {
		assert.Equal(t, ok, handoff.CheckTicketID(id) == "", "%q: %s", id, handoff.CheckTicketID(id))
	}
	assert.True(t, slices.Contains(handoff.Stages, handoff.StageOutcome))
}
