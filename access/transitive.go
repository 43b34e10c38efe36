package access

import (
	"cmp"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// IndirectGrant is a subject who reaches a request through a service
// account that holds it: by running a pod as the account (create pods in
// its namespace), by exec into a pod that runs as it, or by minting its
// token; the chain is the step's paths, then the account's.
type IndirectGrant struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Step is what the subject does: "create pods", "create pods/exec"
	// or "create serviceaccounts/token", in Namespace of the account.
	Step string `json:"step"`
	// StepVia are the paths that allow the step.
	StepVia []rbac.Path `json:"stepVia"`
	// ServiceAccount is the account acted as; Via its paths to the
	// request.
	ServiceAccount rbac.Subject `json:"serviceAccount"`
	Via            []rbac.Path  `json:"via"`
	// Identity, when set, is the Azure managed identity the account acts
	// as through workload identity: the chain goes out to Azure and back,
	// as the identity (Kubernetes sees its object id as a user) holds the
	// request; Via are the identity's paths.
	Identity *rbac.IdentityRef `json:"identity,omitempty"`
}

// Subject returns the grant's subject.
func (g *IndirectGrant) Subject() rbac.Subject {
	return rbac.Subject{Kind: g.Kind, Name: g.Name, Namespace: g.Namespace}
}

// Transitive adds to a who-can answer the subjects who are not in it but
// reach the request through a service account that is: those who may
// create pods in the account's namespace (a pod may run as any account of
// its namespace), exec into a pod that runs as it, or create a token for
// it, each with the chain. It needs the service accounts (and, for exec,
// the pods) in the session; the escalation-path audit rule reasons the
// same way. The direct answer is unchanged.
func (s *Session) Transitive(ans *WhoCanAnswer) {
	at := ans.Query.Attributes
	snap := s.Index.Snapshot()
	direct := map[string]bool{}
	for _, g := range ans.Subjects {
		direct[g.Subject().Key()] = true
	}
	// The accounts that hold the request, with their paths.
	type holder struct {
		sa  rbac.Subject
		via []rbac.Path
	}
	var holders []holder
	var nsOf map[subjectID][]string
	if ans.Query.AllNamespaces {
		nsOf = bindingNamespaces(s.Index)
	}
	for _, sa := range snap.ServiceAccounts {
		sub := rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name}
		req := at
		if ans.Query.AllNamespaces {
			req.Namespace = "" // held anywhere: asked where its bindings are
		}
		res := s.Index.Can(sub.Identity(), req)
		if !res.Allowed && ans.Query.AllNamespaces {
			for _, ns := range nsOf[idOf(sub)] {
				req.Namespace = ns
				if res = s.Index.Can(sub.Identity(), req); res.Allowed {
					break
				}
			}
		}
		if res.Allowed {
			holders = append(holders, holder{sub, res.Via})
		}
	}
	runsAs := map[string]bool{} // namespace/account of a running pod
	for _, p := range snap.Pods {
		runsAs[p.Namespace+"/"+cmp.Or(p.Spec.ServiceAccountName, "default")] = true
	}
	// Creating pods or exec in a namespace is asked once for all its
	// accounts (a token names its account, so it is asked for each).
	answers := map[string][]rbac.SubjectGrant{}
	whoCan := func(step rbac.Attributes) []rbac.SubjectGrant {
		k := step.String() + "\x00" + step.Namespace
		if a, ok := answers[k]; ok {
			return a
		}
		answers[k] = s.Index.WhoCan(step, false).Subjects
		return answers[k]
	}
	seen := map[string]bool{}
	var out []IndirectGrant
	for _, h := range holders {
		steps := []rbac.Attributes{
			{Verb: "create", Resource: "pods", Namespace: h.sa.Namespace},
			{Verb: "create", Resource: "serviceaccounts", Subresource: "token", Name: h.sa.Name, Namespace: h.sa.Namespace},
		}
		if runsAs[h.sa.Namespace+"/"+h.sa.Name] {
			steps = append(steps, rbac.Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Namespace: h.sa.Namespace})
		}
		for _, step := range steps {
			for _, g := range whoCan(step) {
				sub := g.Subject()
				key := sub.Key() + "|" + h.sa.Key() + "|" + step.String()
				if direct[sub.Key()] || seen[key] || sub.Key() == h.sa.Key() {
					continue
				}
				seen[key] = true
				out = append(out, IndirectGrant{Kind: g.Kind, Name: g.Name, Namespace: g.Namespace,
					Step: stepWords(step), StepVia: g.Via, ServiceAccount: h.sa, Via: h.via})
			}
		}
	}
	out = append(out, s.throughIdentities(ans, direct)...)
	slices.SortStableFunc(out, func(a, b IndirectGrant) int {
		return cmp.Or(cmp.Compare(a.Subject().String(), b.Subject().String()), cmp.Compare(a.ServiceAccount.String(), b.ServiceAccount.String()))
	})
	if out == nil {
		out = []IndirectGrant{}
	}
	ans.Transitive = out
	// The chains read every namespace's RBAC, the service accounts and the
	// pods: a part not read may hide one, so the answer says so.
	if gaps := s.Index.Gaps(); len(gaps) > 0 && !ans.Incomplete {
		ans.Incomplete, ans.Gaps = true, gaps
		ans.Warnings = append(ans.Warnings, rbac.Warnf(rbac.WarnGap, "the chains through service accounts may be incomplete: %d parts of the cluster could not be read", len(gaps)))
	}
}

func stepWords(a rbac.Attributes) string {
	r := a.Resource
	if a.Subresource != "" {
		r += "/" + a.Subresource
	}
	return a.Verb + " " + r
}

// bindingNamespaces maps each subject to the namespaces of the
// RoleBindings that name it.
func bindingNamespaces(ix *rbac.Index) map[subjectID][]string {
	out := map[subjectID][]string{}
	for _, b := range ix.Bindings() {
		if b.Ref.Namespace == "" {
			continue
		}
		for _, s := range b.Subjects {
			if id, ok := subjectOf(s, b.Ref.Namespace); ok && !slices.Contains(out[id], b.Ref.Namespace) {
				out[id] = append(out[id], b.Ref.Namespace)
			}
		}
	}
	return out
}

// throughIdentities are the chains out to Azure and back: a subject of
// the answer that is an Azure managed identity (Kubernetes sees its object
// id as a user, bound by RBAC or by an Azure role assignment) is held by
// whoever acts as it through workload identity, as the azure-identity
// audit finds them (audit.IdentityReaches: running a pod as an account
// its federated credential accepts, minting its token, or creating the
// missing account it names).
func (s *Session) throughIdentities(ans *WhoCanAnswer, direct map[string]bool) []IndirectGrant {
	d := s.Index.Snapshot().Azure
	if d == nil || len(d.Identities) == 0 {
		return nil
	}
	holders := map[string][]rbac.Path{} // lower-case object id -> its paths
	for _, g := range ans.Subjects {
		if g.Kind != rbac.UserKind {
			continue
		}
		for _, id := range []string{g.Name, g.ObjectID} {
			if rbac.IsGUID(id) {
				holders[strings.ToLower(id)] = g.Via
			}
		}
	}
	if len(holders) == 0 {
		return nil
	}
	var out []IndirectGrant
	for _, r := range audit.IdentityReaches(s.Index) {
		w := r.Workload
		if w.Identity == nil || r.Subject.Kind == "" || direct[r.Subject.Key()] {
			continue
		}
		via, ok := holders[strings.ToLower(w.Identity.PrincipalID)]
		if !ok {
			continue
		}
		sa, err := rbac.ParseSubject(w.ServiceAccount)
		if err != nil {
			continue
		}
		id := *w.Identity
		out = append(out, IndirectGrant{Kind: r.Subject.Kind, Name: r.Subject.Name, Namespace: r.Subject.Namespace,
			Step: r.StepText, StepVia: r.Evidence, ServiceAccount: sa, Via: via, Identity: &id})
	}
	return out
}

// IdentityWords names an Azure identity for people: "managed identity
// id-orders", or "app registration NAME".
func IdentityWords(id *rbac.IdentityRef) string {
	return id.What() + " " + cmp.Or(id.Name, id.ClientID)
}
