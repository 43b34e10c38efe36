package access

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// Document kinds.
const (
	KindWhoCan  = "WhoCan"
	KindWhatCan = "WhatCan"
	KindCan     = "Can"
)

// WhoCanQuery is the request asked about; AllNamespaces is -A.
type WhoCanQuery struct {
	rbac.Attributes `json:",inline"`
	AllNamespaces   bool `json:"allNamespaces,omitempty"`
}

// WhoCanAnswer is the `WhoCan` document: every subject allowed, each with
// its paths.
type WhoCanAnswer struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Cluster names the cluster when several are asked (a fleet).
	Cluster           *ClusterRef `json:"cluster,omitempty"`
	Query             WhoCanQuery `json:"query"`
	rbac.WhoCanResult `json:",inline"`
	// Gaps are the parts of the cluster that could not be read, when the
	// answer is incomplete.
	Gaps []rbac.Gap `json:"gaps,omitempty"`
	// Verification is what the cluster's authorizer said (--verify).
	Verification *Verification `json:"verification,omitempty"`
	// Transitive (--transitive) are the subjects who reach the request
	// through a service account that holds it; Subjects stay the
	// authorizer's direct answer.
	Transitive []IndirectGrant `json:"transitive,omitempty"`
	// Members are, with --expand-groups, each Entra group's members as
	// the directory says (Microsoft Graph, or a file), in the order of
	// Subjects.
	Members []identity.Members `json:"members,omitempty"`
	// Eligible (--eligible) are who may activate membership of a group
	// that holds the request (PIM for Groups), or an Azure role assignment
	// that would allow it (PIM for Azure resources, Azure set): never
	// active access.
	Eligible []EligibleGrant `json:"eligible,omitempty"`
	// AzureDoors are the Azure principals that reach the request through
	// Azure's control plane (with the managed cluster's settings read):
	// azure-credential, they fetch a credential whose identity the
	// cluster allows it; azure-reconfigure, they can change who may.
	// Subjects stay the authorizer's answer.
	AzureDoors []rbac.AzureDoor `json:"azureDoors,omitempty"`
}

// ClusterRef names one cluster of a fleet in an answer about it; Error
// says why there is no answer (the answer is then empty and incomplete).
type ClusterRef struct {
	Context string `json:"context"`
	Server  string `json:"server,omitempty"`
	Error   string `json:"error,omitempty"`
}

// WhatCanAnswer is the `WhatCan` document: every rule a subject holds.
type WhatCanAnswer struct {
	APIVersion         string       `json:"apiVersion"`
	Kind               string       `json:"kind"`
	Subject            rbac.Subject `json:"subject"`
	rbac.WhatCanResult `json:",inline"`
	Gaps               []rbac.Gap    `json:"gaps,omitempty"`
	Verification       *Verification `json:"verification,omitempty"`
	// AzureDoors are the subject's ways into the cluster through Azure's
	// control plane, beside what it holds itself.
	AzureDoors []rbac.AzureDoor `json:"azureDoors,omitempty"`
	// MembershipsUnknown: the subject is an Entra user whose groups are not
	// known (no --group): what they hold is not in the answer.
	MembershipsUnknown bool `json:"membershipsUnknown,omitempty"`
	// Memberships are the user's Entra groups as the directory says
	// (Microsoft Graph, or a file), each with its chain; the rules above
	// count them.
	Memberships *Memberships `json:"memberships,omitempty"`
	// Eligible are the groups the user may activate membership of (PIM)
	// that the cluster grants something, and the Azure role assignments
	// it may activate (PIM for Azure resources) that grant something in
	// the cluster: never active access.
	Eligible []EligibleGrant `json:"eligible,omitempty"`
	// WorkloadIdentities are the Azure identities a service account's
	// pods act as (status matched), or what its client-id annotation
	// names without access (the other statuses): the way out to Azure.
	WorkloadIdentities []rbac.WorkloadIdentity `json:"workloadIdentities,omitempty"`
	// AzureReach are the managed identities the subject acts as by a step
	// in the cluster (running a pod as a service account whose tokens an
	// identity accepts, minting its tokens, creating the account a
	// credential names), the most severe first: the same steps who-can
	// act-as lists and the azure-identity audit reports.
	AzureReach []AzureReach `json:"azureReach,omitempty"`
}

// CanAnswer is the `Can` document: one decision.
type CanAnswer struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Cluster names the cluster when several are asked (a fleet).
	Cluster        *ClusterRef     `json:"cluster,omitempty"`
	Subject        rbac.Subject    `json:"subject"`
	Query          rbac.Attributes `json:"query"`
	rbac.CanResult `json:",inline"`
	Gaps           []rbac.Gap    `json:"gaps,omitempty"`
	Verification   *Verification `json:"verification,omitempty"`
	// AzureDoors are the subject's ways to the request through Azure's
	// control plane; Allowed stays the authorizer's answer for the
	// subject's own identity.
	AzureDoors []rbac.AzureDoor `json:"azureDoors,omitempty"`
	// MembershipsUnknown: the subject is an Entra user whose groups are not
	// known (no --group); GroupsAllowed are the groups the request is
	// allowed for, which the user may be in. Allowed stays the answer for
	// the identity as given.
	MembershipsUnknown bool           `json:"membershipsUnknown,omitempty"`
	GroupsAllowed      []rbac.Subject `json:"groupsAllowed,omitempty"`
	// Memberships are the user's Entra groups as the directory says, each
	// with its chain; the decision counts them.
	Memberships *Memberships `json:"memberships,omitempty"`
	// Eligible, when the request is not allowed, are the groups the user
	// may activate membership of (PIM for Groups), and the Azure role
	// assignments it may activate (PIM for Azure resources), that would
	// allow it: never active access.
	Eligible []EligibleGrant `json:"eligible,omitempty"`
}

// Unknown says the request was not granted, but the view is incomplete:
// the answer is not known (exit code 2), not "denied".
func (c *CanAnswer) Unknown() bool { return !c.Allowed && c.Incomplete }

// WhoCan answers who may make the request. The session must hold the
// request's scope (ScopeFor).
func (s *Session) WhoCan(ctx context.Context, r Request) (*WhoCanAnswer, error) {
	at, warns, err := s.App.Attributes(r)
	if err != nil {
		return nil, err
	}
	res := s.Index.WhoCan(at, r.AllNamespaces)
	if !r.AllNamespaces {
		warns = append(warns, s.checkNamespace(ctx, at.Namespace)...)
	}
	res.Warnings = s.warnings(warns, res.Warnings)
	ans := &WhoCanAnswer{APIVersion: rbac.APIVersion, Kind: KindWhoCan,
		Query: WhoCanQuery{Attributes: at, AllNamespaces: r.AllNamespaces}, WhoCanResult: res}
	var dws []rbac.Warning
	ans.AzureDoors, dws = s.Index.AzureDoors(at)
	ans.Warnings = append(ans.Warnings, dws...)
	if res.Incomplete {
		ans.Gaps = s.Index.Gaps()
	}
	return ans, nil
}

// WhatCan answers what the subject holds: every namespace, or with
// namespace set the cluster-wide rules and that namespace's.
func (s *Session) WhatCan(ctx context.Context, subject rbac.Subject, namespace string) *WhatCanAnswer {
	warns := s.checkSubject(ctx, subject)
	warns = append(warns, s.checkNamespace(ctx, namespace)...)
	subject, m, pws, failed := s.withGroups(ctx, subject)
	warns = append(warns, pws...)
	azEligible, aws := s.azureEligibleOf(subject, nil)
	warns = append(warns, aws...)
	res := s.Index.WhatCan(subject.Identity(), namespace)
	res.Warnings = s.warnings(warns, res.Warnings)
	ans := &WhatCanAnswer{APIVersion: rbac.APIVersion, Kind: KindWhatCan, Subject: subject, WhatCanResult: res, Memberships: m}
	ans.Eligible = append(s.eligibleFor(subject, m, nil), azEligible...)
	var dws []rbac.Warning
	ans.AzureDoors, dws = s.Index.AzureDoorsOf(subject.Identity())
	ans.Warnings = append(ans.Warnings, dws...)
	if failed {
		// Not read, or read in part: what a group grants may be missing.
		ans.MembershipsUnknown, ans.Incomplete = m == nil, true
	} else if m == nil && membershipsUnknown(subject) {
		ans.MembershipsUnknown = true
		ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnMembershipsUnknown, "the Entra groups of %s are not known (no --group): what they are granted is not listed; --group OBJECT-ID adds a membership", subject))
	}
	if subject.Kind == rbac.ServiceAccountKind {
		d := s.Index.Snapshot().Azure
		if !s.whole && !s.Scope.ServiceAccounts && d != nil && len(d.Identities) > 0 {
			ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnWorkloadIdentity, "service accounts were not read from the cluster: which Azure identity %s acts as (its %s annotation) is not answered; give a snapshot with -f", subject, azurerbac.AnnotationClientID))
		}
		ans.WorkloadIdentities = s.Index.WorkloadIdentitiesOf(subject.Namespace, subject.Name)
		if d != nil && len(d.IdentityGaps) > 0 {
			// An identity not read may be the one the account acts as, or
			// hold more than was read: its Azure reach is not known whole.
			ans.Incomplete = true
			ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnWorkloadIdentity, "the Azure identities %s acts as, and their role assignments, are incomplete: %s", subject, strings.Join(d.IdentityGaps[:min(3, len(d.IdentityGaps))], "; ")))
		}
		for _, w := range ans.WorkloadIdentities {
			if !w.Acts() {
				ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnWorkloadIdentity, "service account %s/%s is annotated %s=%s, but %s", subject.Namespace, subject.Name, w.Annotation, w.ClientID, w.Why))
			}
		}
	}
	ans.AzureReach = s.AzureReachOf(subject, namespace)
	if d := s.Index.Snapshot().Azure; d != nil && len(d.Identities) > 0 && !s.whole {
		// Live, a what-can reads no more than it needs: the steps out to
		// Azure need the service accounts (which acts as what) and the
		// pods (whose can be exec'd into).
		switch {
		case !s.Scope.ServiceAccounts:
			ans.AzureReach = nil
			ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnWorkloadIdentity, "which Azure identities %s acts as by a step in the cluster (running a pod as an account that acts as one, minting its token) is not answered: service accounts were not read; who-can act-as IDENTITY reads the whole cluster and answers it", subject))
		case !s.Scope.Workloads:
			ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnWorkloadIdentity, "exec into pods is not counted among %s's steps out to Azure: pods were not read; who-can act-as IDENTITY counts it", subject))
		}
	}
	if res.Incomplete {
		ans.Gaps = s.Index.Gaps()
	}
	return ans
}

// Can decides one request for one subject.
func (s *Session) Can(ctx context.Context, subject rbac.Subject, r Request) (*CanAnswer, error) {
	at, warns, err := s.App.Attributes(r)
	if err != nil {
		return nil, err
	}
	warns = append(warns, s.checkSubject(ctx, subject)...)
	warns = append(warns, s.checkNamespace(ctx, at.Namespace)...)
	subject, m, pws, failed := s.withGroups(ctx, subject)
	warns = append(warns, pws...)
	res := s.Index.Can(subject.Identity(), at)
	res.Warnings = s.warnings(warns, res.Warnings)
	ans := &CanAnswer{APIVersion: rbac.APIVersion, Kind: KindCan, Subject: subject, Query: at, CanResult: res, Memberships: m}
	if failed {
		ans.Incomplete = true
	}
	if !res.Allowed {
		azEligible, aws := s.azureEligibleOf(subject, &at)
		ans.Eligible = append(s.eligibleFor(subject, m, &at), azEligible...)
		ans.Warnings = append(ans.Warnings, aws...)
	}
	if !res.Allowed && m == nil && membershipsUnknown(subject) {
		// A group may allow what the user's own identity does not: say
		// which, since the user's memberships are not known.
		for _, g := range s.Index.WhoCan(at, false).Subjects {
			if sub := g.Subject(); sub.Kind == rbac.GroupKind && !strings.HasPrefix(sub.Name, "system:") {
				sub.DisplayName = s.App.Names[sub.Name]
				ans.GroupsAllowed = append(ans.GroupsAllowed, sub)
			}
		}
		ans.MembershipsUnknown = true
		if n := len(ans.GroupsAllowed); n > 0 {
			var names []string
			for _, g := range ans.GroupsAllowed[:min(n, 5)] {
				names = append(names, s.App.Names.Subject(g))
			}
			if n > 5 {
				names = append(names, fmt.Sprintf("%d more", n-5))
			}
			ans.Warnings = append(ans.Warnings, rbac.Warnf(WarnMembershipsUnknown, "the Entra groups of %s are not known (no --group), and %s may: if the user is in one, the answer is yes (--group OBJECT-ID adds a membership)", subject, strings.Join(names, ", ")))
		}
	}
	doors, dws := s.Index.AzureDoorsOf(subject.Identity())
	ans.Warnings = append(ans.Warnings, dws...)
	for _, d := range doors {
		if d.As != nil {
			r := s.Index.Can(d.As.Identity(), at)
			if !r.Allowed {
				continue
			}
			d.Via = r.Via
		}
		ans.AzureDoors = append(ans.AzureDoors, d)
	}
	if res.Incomplete {
		ans.Gaps = s.Index.Gaps()
	}
	return ans, nil
}

// warnings orders an answer's warnings: setting up, loading, the
// question's own, then the engine's.
func (s *Session) warnings(question, engine []rbac.Warning) []rbac.Warning {
	out := slices.Concat(s.App.Warnings, s.Warnings, question, engine)
	if out == nil {
		out = []rbac.Warning{}
	}
	return out
}

// checkNamespace warns when the namespace asked about does not exist: the
// answer stands (ClusterRoleBindings still apply) but is likely a typo.
func (s *Session) checkNamespace(ctx context.Context, ns string) []rbac.Warning {
	if ns == "" {
		return nil
	}
	missing := rbac.Warnf(WarnNamespaceMissing, "namespace %q does not exist; only cluster-wide grants apply there", ns)
	snap := s.Index.Snapshot()
	if s.whole || s.Scope.Namespaces {
		if len(snap.Namespaces) == 0 {
			return nil // the input has no namespaces to check against
		}
		if slices.ContainsFunc(snap.Namespaces, func(n corev1.Namespace) bool { return n.Name == ns }) {
			return nil
		}
		return []rbac.Warning{missing}
	}
	ok, err := s.exists(ctx, rbac.ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: ns})
	switch {
	case err != nil:
		return nil // not knowing is no reason to warn
	case !ok:
		return []rbac.Warning{missing}
	}
	return nil
}

// checkSubject warns about a subject that no binding names and, for a
// service account, one that does not exist: most often a typo.
func (s *Session) checkSubject(ctx context.Context, sub rbac.Subject) []rbac.Warning {
	var out []rbac.Warning
	if !s.Index.Names(sub) && s.Index.BindingsComplete() {
		// What was read: live, a question about one namespace reads the
		// ClusterRoleBindings and that namespace's RoleBindings only.
		what := "no binding"
		if !s.whole && !s.Scope.AllNamespaces {
			what = "no ClusterRoleBinding"
			if s.Scope.Namespace != "" {
				what += ", and no RoleBinding in namespace " + s.Scope.Namespace + ","
			}
		}
		hint := ""
		if m := Closest(sub.Name, s.boundNames(sub.Kind)); m != "" {
			hint = fmt.Sprintf(" (did you mean %s:%s?)", strings.ToLower(sub.Kind), m)
			if sub.Kind == rbac.ServiceAccountKind {
				hint = fmt.Sprintf(" (did you mean sa:%s?)", m)
			}
		}
		out = append(out, rbac.Warnf(WarnSubjectUnbound, "%s names %s%s; it holds only what its groups are granted", what, sub, hint))
	}
	if sub.Kind != rbac.ServiceAccountKind {
		return out
	}
	if s.whole || s.Scope.ServiceAccounts {
		sas := s.Index.Snapshot().ServiceAccounts
		if len(sas) == 0 {
			return out
		}
		if !slices.ContainsFunc(sas, func(sa corev1.ServiceAccount) bool { return sa.Namespace == sub.Namespace && sa.Name == sub.Name }) {
			what := "is not in the input"
			if !s.whole {
				what = "does not exist"
			}
			out = append(out, rbac.Warnf(WarnServiceAccountGone, "service account %s/%s %s", sub.Namespace, sub.Name, what))
		}
		return out
	}
	ok, err := s.exists(ctx, rbac.ObjectRef{APIVersion: "v1", Kind: "ServiceAccount", Name: sub.Name, Namespace: sub.Namespace})
	if err == nil && !ok {
		out = append(out, rbac.Warnf(WarnServiceAccountGone, "service account %s/%s does not exist", sub.Namespace, sub.Name))
	}
	return out
}

func (s *Session) exists(ctx context.Context, ref rbac.ObjectRef) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.App.callTimeout())
	defer cancel()
	ok, err := s.App.Cluster.Exists(ctx, ref)
	if err != nil {
		return false, fmt.Errorf("check %s: %w", ref, err)
	}
	return ok, nil
}

// sessionCodes are the warnings about the whole view (how it was read),
// which every answer carries for the CLI; the explorer shows them once.
var sessionCodes = map[rbac.WarningCode]bool{
	rbac.WarnGap: true, rbac.WarnAggregation: true,
	source.WarnDefaults: true, source.WarnDuplicate: true, "discovery": true,
}

// QuestionWarnings keeps the warnings about the question itself (a verb
// that is not one, a namespace that does not exist), without those about
// the whole view.
func QuestionWarnings(ws []rbac.Warning) []rbac.Warning {
	var out []rbac.Warning
	for _, w := range ws {
		if !sessionCodes[w.Code] {
			out = append(out, w)
		}
	}
	return out
}

// Notes are the warnings about the whole view: how it was read, what it
// took from Kubernetes' defaults, what could not be read.
func (s *Session) Notes() []rbac.Warning {
	out := slices.Concat(s.App.Warnings, s.Warnings, s.Index.Warnings())
	for _, g := range s.Index.Gaps() {
		out = append(out, rbac.Warning{Code: rbac.WarnGap, Message: g.String()})
	}
	return out
}

// boundNames are the names bindings give subjects of kind (NAMESPACE:NAME
// for service accounts), with the display names the names file gives the
// groups: what an unbound subject's "did you mean" picks from.
func (s *Session) boundNames(kind string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, b := range s.Index.Bindings() {
		for _, sub := range b.Subjects {
			if sub.Kind != kind {
				continue
			}
			switch kind {
			case rbac.ServiceAccountKind:
				add(cmp.Or(sub.Namespace, b.Ref.Namespace) + ":" + sub.Name)
			case rbac.GroupKind:
				add(sub.Name)
				add(s.App.Names[sub.Name])
			default:
				add(sub.Name)
			}
		}
	}
	return out
}

// membershipsUnknown says whether subject is a user Entra may put in
// groups (a UPN or an object id) given without any --group.
func membershipsUnknown(subject rbac.Subject) bool {
	if subject.Kind != rbac.UserKind || len(subject.Groups) > 0 {
		return false
	}
	id := subject.Identity()
	return id.MayBeEntra()
}
