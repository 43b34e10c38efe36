package rbac

import (
	"cmp"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Grant is one rule that one binding grants, as the authorizer reads it:
// aggregated rules included, service-account subjects with their namespace
// filled in. It is what checks over the whole cluster (audit) walk.
type Grant struct {
	// Namespace is where the grant applies: the RoleBinding's namespace,
	// or "" for a ClusterRoleBinding (everywhere).
	Namespace string
	Subjects  []Subject
	Path      Path
}

// Grants calls fn for every rule of every binding whose role exists,
// ClusterRoleBindings first, then RoleBindings by namespace. The grant is
// valid during the call only (one is reused: a dense cluster has hundreds
// of thousands of grants, and a grant whose address a callback takes
// would otherwise be allocated for each).
func (ix *Index) Grants(fn func(*Grant)) {
	ix.matchedOnce.Do(func() {
		for _, b := range ix.crbs {
			b.matched = bindingSubjects(b)
		}
		for _, ns := range ix.namespaces {
			for _, b := range ix.rbs[ns] {
				b.matched = bindingSubjects(b)
			}
		}
	})
	var g Grant
	each := func(b *binding) {
		if b.role == nil {
			return
		}
		for ri := range b.role.rules {
			g = Grant{Namespace: b.namespace, Subjects: b.matched, Path: ix.path(b, ri)}
			fn(&g)
		}
	}
	for _, b := range ix.crbs {
		each(b)
	}
	for _, ns := range ix.namespaces {
		for _, b := range ix.rbs[ns] {
			each(b)
		}
	}
}

// bindingSubjects returns the subjects a binding names that can match an
// identity, service accounts with the binding's namespace when they omit
// theirs (a ServiceAccount without a namespace in a ClusterRoleBinding
// matches nobody and is left out).
func bindingSubjects(b *binding) []Subject {
	var out []Subject
	for _, s := range b.subjects {
		if sub, ok := BindingSubject(s, b.namespace); ok {
			out = append(out, sub)
		}
	}
	return out
}

// BindingView is a binding with its role resolved, for checks of the
// objects themselves (dangling references, unused roles).
type BindingView struct {
	Ref ObjectRef
	// Role is the role the binding references; RoleFound says whether it
	// exists.
	Role      ObjectRef
	RoleFound bool
	// Subjects are the subjects as written in the binding.
	Subjects []rbacv1.Subject
}

// Bindings returns every binding, ClusterRoleBindings first.
func (ix *Index) Bindings() []BindingView {
	n := len(ix.crbs)
	for _, ns := range ix.namespaces {
		n += len(ix.rbs[ns])
	}
	out := make([]BindingView, 0, n)
	add := func(b *binding) {
		out = append(out, BindingView{Ref: b.ref, Role: b.roleObjectRef(), RoleFound: b.role != nil, Subjects: b.subjects})
	}
	for _, b := range ix.crbs {
		add(b)
	}
	for _, ns := range ix.namespaces {
		for _, b := range ix.rbs[ns] {
			add(b)
		}
	}
	return out
}

// RoleView is a Role or ClusterRole with the rules the authorizer reads
// (for an aggregated ClusterRole offline, the computed union).
type RoleView struct {
	Ref   ObjectRef
	Rules []rbacv1.PolicyRule
}

// Roles returns every Role and ClusterRole.
func (ix *Index) Roles() []RoleView {
	out := make([]RoleView, 0, len(ix.roles))
	for _, r := range ix.roles {
		out = append(out, RoleView{Ref: r.ref, Rules: r.rules})
	}
	return out
}

// BindingSubject reads subject s of a binding in namespace ns (""
// for a ClusterRoleBinding) as the authorizer matches it: a user or group
// by name, a service account in its own namespace or, when it names none,
// the binding's. ok is false for a subject that matches nobody: a service
// account without a namespace in a ClusterRoleBinding, a subject without a
// name, an unknown kind. Every reader of a binding's subjects asks this.
func BindingSubject(s rbacv1.Subject, ns string) (sub Subject, ok bool) {
	if s.Name == "" {
		return Subject{}, false
	}
	switch s.Kind {
	case rbacv1.UserKind, rbacv1.GroupKind:
		return Subject{Kind: s.Kind, Name: s.Name}, true
	case rbacv1.ServiceAccountKind:
		if in := cmp.Or(s.Namespace, ns); in != "" {
			return Subject{Kind: s.Kind, Name: s.Name, Namespace: in}, true
		}
	}
	return Subject{}, false
}

// Matches are the subjects a binding's subjects match, as BindingSubject
// reads them (the unmatchable left out).
func (b *BindingView) Matches() []Subject {
	out := make([]Subject, 0, len(b.Subjects))
	for _, s := range b.Subjects {
		if sub, ok := BindingSubject(s, b.Ref.Namespace); ok {
			out = append(out, sub)
		}
	}
	return out
}
