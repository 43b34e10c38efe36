package access

import (
	"cmp"
	"slices"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// SubjectEntry is one subject the view knows, with what names it.
type SubjectEntry struct {
	Subject rbac.Subject
	// Bindings are the bindings that name the subject, as the authorizer
	// reads their subjects (rbac.BindingSubject), in the index's order:
	// ClusterRoleBindings first.
	Bindings []rbac.ObjectRef
	// Dangling are those of Bindings whose role does not exist: they
	// grant nothing until it does (and then whatever it holds).
	Dangling []rbac.ObjectRef
	// Assignments are the Azure role assignments (ids) that name it.
	Assignments []string
	// Findings and Worst count the audit's findings about the subject and
	// the most severe of them, once the audit has run (Session.Audited).
	Findings int
	Worst    audit.Severity
	// Azure are the managed identities the subject acts as by a step in
	// the cluster (AzureReachOf), the most severe first.
	Azure []AzureReach
}

// Named is how many bindings and Azure role assignments name the subject.
func (e *SubjectEntry) Named() int { return len(e.Bindings) + len(e.Assignments) }

// Subjects are every subject the view knows, in no order: group
// system:masters (which no binding needs), every subject a binding names,
// every service account, and every principal an Azure role assignment
// names, each once (by the identity the authorizer sees, rbac.Subject.Key).
func (s *Session) Subjects() []SubjectEntry {
	idx := map[string]int{}
	var out []SubjectEntry
	get := func(sub rbac.Subject) *SubjectEntry {
		k := sub.Key()
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, SubjectEntry{Subject: sub})
		}
		return &out[i]
	}
	get(rbac.Subject{Kind: rbac.GroupKind, Name: rbac.GroupMasters})
	for _, b := range s.Index.Bindings() {
		for _, sub := range b.Matches() {
			e := get(sub)
			e.Bindings = append(e.Bindings, b.Ref)
			if !b.RoleFound {
				e.Dangling = append(e.Dangling, b.Ref)
			}
		}
	}
	for _, sa := range s.Index.Snapshot().ServiceAccounts {
		get(rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name})
	}
	for _, p := range s.Index.AzurePrincipals() {
		e := get(p.Subject)
		e.Assignments = append(e.Assignments, p.Assignment)
		if e.Subject.ObjectID == "" {
			e.Subject.ObjectID = p.Subject.ObjectID
		}
		if e.Subject.DisplayName == "" {
			e.Subject.DisplayName = p.Subject.DisplayName
		}
		if e.Subject.PrincipalType == "" {
			e.Subject.PrincipalType = p.Subject.PrincipalType
		}
	}
	s.CountFindings(out)
	if len(s.azureReaches()) > 0 {
		for i := range out {
			out[i].Azure = s.AzureReachOf(out[i].Subject, "")
		}
	}
	return out
}

// CountFindings fills each entry's Findings and Worst from the audit, once
// it has run (zero before).
func (s *Session) CountFindings(entries []SubjectEntry) {
	type count struct {
		n     int
		worst audit.Severity
	}
	counts := map[string]count{}
	if rep := s.Audited(); rep != nil {
		for _, f := range rep.Findings {
			for _, sub := range f.Subjects {
				c := counts[sub.Key()]
				c.n++
				c.worst = max(c.worst, f.Severity)
				counts[sub.Key()] = c
			}
		}
	}
	for i := range entries {
		c := counts[entries[i].Subject.Key()]
		entries[i].Findings, entries[i].Worst = c.n, c.worst
	}
}

// WorkloadIdentities are the Azure identities a service account's pods act
// as through workload identity, and the annotations that grant nothing
// (rbac.Index.WorkloadIdentitiesOf); none for other subjects.
func (s *Session) WorkloadIdentities(sub rbac.Subject) []rbac.WorkloadIdentity {
	if sub.Kind != rbac.ServiceAccountKind {
		return nil
	}
	return s.Index.WorkloadIdentitiesOf(sub.Namespace, sub.Name)
}

// Roles are every Role and ClusterRole read, with their rules (aggregated
// ones with what aggregation gives them).
func (s *Session) Roles() []rbac.RoleView { return s.Index.Roles() }

// Bindings are every binding read, ClusterRoleBindings first, each with
// the role it references (rbac.BindingView.Matches reads its subjects).
func (s *Session) Bindings() []rbac.BindingView { return s.Index.Bindings() }

// Namespaces are the names of the namespaces read.
func (s *Session) Namespaces() []string {
	nss := s.Index.Snapshot().Namespaces
	out := make([]string, len(nss))
	for i := range nss {
		out[i] = nss[i].Name
	}
	return out
}

// AzureRBACPending says whether Azure RBAC decides after RBAC on the
// cluster while its role assignments are not in the view (answers about
// Entra identities are then incomplete).
func (s *Session) AzureRBACPending() bool { return s.Index.AzureRBACPending() }

// Gaps are the parts of the cluster the view could not read.
func (s *Session) Gaps() []rbac.Gap { return s.Index.Gaps() }

// FindingsOf are the audit's findings about the subject (by the identity
// the authorizer sees), the most severe first, once the audit has run
// (nil before).
func (s *Session) FindingsOf(sub rbac.Subject) []audit.Finding {
	rep := s.Audited()
	if rep == nil {
		return nil
	}
	var out []audit.Finding
	for _, f := range rep.Findings {
		if slices.ContainsFunc(f.Subjects, func(x rbac.Subject) bool { return x.Key() == sub.Key() }) {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b audit.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	return out
}
