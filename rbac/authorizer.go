package rbac

import (
	"cmp"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Authorizer is one link of the chain the API server consults in order:
// the system:masters authorizer, then RBAC (later links, such as Azure
// RBAC's webhook, are further types). The links the engine knows never
// deny, so a request is allowed when any link allows it, and each link's
// paths are part of its provenance.
type Authorizer interface {
	// Name names the link in messages.
	Name() string
	// Allow returns the paths by which the link allows id's request.
	Allow(id *Identity, a *Attributes) []Path
	// Grantees calls grant for every subject, as the link names it, the
	// link allows the request for (a ServiceAccount subject with the
	// namespace of the binding that names it). With allNamespaces a
	// namespaced request counts in any namespace. The paths passed are
	// the subject's through one binding or assignment, valid only during
	// the call.
	Grantees(a *Attributes, allNamespaces bool, grant func(s rbacv1.Subject, bindingNamespace string, paths ...Path)) GranteeNotes
	// Holdings calls hold for every rule id holds through the link, with
	// where it applies ("" = cluster-wide); namespace, when set, keeps the
	// cluster-wide rules and that namespace's.
	// rule, when set, is the index's own rule the path's is a copy of: the
	// same pointer is the same rule (what-can files rules by it).
	Holdings(id *Identity, namespace string, hold func(where string, rule *rbacv1.PolicyRule, p Path))
}

// GranteeNotes count what Grantees left out, for the answer's warnings.
type GranteeNotes struct {
	// Unmatchable: subjects of matching bindings that match nobody (an
	// unknown kind, a ServiceAccount without a namespace in a
	// ClusterRoleBinding).
	Unmatchable int
	// NamedOnly: rules that would allow the request but for resourceNames.
	NamedOnly int
}

var (
	_ Authorizer = mastersAuthorizer{}
	_ Authorizer = (*rbacAuthorizer)(nil)
)

// mastersAuthorizer is the API server's system:masters authorizer: the
// group is allowed everything, with no binding.
type mastersAuthorizer struct{}

func (mastersAuthorizer) Name() string { return "system:masters" }

func (mastersAuthorizer) Allow(id *Identity, _ *Attributes) []Path {
	if id.inGroup(GroupMasters) {
		return []Path{mastersPath}
	}
	return nil
}

func (mastersAuthorizer) Grantees(_ *Attributes, _ bool, grant func(rbacv1.Subject, string, ...Path)) GranteeNotes {
	grant(rbacv1.Subject{Kind: rbacv1.GroupKind, Name: GroupMasters}, "", mastersPath)
	return GranteeNotes{}
}

func (mastersAuthorizer) Holdings(id *Identity, _ string, hold func(string, *rbacv1.PolicyRule, Path)) {
	if id.inGroup(GroupMasters) {
		hold("", nil, mastersPath)
	}
}

// rbacAuthorizer is the RBAC authorizer over the index's bindings.
type rbacAuthorizer Index

func (*rbacAuthorizer) Name() string { return "RBAC" }

func (r *rbacAuthorizer) Allow(id *Identity, a *Attributes) []Path {
	ix := (*Index)(r)
	var out []Path
	ix.visit(id, a.Namespace, func(b *binding) {
		for i := range b.role.rules {
			if RuleAllows(a, &b.role.rules[i]) {
				out = append(out, ix.path(b, i))
			}
		}
	})
	return out
}

func (r *rbacAuthorizer) Grantees(a *Attributes, allNamespaces bool, grant func(rbacv1.Subject, string, ...Path)) GranteeNotes {
	ix := (*Index)(r)
	m := newRoleMatcher(ix, a)
	var notes GranteeNotes
	var paths []Path // one binding's, reused
	each := func(b *binding) {
		if b.role == nil {
			return
		}
		rules, names := m.match(b.role)
		notes.NamedOnly += names
		if len(rules) == 0 {
			return
		}
		paths = paths[:0]
		for _, ri := range rules {
			paths = append(paths, ix.path(b, ri))
		}
		for _, s := range b.subjects {
			if _, ok := BindingSubject(s, b.namespace); !ok {
				notes.Unmatchable++
				continue
			}
			grant(s, b.namespace, paths...)
		}
	}
	for _, b := range ix.crbs {
		each(b)
	}
	switch {
	case !a.IsResourceRequest():
		// RoleBindings never grant non-resource URLs.
	case allNamespaces:
		// In any namespace, cluster-scoped resources too: a check in a
		// namespace (a namespaced SubjectAccessReview, such as the gMSA
		// webhook's) counts that namespace's RoleBindings whatever the
		// resource's scope.
		for _, ns := range ix.namespaces {
			for _, b := range ix.rbs[ns] {
				each(b)
			}
		}
	case a.Namespace != "":
		for _, b := range ix.rbs[a.Namespace] {
			each(b)
		}
	}
	return notes
}

func (r *rbacAuthorizer) Holdings(id *Identity, namespace string, hold func(string, *rbacv1.PolicyRule, Path)) {
	ix := (*Index)(r)
	for _, b := range ix.candidates(id) {
		if b.role == nil || !appliesTo(id, b) {
			continue
		}
		if namespace != "" && b.namespace != "" && b.namespace != namespace {
			continue
		}
		for i := range b.role.rules {
			r := &b.role.rules[i]
			if b.namespace != "" && len(r.NonResourceURLs) > 0 && len(r.Resources) == 0 {
				// A RoleBinding never grants non-resource URLs: the
				// authorizer visits its rules only for a request in its
				// namespace, and non-resource requests have none.
				continue
			}
			hold(b.namespace, r, ix.path(b, i))
		}
	}
}

// subjectKeyOf is how who-can files a subject: a ServiceAccount with the
// namespace of the binding when it names none.
func subjectKeyOf(s rbacv1.Subject, bindingNamespace string) subjectKey {
	k := subjectKey{kind: s.Kind, name: s.Name}
	if s.Kind == rbacv1.ServiceAccountKind {
		k.namespace = cmp.Or(s.Namespace, bindingNamespace)
	}
	return k
}
