package rbac

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// CanResult is the `Can` document: one decision and its paths.
type CanResult struct {
	Allowed bool `json:"allowed"`
	// Via are every path that allows the request, in the authorizer's
	// order (ClusterRoleBindings, then RoleBindings of the namespace).
	Via []Path `json:"via"`
	// Nearest, when denied, are the subject's grants that come closest:
	// the right resource with another verb or name, or the same grant in
	// another namespace.
	Nearest    []Path   `json:"nearest"`
	Incomplete bool     `json:"incomplete"`
	Warnings   []string `json:"warnings,omitempty"`
}

// Can decides whether id may make the request, as the RBAC authorizer (and
// the system:masters authorizer before it) would.
func (ix *Index) Can(id Identity, a Attributes) CanResult {
	res := CanResult{Via: []Path{}, Nearest: []Path{}, Incomplete: ix.Incomplete(), Warnings: ix.gapWarnings()}
	if id.inGroup(GroupMasters) {
		res.Allowed = true
		res.Via = append(res.Via, mastersPath)
	}
	ix.visit(&id, a.Namespace, func(b *binding) {
		for i := range b.role.rules {
			if RuleAllows(&a, &b.role.rules[i]) {
				res.Via = append(res.Via, ix.path(b, i))
			}
		}
	})
	if len(res.Via) > 0 {
		res.Allowed = true
		return res
	}
	res.Nearest = ix.nearest(&id, &a)
	return res
}

// visit calls fn for every binding that applies to id for a request in
// namespace, in the authorizer's order (VisitRulesFor): ClusterRoleBindings,
// then the namespace's RoleBindings. Bindings whose role is missing are
// skipped, as the authorizer skips them.
func (ix *Index) visit(id *Identity, namespace string, fn func(*binding)) {
	for _, b := range ix.crbs {
		if b.role != nil && appliesTo(id, b) {
			fn(b)
		}
	}
	if namespace == "" {
		return
	}
	for _, b := range ix.rbs[namespace] {
		if b.role != nil && appliesTo(id, b) {
			fn(b)
		}
	}
}

func appliesTo(id *Identity, b *binding) bool {
	for i := range b.subjects {
		if appliesToUser(id, &b.subjects[i], b.namespace) {
			return true
		}
	}
	return false
}

func (ix *Index) path(b *binding, rule int) Path {
	ref := b.ref
	return Path{Binding: &ref, Role: b.role.ref, Rule: b.role.rules[rule]}
}

// nearest finds the grants closest to a denied request: rules the subject
// holds here that match the resource but not the verb or name (or the verb
// but another resource), then exact grants held in other namespaces.
func (ix *Index) nearest(id *Identity, a *Attributes) []Path {
	type scored struct {
		p     Path
		score int
	}
	var found []scored
	consider := func(b *binding, score func(*rbacv1.PolicyRule) int) {
		for i := range b.role.rules {
			if s := score(&b.role.rules[i]); s > 0 {
				found = append(found, scored{ix.path(b, i), s})
			}
		}
	}
	here := func(r *rbacv1.PolicyRule) int {
		if !a.IsResourceRequest() {
			if len(r.NonResourceURLs) > 0 && (verbMatches(r, a.Verb) || nonResourceURLMatches(r, a.Path)) {
				return 1
			}
			return 0
		}
		combined := a.Resource
		if a.Subresource != "" {
			combined += "/" + a.Subresource
		}
		group, res := apiGroupMatches(r, a.APIGroup), resourceMatches(r, combined, a.Subresource)
		switch {
		case group && res:
			return 3 // the right resource: another verb or name
		case group && verbMatches(r, a.Verb) && a.Subresource != "" && resourceMatches(r, a.Resource, ""):
			return 2 // the right verb on the parent resource (pods for pods/exec)
		}
		return 0
	}
	ix.visit(id, a.Namespace, func(b *binding) { consider(b, here) })
	if a.IsResourceRequest() {
		for _, ns := range ix.namespaces {
			if ns == a.Namespace {
				continue
			}
			elsewhere := *a
			elsewhere.Namespace = ns
			for _, b := range ix.rbs[ns] {
				if b.role != nil && appliesTo(id, b) {
					consider(b, func(r *rbacv1.PolicyRule) int {
						if RuleAllows(&elsewhere, r) {
							return 1
						}
						return 0
					})
				}
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].score > found[j].score })
	out := []Path{}
	for i := 0; i < len(found) && i < 5; i++ {
		out = append(out, found[i].p)
	}
	return out
}

// SubjectGrant is one subject of a who-can answer with its paths.
type SubjectGrant struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Broad describes a subject that stands for many identities
	// ("every authenticated user").
	Broad string `json:"broad,omitempty"`
	Via   []Path `json:"via"`
}

// Subject returns the grant's subject.
func (g *SubjectGrant) Subject() Subject {
	return Subject{Kind: g.Kind, Name: g.Name, Namespace: g.Namespace}
}

// WhoCanResult is the `WhoCan` document's body.
type WhoCanResult struct {
	Subjects   []SubjectGrant `json:"subjects"`
	Incomplete bool           `json:"incomplete"`
	Warnings   []string       `json:"warnings"`
}

// WhoCan lists every subject, as the bindings name them, that the request
// is allowed for, with every path. With allNamespaces the request's
// namespace is ignored and a RoleBinding in any namespace counts (its path
// says which); otherwise only the ClusterRoleBindings and the RoleBindings
// of a.Namespace do, exactly as for one request. A request without a
// namespace (a cluster-scoped resource, a non-resource URL) is granted by
// ClusterRoleBindings only, allNamespaces or not: set any namespace to ask
// about a namespaced resource in all namespaces.
func (ix *Index) WhoCan(a Attributes, allNamespaces bool) WhoCanResult {
	res := WhoCanResult{Incomplete: ix.Incomplete(), Warnings: ix.gapWarnings()}
	m := newRoleMatcher(ix, &a)
	bySubject := map[subjectKey]*SubjectGrant{}
	var order []subjectKey
	add := func(s rbacv1.Subject, namespace string, p Path) {
		k := subjectKey{kind: s.Kind, name: s.Name}
		if s.Kind == rbacv1.ServiceAccountKind {
			k.namespace = cmp.Or(s.Namespace, namespace)
		}
		g := bySubject[k]
		if g == nil {
			g = &SubjectGrant{Kind: k.kind, Name: k.name, Namespace: k.namespace, Broad: broad(k)}
			bySubject[k] = g
			order = append(order, k)
		}
		g.Via = append(g.Via, p)
	}
	masters := rbacv1.Subject{Kind: rbacv1.GroupKind, Name: GroupMasters}
	add(masters, "", mastersPath)

	var unmatched, namedOnly int
	grant := func(b *binding) {
		if b.role == nil {
			return
		}
		rules, names := m.match(b.role)
		namedOnly += names
		for _, ri := range rules {
			p := ix.path(b, ri)
			for _, s := range b.subjects {
				switch s.Kind {
				case rbacv1.UserKind, rbacv1.GroupKind:
				case rbacv1.ServiceAccountKind:
					if s.Namespace == "" && b.namespace == "" {
						unmatched++
						continue
					}
				default:
					unmatched++
					continue
				}
				add(s, b.namespace, p)
			}
		}
	}
	for _, b := range ix.crbs {
		grant(b)
	}
	switch {
	case a.Namespace == "":
		// RoleBindings never grant cluster-scoped requests.
	case allNamespaces:
		for _, ns := range ix.namespaces {
			for _, b := range ix.rbs[ns] {
				grant(b)
			}
		}
	case a.Namespace != "":
		for _, b := range ix.rbs[a.Namespace] {
			grant(b)
		}
	}
	res.Subjects = make([]SubjectGrant, 0, len(order))
	for _, k := range order {
		res.Subjects = append(res.Subjects, *bySubject[k])
	}
	sortGrants(res.Subjects)
	if unmatched > 0 {
		res.Warnings = append(res.Warnings, "some matching bindings name subjects that match nobody (an unknown kind, or a ServiceAccount without a namespace in a ClusterRoleBinding); they are left out")
	}
	if namedOnly > 0 && a.Name == "" && a.IsResourceRequest() {
		res.Warnings = append(res.Warnings, "some rules grant this only on named objects (resourceNames), which a request without a name never matches; give NAME to ask about one object")
	}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	return res
}

// roleMatcher memoises, per role, which rules allow one request: a
// ClusterRole referenced by thousands of bindings is matched once.
type roleMatcher struct {
	a     *Attributes
	done  []bool
	rules [][]int
	names []int
}

func newRoleMatcher(ix *Index, a *Attributes) *roleMatcher {
	return &roleMatcher{a: a, done: make([]bool, len(ix.roles)), rules: make([][]int, len(ix.roles)), names: make([]int, len(ix.roles))}
}

// match returns the indexes of r's rules that allow the request, and how
// many rules would have but for resourceNames.
func (m *roleMatcher) match(r *role) ([]int, int) {
	if m.done[r.id] {
		return m.rules[r.id], m.names[r.id]
	}
	var hits []int
	names := 0
	for i := range r.rules {
		rule := &r.rules[i]
		if RuleAllows(m.a, rule) {
			hits = append(hits, i)
		} else if m.a.Name == "" && len(rule.ResourceNames) > 0 && m.a.IsResourceRequest() {
			unnamed := *rule
			unnamed.ResourceNames = nil
			if RuleAllows(m.a, &unnamed) {
				names++
			}
		}
	}
	m.done[r.id], m.rules[r.id], m.names[r.id] = true, hits, names
	return hits, names
}

// broad describes the implicit groups that stand for many identities.
func broad(k subjectKey) string {
	if k.kind != rbacv1.GroupKind {
		return ""
	}
	switch {
	case k.name == GroupAuthenticated:
		return "every authenticated user"
	case k.name == GroupUnauthenticated:
		return "every unauthenticated (anonymous) request"
	case k.name == GroupServiceAccounts:
		return "every service account"
	case strings.HasPrefix(k.name, GroupServiceAccountsPrefix):
		return "every service account in namespace " + strings.TrimPrefix(k.name, GroupServiceAccountsPrefix)
	case k.name == GroupMasters:
		return "allowed everything, needs no binding"
	}
	return ""
}

var kindOrder = map[string]int{rbacv1.UserKind: 0, rbacv1.GroupKind: 1, rbacv1.ServiceAccountKind: 2}

func sortGrants(gs []SubjectGrant) {
	slices.SortStableFunc(gs, func(a, b SubjectGrant) int {
		return cmp.Or(
			cmp.Compare(kindOrder[a.Kind], kindOrder[b.Kind]),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Name, b.Name),
		)
	})
}

// GrantedRule is one rule a subject holds, where, and through which paths.
type GrantedRule struct {
	// Namespace is where the rule applies; "" means cluster-wide.
	Namespace       string   `json:"namespace"`
	APIGroups       []string `json:"apiGroups,omitempty"`
	Resources       []string `json:"resources,omitempty"`
	ResourceNames   []string `json:"resourceNames,omitempty"`
	Verbs           []string `json:"verbs"`
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
	Via             []Path   `json:"via"`
}

// PolicyRule returns the rule without its namespace and paths.
func (g *GrantedRule) PolicyRule() rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: g.APIGroups, Resources: g.Resources, ResourceNames: g.ResourceNames, Verbs: g.Verbs, NonResourceURLs: g.NonResourceURLs}
}

// WhatCanResult is the `WhatCan` document's body.
type WhatCanResult struct {
	Rules      []GrantedRule `json:"rules"`
	Incomplete bool          `json:"incomplete"`
	Warnings   []string      `json:"warnings"`
}

// WhatCan lists every rule id holds, cluster-wide and per namespace, each
// with every path that grants it. namespace, when set, keeps only the
// cluster-wide rules and that namespace's.
func (ix *Index) WhatCan(id Identity, namespace string) WhatCanResult {
	res := WhatCanResult{Rules: []GrantedRule{}, Incomplete: ix.Incomplete(), Warnings: ix.gapWarnings()}
	if res.Warnings == nil {
		res.Warnings = []string{}
	}
	byNS := map[string][]int{}
	add := func(ns string, p Path) {
		for _, i := range byNS[ns] {
			if equality.Semantic.DeepEqual(res.Rules[i].PolicyRule(), p.Rule) {
				res.Rules[i].Via = append(res.Rules[i].Via, p)
				return
			}
		}
		r := p.Rule
		res.Rules = append(res.Rules, GrantedRule{Namespace: ns, APIGroups: r.APIGroups, Resources: r.Resources,
			ResourceNames: r.ResourceNames, Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs, Via: []Path{p}})
		byNS[ns] = append(byNS[ns], len(res.Rules)-1)
	}
	if id.inGroup(GroupMasters) {
		add("", mastersPath)
	}
	for _, b := range ix.candidates(&id) {
		if b.role == nil || !appliesTo(&id, b) {
			continue
		}
		if namespace != "" && b.namespace != "" && b.namespace != namespace {
			continue
		}
		for i := range b.role.rules {
			add(b.namespace, ix.path(b, i))
		}
	}
	slices.SortStableFunc(res.Rules, func(a, b GrantedRule) int { return cmp.Compare(a.Namespace, b.Namespace) })
	return res
}

// candidates are the bindings that may apply to id, from the subject
// index, ClusterRoleBindings first, each once.
func (ix *Index) candidates(id *Identity) []*binding {
	keys := []subjectKey{{kind: rbacv1.UserKind, name: id.Name}}
	for _, g := range id.Groups {
		keys = append(keys, subjectKey{kind: rbacv1.GroupKind, name: g})
	}
	if ns, name, ok := splitServiceAccountUsername(id.Name); ok {
		keys = append(keys, subjectKey{kind: rbacv1.ServiceAccountKind, namespace: ns, name: name})
	}
	seen := map[*binding]bool{}
	var out []*binding
	for _, k := range keys {
		for _, b := range ix.bySubject[k] {
			if !seen[b] {
				seen[b] = true
				out = append(out, b)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *binding) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.ref.Name, b.ref.Name))
	})
	return out
}

// Matches reports whether id is one of the identities the grant's subject
// stands for (the user, a member of the group, the service account).
func (g *SubjectGrant) Matches(id Identity) bool {
	s := rbacv1.Subject{Kind: g.Kind, Name: g.Name, Namespace: g.Namespace}
	return appliesToUser(&id, &s, "")
}
