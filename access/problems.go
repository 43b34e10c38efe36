package access

import (
	"strings"

	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// Problem is one thing a view could not read or had to assume, why, and
// what fixes it: what the explorer's Problems panel (!) lists.
type Problem struct {
	// Kind is gap (something not read: answers that need it are
	// incomplete) or warning (read, with a caveat).
	Kind  string `json:"kind"`
	What  string `json:"what"`
	Cause string `json:"cause,omitempty"`
	// Fix is the flag, permission or input that makes it go away.
	Fix string `json:"fix,omitempty"`
}

// Problem kinds.
const (
	ProblemGap     = "gap"
	ProblemWarning = "warning"
)

// Problems are the view's gaps (Kubernetes', then Azure's) and the
// warnings of setting up and loading, each with its cause and its fix.
func (s *Session) Problems() []Problem {
	var out []Problem
	for _, g := range s.Index.Gaps() {
		out = append(out, gapProblem(g, s.App.Live()))
	}
	if s.Index.AzureRBACPending() {
		out = append(out, Problem{Kind: ProblemGap, What: "Azure RBAC for Kubernetes authorization decides after RBAC, and its role assignments were not read",
			Cause: "the authorizer chain answers as AKS's guard does (probed with two SubjectAccessReviews)",
			Fix:   "--azure-rbac (signed in to Azure; Reader on the cluster), or --azure-rbac-from the JSON of az role assignment list and az role definition list"})
	}
	if d := s.Index.Snapshot().Azure; d != nil {
		azureFix := "the Azure identity needs Reader (role assignments, role and deny definitions) at the cluster and its parents: docs/permissions.md"
		if d.ClusterGap != "" {
			out = append(out, Problem{Kind: ProblemGap, What: "the managed cluster's settings (local accounts, Entra, run command)", Cause: d.ClusterGap,
				Fix: "Reader on the managed cluster, or -f the JSON of az aks show"})
		}
		for _, g := range d.Gaps {
			out = append(out, Problem{Kind: ProblemGap, What: "Azure data", Cause: g, Fix: azureFix})
		}
		for _, g := range d.EligibleGaps {
			out = append(out, Problem{Kind: ProblemWarning, What: "eligible Azure role assignments (PIM): who may activate a role is not shown", Cause: g,
				Fix: "read access to roleEligibilityScheduleInstances at the cluster's scopes (Reader does)"})
		}
	}
	for _, w := range s.Notes() {
		if w.Code == rbac.WarnGap {
			continue // listed above, with their fixes
		}
		out = append(out, Problem{Kind: ProblemWarning, What: w.Message, Fix: warningFixes[w.Code]})
	}
	return out
}

// gapProblem says what fixes one unread collection or object.
func gapProblem(g rbac.Gap, live bool) Problem {
	p := Problem{Kind: ProblemGap, What: strings.SplitN(g.String(), ": ", 2)[0], Cause: g.Reason}
	where := "cluster-wide"
	if g.Namespace != "" {
		where = "in namespace " + g.Namespace
	}
	reason := strings.ToLower(g.Reason)
	switch {
	case strings.Contains(reason, "forbidden"):
		p.Fix = "the identity needs list on " + g.Resource + " " + where + " (docs/permissions.md; deploy/reader.yaml grants what the tool reads), or audit a snapshot saved by one that can (kubectl access snapshot, then -f)"
	case strings.Contains(reason, "deadline") || strings.Contains(reason, "timeout") || strings.Contains(reason, "timed out"):
		p.Fix = "a longer --timeout (the cluster answered too slowly)"
	case !live:
		p.Fix = "add it to the input (-f), or read the cluster"
	}
	return p
}

// warningFixes are what resolves the warnings whose message does not say
// it already. (gosec's G101 reads "credential" in a key as a secret: these
// are advice, not credentials.)
var warningFixes = map[rbac.WarningCode]string{ //nolint:gosec // G101: advice text, no secret
	WarnCredentialUnchecked: "a kubeconfig the tool can read (--kubeconfig), for the credentials rules",
	source.WarnDefaults:     "add the default roles to the input (kubectl get clusterroles -o yaml), or read the cluster",
	WarnMembershipsUnknown:  "sign in with Entra ID for Microsoft Graph, or --directory FILE (kubectl access snapshot --entra)",
	WarnPeople:              "GroupMember.Read.All and User.Read.All for the signed-in identity, or --directory FILE",
}
