package access

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// AzureReach is the way out to Azure of one subject through one step in
// the cluster: it runs a pod as a service account whose tokens a managed
// identity's federated credential accepts (or mints the account's token,
// or creates the missing account a credential names), and so acts in
// Azure as that identity. Reach is the step as the azure-identity audit
// and who-can act-as find it (audit.IdentityReaches: one computation for
// all three); Severity and Roles are what the identity holds, rated as the
// audit rates it.
type AzureReach struct {
	audit.IdentityReach `json:",inline"`
	Severity            audit.Severity `json:"severity"`
	Roles               []string       `json:"roles"`
	// Kubelet: the identity reached is the kubelet's (the nodes'), through
	// the instance metadata service (step pod-imds), counted when it holds
	// more than AcrPull, as kubelet-identity-reach counts it.
	Kubelet bool `json:"kubelet,omitempty"`
}

// azureReaches are every subject's steps out to Azure, computed once per
// session.
func (s *Session) azureReaches() []AzureReach {
	s.reachOnce.Do(func() {
		d := s.Index.Snapshot().Azure
		for _, r := range audit.IdentityReaches(s.Index) {
			sev, roles := audit.IdentityWorth(d, r.Workload.RoleAssignments)
			s.reaches = append(s.reaches, AzureReach{IdentityReach: r, Severity: sev, Roles: roles})
		}
		if beyond := audit.KubeletBeyondAcrPull(d); len(beyond) > 0 {
			sev, roles := audit.IdentityWorth(d, beyond)
			for _, r := range audit.KubeletReaches(s.Index) {
				s.reaches = append(s.reaches, AzureReach{IdentityReach: r, Severity: max(sev, audit.High), Roles: roles, Kubelet: true})
			}
		}
	})
	return s.reaches
}

// AzureReachOf is how the subject (its identity: a user with its groups,
// a group, a service account) acts in Azure as a managed identity by a
// step in the cluster, the most severe first; with namespace set, only
// steps allowed there or cluster-wide, as what-can -n lists rules.
func (s *Session) AzureReachOf(subject rbac.Subject, namespace string) []AzureReach {
	id := subject.Identity()
	var out []AzureReach
	for _, r := range s.azureReaches() {
		if namespace != "" && r.Namespace != "" && r.Namespace != namespace {
			continue
		}
		if r.Subject.Key() == subject.Key() || id.Includes(r.Subject) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b AzureReach) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Workload.ServiceAccount, b.Workload.ServiceAccount))
	})
	return out
}

// ReachStep says a step out to Azure in words, with where it is allowed:
// "create pods in namespace shop", "mint tokens for sa:shop:orders
// cluster-wide", "create sa:shop:ghost and a pod that runs as it".
func ReachStep(r *audit.IdentityReach) string {
	if r.Step == audit.StepAccountCreate {
		return r.StepText
	}
	if r.Namespace == "" {
		return r.StepText + " cluster-wide"
	}
	return r.StepText + " in namespace " + r.Namespace
}

// ReachWords says the step whole, with the account it acts through:
// "create pods in namespace shop that run as sa:shop:orders".
func ReachWords(r *audit.IdentityReach) string {
	if r.Step == audit.StepWorkloadCreate {
		return ReachStep(r) + " that run as " + r.Workload.ServiceAccount
	}
	return ReachStep(r)
}

// ReachIdentity names the identity a step reaches and what it holds:
// "managed identity id-orders (Contributor on subscription S, ...)".
func ReachIdentity(r *AzureReach) string {
	w := &r.Workload
	name := w.ClientID
	what := "identity"
	switch {
	case r.Kubelet:
		what, name = "the nodes'", "kubelet identity"
	case w.Identity != nil:
		name, what = cmp.Or(w.Identity.Name, w.Identity.ID), w.Identity.What()
	}
	holds := "no role assignment read"
	if len(r.Roles) > 0 {
		holds = strings.Join(r.Roles[:min(3, len(r.Roles))], ", ")
		if len(r.Roles) > 3 {
			holds += fmt.Sprintf(" (+%d)", len(r.Roles)-3)
		}
	}
	return what + " " + name + " (" + holds + ")"
}
