package access

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// eligibleNow is the time eligibility is judged at (a variable for tests).
var eligibleNow = time.Now

// sortEligible orders eligible grants by principal, PIM for Groups before
// Azure's for one principal.
func sortEligible(es []EligibleGrant) {
	slices.SortStableFunc(es, func(a, b EligibleGrant) int {
		return cmp.Compare(strings.ToLower(a.Principal.Label()), strings.ToLower(b.Principal.Label()))
	})
}

// azureEligible adds to a who-can answer the eligible Azure role
// assignments (PIM for Azure resources) that would allow the request once
// activated, and the eligible doors through Azure's control plane. What
// of them could not be read is a warning: the active answer stays whole.
func (s *Session) azureEligible(ans *WhoCanAnswer) {
	at := ans.Query.Attributes
	es, missing := s.Index.AzureEligible(at, ans.Query.AllNamespaces, eligibleNow())
	es = append(es, s.Index.EligibleAzureDoors(&at, nil, eligibleNow())...)
	for _, e := range es {
		ans.Eligible = append(ans.Eligible, eligibleGrant(e))
	}
	ans.Warnings = append(ans.Warnings, s.azureEligibleWarnings(missing)...)
}

// azureEligibleOf are the eligible Azure role assignments of the subject
// (its object id, its groups) that would allow the request once activated
// (can), or with at nil that grant anything in the cluster (what-can); the
// eligible doors likewise.
func (s *Session) azureEligibleOf(subject rbac.Subject, at *rbac.Attributes) ([]EligibleGrant, []rbac.Warning) {
	id := subject.Identity()
	es, missing := s.Index.AzureEligibleOf(id, at, eligibleNow())
	es = append(es, s.Index.EligibleAzureDoors(at, &id, eligibleNow())...)
	var out []EligibleGrant
	for _, e := range es {
		out = append(out, eligibleGrant(e))
	}
	var ws []rbac.Warning
	if d := s.Index.Snapshot().Azure; d != nil && (len(d.Eligible) > 0 || len(d.EligibleGaps) > 0) {
		ws = s.azureEligibleWarnings(missing)
	}
	return out, ws
}

// azureEligibleWarnings say what the eligible Azure assignments listed
// may miss: lists ARM refused, roles not read.
func (s *Session) azureEligibleWarnings(missing []string) []rbac.Warning {
	d := s.Index.Snapshot().Azure
	if d == nil {
		return nil
	}
	var ws []rbac.Warning
	for _, g := range d.EligibleGaps {
		ws = append(ws, rbac.Warnf(WarnEligible, "eligible Azure role assignments (PIM for Azure resources) could not all be read: %s; the eligible list may miss some (active access is not affected)", g))
	}
	for _, m := range missing {
		ws = append(ws, rbac.Warnf(WarnEligible, "an eligible Azure role assignment names role definition %s, which was not read: what activating it would grant is unknown", m))
	}
	return ws
}

// eligibleGrant is an eligible Azure assignment as answers list it.
func eligibleGrant(e rbac.EligibleAzure) EligibleGrant {
	az := e.Azure
	p := identity.Principal{ID: az.PrincipalID, Kind: identity.KindUser}
	switch {
	case strings.EqualFold(az.PrincipalType, rbac.AzureGroup):
		p.Kind, p.DisplayName = identity.KindGroup, az.PrincipalName
	case strings.EqualFold(az.PrincipalType, rbac.AzureServicePrincipal):
		p.Kind, p.DisplayName = identity.KindServicePrincipal, az.PrincipalName
	case strings.Contains(az.PrincipalName, "@"):
		p.UserPrincipalName = az.PrincipalName
	default:
		p.DisplayName = az.PrincipalName
	}
	return EligibleGrant{Eligibility: identity.Eligibility{Principal: p, Start: e.Start, End: e.End}, Paths: e.Paths, Azure: &az}
}

// AzureLine says what an eligible Azure assignment lets its principal
// activate, for people: `role "Azure Kubernetes Service RBAC Writer" at
// namespace web of cluster aks-prod`, and for a door what it opens.
func (e *EligibleGrant) AzureLine() string {
	az := e.Azure
	if az == nil {
		return ""
	}
	out := fmt.Sprintf("role %q at %s", az.RoleName, rbac.AzureScopeName(az.Scope))
	if az.Door != "" {
		out += fmt.Sprintf(" (%s: %s)", az.Door, az.What)
	}
	if az.Conditional {
		out += " (with a condition, not evaluated)"
	}
	return out
}
