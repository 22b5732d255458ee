package policy

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	inv "github.com/s1copilot/s1copilot/investigation"
)

func problems(t *testing.T, err error) []string {
	t.Helper()
	var pe *ParseError
	require.True(t, errors.As(err, &pe), "want a *ParseError, got %v", err)
	out := make([]string, len(pe.Problems))
	for i, p := range pe.Problems {
		out[i] = p.String()
	}
	return out
}

// Every mistake of testdata/bad.yaml is reported at once, in file order, with
// source:line:col, the field path and what is allowed.
func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	data, err := os.ReadFile("testdata/bad.yaml")
	require.NoError(t, err)
	p, err := Parse(data, "policy.yaml")
	assert.Nil(t, p, "never a half-parsed policy")
	assert.Equal(t, []string{
		`policy.yaml:2:7: mode: unknown mode "yolo" (one of: off, recommend, approve, auto)`,
		`policy.yaml:3:16: minConfidence: must be a number from 0 to 1, got "1.5"`,
		`policy.yaml:5:12: approvals.timeout: invalid duration "1d" (use h, m and s, e.g. 24h, 90m or 1h30m)`,
		`policy.yaml:6:18: approvals.reminderAfter: reminderAfter (8h) must be shorter than escalateAfter (2h)`,
		`policy.yaml:8:16: approvals.escalateTo[0]: unknown role "seniors" (defined roles: analyst)`,
		`policy.yaml:11:11: roles.senior: role "senior" has no members`,
		`policy.yaml:13:22: actions.kill.approver: unknown field (allowed here: mode, approvers, reason)`,
		`policy.yaml:14:3: actions.nuke: unknown action "nuke" (one of: kill, quarantine, remediate, rollback, isolate, collect_forensics)`,
		`policy.yaml:21:22: rules[1].when.machineTypes[0]: unknown machine type "srv" (one of: desktop, laptop, server, kubernetes node, kubernetes pod, ecs task, storage, unknown)`,
		`policy.yaml:22:18: rules[1].when.verdicts[0]: unknown verdict "malicious" (one of: true_positive, suspicious, false_positive, undetermined)`,
		`policy.yaml:23:14: rules[1].when.tags[0]: tag "role" must be key=value, e.g. role=dc`,
		`policy.yaml:24:22: rules[1].when.minConfidence: must be a number from 0 to 1, got "high"`,
		`policy.yaml:26:16: rules[1].approvers: must be a list, e.g. [a, b]`,
		`policy.yaml:27:5: rules[2].mode: missing: this field is required`,
		`policy.yaml:27:11: rules[2].name: name "Servers" is already used by rules[0]; names must be unique`,
		`policy.yaml:28:21: rules[2].actions[1]: unknown action "format" (one of: kill, quarantine, remediate, rollback, isolate, collect_forensics)`,
		`policy.yaml:30:11: rules[3].mode: unknown mode "always" (one of: off, recommend, approve, auto)`,
		`policy.yaml:33:37: protected[0].when.minConfidence: unknown field (allowed here: verdicts, s1Confidence, machineTypes, osTypes, siteIds, groupNames, tags, computerNames, clusters, namespaces, images)`,
		`policy.yaml:34:11: protected[0].mode: mode "auto" is not allowed for a protected asset (one of: approve, off)`,
		`policy.yaml:36:11: protected[1].when: a protected asset needs at least one condition (e.g. computerNames or tags); it would otherwise protect every host`,
		`policy.yaml:39:22: caps.isolationsPerHour: must be a whole number, 0 or more (0 means no cap), got "-1"`,
		`policy.yaml:40:21: caps.isolationsPerDay: must be a whole number, 0 or more (0 means no cap), got "2.5"`,
		`policy.yaml:41:1: mdoe: unknown field (allowed here: version, mode, minConfidence, approvals, roles, actions, rules, protected, protectedFiles, caps, disagreements, identity, killSwitchRoles, forensics)`,
	}, problems(t, err))
	assert.True(t, strings.HasPrefix(err.Error(), "invalid policy policy.yaml: 23 problems:\npolicy.yaml:2:7: mode:"), err.Error())
}

// A minimal valid head the small cases below build on.
const head = "version: v1\nmode: approve\nminConfidence: 0.8\nroles: {analyst: [a@x]}\n"

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"empty file", "", []string{`p.yaml:1:1: the policy is empty (see policy/examples/policy.yaml)`}},
		{"YAML syntax", "version: v1\nmode: approve\n  minConfidence: 0.8\n", []string{`p.yaml:3: YAML syntax: mapping values are not allowed in this context`}},
		{"tab indentation", "version: v1\n\tmode: approve\n", []string{`p.yaml:2: YAML syntax: found a tab character that violates indentation`}},
		{"not a mapping", "- a\n- b\n", []string{
			`p.yaml:1:1: must be a mapping with the keys version, mode, minConfidence, approvals, roles, actions, rules, protected, protectedFiles, caps, disagreements, identity, killSwitchRoles, forensics`}},
		{"required fields", "roles: {analyst: [a@x]}\n", []string{
			`p.yaml:1:1: version: missing: this field is required`,
			`p.yaml:1:1: mode: missing: this field is required`,
			`p.yaml:1:1: minConfidence: missing: this field is required`}},
		{"duplicate key", head + "mode: auto\n", []string{`p.yaml:5:1: mode: defined twice (first at line 2)`}},
		{"no roles but approvals possible", "version: v1\nmode: approve\nminConfidence: 0.8\n", []string{
			`p.yaml:2:7: roles: at least one role is needed: mode can make s1copilot wait for an approval`}},
		{"empty roles", "version: v1\nmode: auto\nminConfidence: 0.8\nroles: {}\n", []string{
			`p.yaml:4:1: roles: at least one role is needed: mode can make s1copilot wait for an approval`}},
		{"escalation after the timeout", head + "approvals: {timeout: 8h, reminderAfter: 1h, escalateAfter: 9h, escalateTo: [analyst]}\n", []string{
			`p.yaml:5:60: approvals.escalateAfter: escalateAfter (9h) must be shorter than timeout (8h)`}},
		{"reminder after the timeout", head + "approvals: {timeout: 1h, reminderAfter: 2h}\n", []string{
			`p.yaml:5:41: approvals.reminderAfter: reminderAfter (2h) must be shorter than timeout (1h)`}},
		{"zero duration", head + "approvals: {timeout: 0s}\n", []string{`p.yaml:5:22: approvals.timeout: must be positive, got 0s`}},
		{"escalation without roles", head + "approvals: {escalateAfter: 2h}\n", []string{
			`p.yaml:5:28: approvals.escalateAfter: escalateAfter needs escalateTo: the roles to escalate to`}},
		{"unknown role in a protected entry", head + "protected:\n  - name: dc\n    when: {tags: [role=dc]}\n    mode: off\n    approvers: [admins]\n", []string{
			`p.yaml:9:17: protected[0].approvers[0]: unknown role "admins" (defined roles: analyst)`}},
		{"empty approver", head + "actions: {isolate: {approvers: [\"\"]}}\n", []string{
			`p.yaml:5:33: actions.isolate.approvers[0]: must not be empty`}},
		{"reserved rule name", head + "rules: [{name: default, mode: auto}]\n", []string{
			`p.yaml:5:16: rules[0].name: name "default" is already used by s1copilot's own name for the global mode; names must be unique`}},
		{"rule is not a mapping", head + "rules: [servers]\n", []string{
			`p.yaml:5:9: rules[0]: must be a mapping with the keys name, when, actions, mode, approvers, reason`}},
		{"rules is not a list", head + "rules: {name: x}\n", []string{
			`p.yaml:5:8: rules: must be a list of entries, each starting with "- name: …"`}},
		{"bad OS and S1 confidence", head + "rules: [{name: r, mode: auto, when: {osTypes: [win], s1Confidence: [high]}}]\n", []string{
			`p.yaml:5:48: rules[0].when.osTypes[0]: unknown OS type "win" (one of: windows, windows_legacy, macos, linux)`,
			`p.yaml:5:69: rules[0].when.s1Confidence[0]: unknown SentinelOne confidence level "high" (one of: malicious, suspicious, n/a)`}},
		{"role members must be a list", head + "roles: {senior: carol@x}\n", []string{
			`p.yaml:5:1: roles: defined twice (first at line 4)`}},
		{"role members must be a list", "version: v1\nmode: off\nminConfidence: 0\nroles: {senior: carol@x}\n", []string{
			`p.yaml:4:17: roles.senior: must be a list, e.g. [a, b]`,
			`p.yaml:4:17: roles.senior: role "senior" has no members`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.yaml), "p.yaml")
			assert.Nil(t, p)
			assert.Equal(t, tc.want, problems(t, err))
		})
	}
}

func TestParseAcceptsMinimalAndCaseInsensitiveValues(t *testing.T) {
	// No roles are needed when nothing can wait for an approval.
	p, err := Parse([]byte("version: 1\nmode: recommend\nminConfidence: 1\n"), "p.yaml")
	require.NoError(t, err)
	assert.Equal(t, "1", p.Version)
	assert.Nil(t, p.Roles)
	assert.Nil(t, p.Rules)

	p, err = Parse([]byte(head+"rules:\n  - name: r\n    mode: Auto\n    actions: [Kill]\n    when: {machineTypes: [Kubernetes Node], verdicts: [TRUE_POSITIVE]}\n"), "p.yaml")
	require.NoError(t, err)
	assert.Equal(t, ModeAuto, p.Rules[0].Mode)
	assert.Equal(t, []inv.Action{inv.ActionKill}, p.Rules[0].Actions)
	assert.Equal(t, []string{"kubernetes node"}, p.Rules[0].When.MachineTypes)
	assert.Equal(t, []inv.Verdict{inv.VerdictTruePositive}, p.Rules[0].When.Verdicts)
}

func TestParseFollowsAnchors(t *testing.T) {
	p, err := Parse([]byte(head+"x-servers: &servers [server, storage]\n"), "p.yaml")
	assert.Nil(t, p)
	assert.Equal(t, []string{`p.yaml:5:1: x-servers: unknown field (allowed here: version, mode, minConfidence, approvals, roles, actions, rules, protected, protectedFiles, caps, disagreements, identity, killSwitchRoles, forensics)`}, problems(t, err))

	p, err = Parse([]byte(head+"rules:\n  - name: a\n    when: &srv {machineTypes: [server, storage]}\n    mode: approve\n  - name: b\n    when: *srv\n    mode: off\n"), "p.yaml")
	require.NoError(t, err)
	assert.Equal(t, p.Rules[0].When, p.Rules[1].When)
}

func TestLoadFileErrors(t *testing.T) {
	_, err := LoadFile("testdata/does-not-exist.yaml")
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = LoadFile("testdata/bad.yaml")
	assert.ErrorContains(t, err, "testdata/bad.yaml:21:22: rules[1].when.machineTypes[0]: unknown machine type \"srv\"")
}

func TestVersionStringFollowsContent(t *testing.T) {
	a, err := Parse(ExampleYAML, "a.yaml")
	require.NoError(t, err)
	assert.Regexp(t, `^2026-06-01\.1 \(sha256:[0-9a-f]{12}\)$`, a.VersionString())
	b, err := Parse(ExampleYAML, "b.yaml")
	require.NoError(t, err)
	assert.Equal(t, a.VersionString(), b.VersionString(), "the source's name does not matter")
	// Same version string, different content (even a comment): a different fingerprint.
	c, err := Parse(append([]byte("# reviewed\n"), ExampleYAML...), "a.yaml")
	require.NoError(t, err)
	assert.Equal(t, a.Version, c.Version)
	assert.NotEqual(t, a.VersionString(), c.VersionString())
	assert.Len(t, a.Digest, 64)
}

// Who settles a model's disagreement, and whether automatic actions wait for it too.
func TestParseDisagreements(t *testing.T) {
	p, err := Parse([]byte(head+"disagreements: {approvers: [analyst], holdAutomatic: true}\n"), "p.yaml")
	require.NoError(t, err)
	assert.Equal(t, Disagreements{Approvers: []string{"analyst"}, HoldAutomatic: true}, p.Disagreements)

	p, err = Parse([]byte(head+"disagreements: {approvers: [seniors], holdAutomatic: maybe, decide: model}\n"), "p.yaml")
	assert.Nil(t, p)
	assert.Equal(t, []string{
		`p.yaml:5:29: disagreements.approvers[0]: unknown role "seniors" (defined roles: analyst)`,
		`p.yaml:5:54: disagreements.holdAutomatic: must be true or false, got "maybe"`,
		`p.yaml:5:61: disagreements.decide: unknown field (allowed here: approvers, holdAutomatic)`,
	}, problems(t, err))
}

func TestParseIdentity(t *testing.T) {
	key := "ed25519:" + strings.Repeat("A", 43) + "="
	p, err := Parse([]byte(head+"killSwitchRoles: [analyst]\nidentity:\n  requireSigned: true\n  approverKeys:\n    A@X: "+key+
		"\n  slackBotKey: "+key+"\n  slackUsers:\n    U0ALICE: a@x\n"), "p.yaml")
	require.NoError(t, err)
	assert.Equal(t, Identity{RequireSigned: true, ApproverKeys: map[string]string{"A@X": key}, SlackBotKey: key,
		SlackUsers: map[string]string{"U0ALICE": "a@x"}}, p.Identity)
	assert.Equal(t, []string{"analyst"}, p.KillSwitchRoles)
	back, err := json.Marshal(p)
	require.NoError(t, err)
	var again Policy
	require.NoError(t, json.Unmarshal(back, &again))
	assert.Equal(t, p.Identity, again.Identity, "the identity travels through history")

	p, err = Parse([]byte(head+"killSwitchRoles: [ciso]\nidentity:\n  requireSigned: yes please\n  approverKeys:\n    mallory@example.com: "+key+
		"\n    alice@example.com: rsa:AAAA\n  slackBotKey: ed25519:short\n  slackUsers:\n    U0EVE: eve@example.com\n  trust: model\n"), "p.yaml")
	assert.Nil(t, p)
	probs := strings.Join(problems(t, err), "\n")
	for _, want := range []string{
		`identity.requireSigned: must be true or false`,
		`identity.approverKeys.alice@example.com: a public key is written ed25519:<base64>`,
		`identity.slackBotKey: the public key is not base64`,
		`identity.trust: unknown field`,
		`killSwitchRoles[0]: unknown role "ciso"`,
		`identity.approverKeys.mallory@example.com: "mallory@example.com" is in no role`,
		`identity.slackUsers.U0EVE: "eve@example.com" is in no role`,
	} {
		assert.Contains(t, probs, want)
	}
}
