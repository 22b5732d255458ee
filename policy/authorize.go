package policy

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// RolesOf lists, sorted, the roles whose members include approver (compared
// case-insensitively, surrounding blanks ignored).
func (p *Policy) RolesOf(approver string) []string {
	approver = strings.TrimSpace(approver)
	var roles []string
	for role, members := range p.Roles {
		if slices.ContainsFunc(members, func(m string) bool { return strings.EqualFold(strings.TrimSpace(m), approver) }) {
			roles = append(roles, role)
		}
	}
	sort.Strings(roles)
	return roles
}

// AuthorizeRoles checks that approver is in one of roles (any role of the policy when
// roles is empty, anyone in a policy without roles); what names the decision.
func (p *Policy) AuthorizeRoles(approver string, roles []string, what string) error {
	if p == nil || len(p.Roles) == 0 {
		return nil
	}
	mine := p.RolesOf(approver)
	if len(mine) == 0 {
		return fmt.Errorf("approver %q is not in any role of the policy %s", approver, p.VersionString())
	}
	if len(roles) == 0 || slices.ContainsFunc(mine, func(r string) bool { return slices.Contains(roles, r) }) {
		return nil
	}
	return fmt.Errorf("approver %q (role %s) may not settle %s: only role %s may", approver, strings.Join(mine, ", "), what, strings.Join(roles, " or "))
}

// Authorize checks that approver may approve every step of steps that needs approval:
// the approver must be in a role listed by each such step (so when the policy says only
// senior may approve a server isolation, an analyst's approval is refused). Steps that do
// not need approval are ignored; a step without Approvers accepts any role.
//
// A policy without any roles — the builtin Default — accepts any approver, as s1copilot
// did before policies had roles. Otherwise an approver in no role is refused outright.
func (p *Policy) Authorize(approver string, steps []Step) error {
	if p == nil {
		return errors.New("no policy is loaded: nobody may approve")
	}
	if strings.TrimSpace(approver) == "" {
		return errors.New("the approver is empty: say who approves")
	}
	if len(p.Roles) == 0 {
		return nil
	}
	mine := p.RolesOf(approver)
	if len(mine) == 0 {
		return fmt.Errorf("approver %q is not in any role of the policy %s", approver, p.VersionString())
	}
	var errs []error
	for _, st := range steps {
		if st.Disposition != Approve || len(st.Approvers) == 0 {
			continue
		}
		if slices.ContainsFunc(mine, func(r string) bool { return slices.Contains(st.Approvers, r) }) {
			continue
		}
		by := ""
		if st.Rule != "" && st.Rule != "default" {
			by = fmt.Sprintf(" (decided by %q)", st.Rule)
		}
		errs = append(errs, fmt.Errorf("approver %q (role %s) may not approve %s%s: only role %s may",
			approver, strings.Join(mine, ", "), st.Action, by, strings.Join(st.Approvers, " or ")))
	}
	return errors.Join(errs...)
}
