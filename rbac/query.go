package rbac

import (
	"cmp"
	"slices"
	"sort"
	"strconv"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// CanResult is one decision and its paths.
type CanResult struct {
	Allowed bool `json:"allowed"`
	// Via are every path that allows the request, in the chain's order
	// (system:masters, then ClusterRoleBindings, then RoleBindings of the
	// namespace).
	Via []Path `json:"via"`
	// Nearest, when denied, are the subject's grants that come closest:
	// the right resource with another verb or name, or the same grant in
	// another namespace.
	Nearest []Path `json:"nearest"`
	// Incomplete: a part of the cluster that could grant the request was
	// not read, so a denial is unknown, not denied.
	Incomplete bool      `json:"incomplete"`
	Warnings   []Warning `json:"warnings,omitempty"`
}

// Can decides whether id may make the request, as the chain of
// authorizers (system:masters, then RBAC) would.
func (ix *Index) Can(id Identity, a Attributes) CanResult {
	res := CanResult{Via: []Path{}, Nearest: []Path{}}
	for _, link := range ix.chain {
		res.Via = append(res.Via, link.Allow(&id, &a)...)
	}
	if len(res.Via) > 0 {
		res.Allowed = true
		res.Warnings = ix.warnings
		return res
	}
	res.Incomplete, res.Warnings = ix.completeness(a.Namespace, &id)
	if ws := ix.azureCompleteness(&id, &a); len(ws) > 0 {
		res.Incomplete, res.Warnings = true, append(res.Warnings, ws...)
	}
	res.Warnings = append(res.Warnings, ix.warnings...)
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
	// The binding's own ref: the index outlives its answers' use, and
	// nothing writes through a path's Binding.
	return Path{Binding: &b.ref, Role: b.role.ref, Rule: b.role.rules[rule]}
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
	if ix.azure != nil {
		(*azureAuthorizer)(ix).nearest(id, a, func(p Path, score int) { found = append(found, scored{p, score}) })
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
	// DisplayName is a group's display name, where a names file gives one
	// (or the Azure role assignments).
	DisplayName string `json:"displayName,omitempty"`
	// ObjectID is the Entra object id of a principal Azure RBAC grants.
	ObjectID string `json:"objectId,omitempty"`
	// Broad describes a subject that stands for many identities
	// ("every authenticated user").
	Broad string `json:"broad,omitempty"`
	Via   []Path `json:"via"`
	// Verified is what the cluster's own authorizer said of this answer
	// when asked (--verify): agreed or disagreed; empty when not asked.
	Verified string `json:"verified,omitempty"`
}

// Subject returns the grant's subject.
func (g *SubjectGrant) Subject() Subject {
	if g.Kind == ServicePrincipalKind || g.Kind == ManagedIdentityKind {
		// Kubernetes sees a service principal as the user its object id
		// names.
		return Subject{Kind: UserKind, Name: g.Name, ObjectID: cmp.Or(g.ObjectID, g.Name), PrincipalType: g.Kind}
	}
	s := Subject{Kind: g.Kind, Name: g.Name, Namespace: g.Namespace}
	if g.Kind == UserKind {
		s.ObjectID = g.ObjectID
	}
	return s
}

// WhoCanResult is a who-can answer: every subject allowed, with paths.
type WhoCanResult struct {
	Subjects []SubjectGrant `json:"subjects" document:"stream"`
	// Incomplete: a part of the cluster that could grant the request to
	// more subjects was not read.
	Incomplete bool      `json:"incomplete"`
	Warnings   []Warning `json:"warnings"`
}

// WhoCan lists every subject, as the bindings name them, that the request
// is allowed for, with every path. With allNamespaces the request's
// namespace is ignored and a RoleBinding in any namespace counts (its path
// says which), for a cluster-scoped resource too: the authorizer counts a
// namespace's RoleBindings for any resource asked in that namespace, as
// the gMSA webhook asks `use` on a cluster-scoped credential spec in the
// pod's namespace. Otherwise only the ClusterRoleBindings and the
// RoleBindings of a.Namespace do, exactly as for one request. Non-resource
// URLs are granted by ClusterRoleBindings only, allNamespaces or not.
func (ix *Index) WhoCan(a Attributes, allNamespaces bool) WhoCanResult {
	if !a.IsResourceRequest() {
		allNamespaces = false
	}
	// Each subject's grant is kept in one slice, found by its key: the
	// busiest request (thousands of subjects, tens of thousands of paths)
	// allocated a grant each and sorted the grants themselves.
	slot := map[subjectKey]int32{}
	var grants []SubjectGrant
	var via []pathList // grants[i]'s paths
	var lists pathLists
	grant := func(s rbacv1.Subject, bindingNamespace string, paths ...Path) {
		k := subjectKeyOf(s, bindingNamespace)
		i, ok := slot[k]
		if !ok {
			i = int32(len(grants))
			slot[k] = i
			grants = append(grants, SubjectGrant{Kind: k.kind, Name: k.name, Namespace: k.namespace, Broad: broad(k)})
			via = append(via, pathList{})
		}
		g := &grants[i]
		for j := range paths {
			if z := paths[j].Azure; z != nil && z.Assignment != "" {
				g.ObjectID = z.PrincipalID
				if z.PrincipalName != "" && z.PrincipalName != g.Name && g.DisplayName == "" {
					g.DisplayName = z.PrincipalName
				}
			}
		}
		for j := range paths {
			lists.add(&via[i], paths[j])
		}
	}
	var notes GranteeNotes
	for _, link := range ix.chain {
		n := link.Grantees(&a, allNamespaces, grant)
		notes.Unmatchable += n.Unmatchable
		notes.NamedOnly += n.NamedOnly
	}
	res := WhoCanResult{Subjects: make([]SubjectGrant, 0, len(grants))}
	write := lists.writer()
	for _, i := range sortedGrants(grants) {
		g := grants[i]
		g.Via = write(via[i])
		res.Subjects = append(res.Subjects, g)
	}
	scope := a.Namespace
	if allNamespaces {
		scope = "*"
	}
	res.Incomplete, res.Warnings = ix.completeness(scope, nil)
	if ws := ix.azureGranteeWarnings(&a, allNamespaces); len(ws) > 0 {
		res.Incomplete, res.Warnings = true, append(res.Warnings, ws...)
	}
	res.Warnings = append(res.Warnings, ix.warnings...)
	if notes.Unmatchable > 0 {
		res.Warnings = append(res.Warnings, Warnf(WarnUnmatchable, "some matching bindings name subjects that match nobody (an unknown kind, or a ServiceAccount without a namespace in a ClusterRoleBinding); they are left out"))
	}
	if notes.NamedOnly > 0 && a.Name == "" && a.IsResourceRequest() {
		res.Warnings = append(res.Warnings, Warnf(WarnNamedOnly, "some rules grant this only on named objects (resourceNames), which a request without a name never matches; give NAME to ask about one object"))
	}
	if res.Warnings == nil {
		res.Warnings = []Warning{}
	}
	return res
}

// EachGrantee calls grant with each subject the chain allows the request
// for and the paths of one binding (or assignment) that allow it, in the
// order WhoCan meets them and with WhoCan's scope (allNamespaces as there),
// without gathering an answer: for callers that file the grants their own
// way (the audit's probes, by subject and scope). s is the subject as
// WhoCan's SubjectGrant.Subject gives it; paths is only valid during the
// call. SubjectOrder is WhoCan's order of subjects.
func (ix *Index) EachGrantee(a Attributes, allNamespaces bool, grant func(s Subject, paths []Path)) {
	if !a.IsResourceRequest() {
		allNamespaces = false
	}
	each := func(s rbacv1.Subject, bindingNamespace string, paths ...Path) {
		k := subjectKeyOf(s, bindingNamespace)
		g := SubjectGrant{Kind: k.kind, Name: k.name, Namespace: k.namespace}
		for j := range paths {
			if z := paths[j].Azure; z != nil && z.Assignment != "" {
				g.ObjectID = z.PrincipalID
			}
		}
		grant(g.Subject(), paths)
	}
	for _, link := range ix.chain {
		link.Grantees(&a, allNamespaces, each)
	}
}

// SubjectOrder is the order of WhoCan's subjects: by kind (users, groups,
// service accounts, then Azure's service principals), namespace and name.
func SubjectOrder(a, b Subject) int {
	return cmp.Or(
		cmp.Compare(kindOrder(cmp.Or(a.PrincipalType, a.Kind)), kindOrder(cmp.Or(b.PrincipalType, b.Kind))),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
	)
}

// roleMatcher memoises, per role, which rules allow one request: a
// ClusterRole referenced by thousands of bindings is matched once.
type roleMatcher struct {
	a        *Attributes
	combined string // a's resource/subresource
	done     []bool
	rules    [][]int
	names    []int
}

func newRoleMatcher(ix *Index, a *Attributes) *roleMatcher {
	return &roleMatcher{a: a, combined: combinedResource(a), done: make([]bool, len(ix.roles)), rules: make([][]int, len(ix.roles)), names: make([]int, len(ix.roles))}
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
		if ruleAllows(m.a, m.combined, rule) {
			hits = append(hits, i)
		} else if m.a.Name == "" && len(rule.ResourceNames) > 0 && m.a.IsResourceRequest() {
			unnamed := *rule
			unnamed.ResourceNames = nil
			if ruleAllows(m.a, m.combined, &unnamed) {
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
	case k.name == EveryEntraUser:
		return "every user with an Entra object id (guard's discovery allowance)"
	}
	return ""
}

// kindOrder ranks subject kinds as answers list them.
func kindOrder(kind string) int {
	switch kind {
	case rbacv1.UserKind:
		return 0
	case rbacv1.GroupKind:
		return 1
	case rbacv1.ServiceAccountKind:
		return 2
	case ServicePrincipalKind, ManagedIdentityKind:
		return 3
	}
	return 0
}

// sortedGrants returns the order of gs by kind, namespace and name (each
// subject is once in gs, so the order is total); the grants themselves,
// large and many, are not moved.
func sortedGrants(gs []SubjectGrant) []int32 {
	order := make([]int32, len(gs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(i, j int32) int {
		a, b := &gs[i], &gs[j]
		return cmp.Or(
			cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)),
			cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Name, b.Name),
		)
	})
	return order
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
	// DataActions and NotDataActions are an Azure role's grant (Verbs is
	// then empty): one dataAction, less the permission's carve-outs.
	DataActions    []string `json:"dataActions,omitempty"`
	NotDataActions []string `json:"notDataActions,omitempty"`
	Via            []Path   `json:"via"`
	// Verified is what the cluster's own authorizer said of the requests
	// the rule grants when asked (--verify): agreed, disagreed, or
	// unchecked (left out of a sample); empty when not asked.
	Verified string `json:"verified,omitempty"`
}

// PolicyRule returns the rule without its namespace and paths.
func (g *GrantedRule) PolicyRule() rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: g.APIGroups, Resources: g.Resources, ResourceNames: g.ResourceNames, Verbs: g.Verbs, NonResourceURLs: g.NonResourceURLs}
}

// WhatCanResult is a what-can answer: every rule held, by namespace.
type WhatCanResult struct {
	Rules []GrantedRule `json:"rules" document:"stream"`
	// Incomplete: a part of the cluster that could grant the subject more
	// was not read.
	Incomplete bool      `json:"incomplete"`
	Warnings   []Warning `json:"warnings"`
}

// WhatCan lists every rule id holds, cluster-wide and per namespace, each
// with every path that grants it. namespace, when set, keeps only the
// cluster-wide rules and that namespace's. A rule granted through several
// paths is listed once: rules are told apart by a canonical key (their
// verbs, groups, resources, names and URLs in order, as the aggregation
// controller's semantic equality compares them), so a subject holding
// thousands of rules costs one map look-up per path.
func (ix *Index) WhatCan(id Identity, namespace string) WhatCanResult {
	// Rules are filed by where they apply and what they grant (a rule's
	// canonical form, found once per rule of the index, or an Azure
	// dataAction); each group keeps its paths, and the answer's rules are
	// written once at the end: the heavy user holds thousands.
	type slot struct {
		ns   string
		rule int32
	}
	type group struct {
		ns    string
		paths pathList
	}
	var groups []group
	var lists pathLists
	at := make(map[slot]int, 256)
	ruleIDs := map[string]int32{}
	byRule := map[*rbacv1.PolicyRule]int32{}
	ruleID := func(key string) int32 {
		id, ok := ruleIDs[key]
		if !ok {
			id = int32(len(ruleIDs))
			ruleIDs[key] = id
		}
		return id
	}
	hold := func(ns string, rule *rbacv1.PolicyRule, p Path) {
		var k slot
		switch z := p.Azure; {
		case z != nil:
			k = slot{ns, ruleID("azure\x00" + z.DataAction + "\x00" + strings.Join(z.NotDataActions, "\x00"))}
		case rule != nil:
			id, ok := byRule[rule]
			if !ok {
				id = ruleID(RuleKey(rule))
				byRule[rule] = id
			}
			k = slot{ns, id}
		default:
			k = slot{ns, ruleID(RuleKey(&p.Rule))}
		}
		i, ok := at[k]
		if !ok {
			i = len(groups)
			at[k] = i
			groups = append(groups, group{ns: ns})
		}
		lists.add(&groups[i].paths, p)
	}
	for _, link := range ix.chain {
		link.Holdings(&id, namespace, hold)
	}
	// By namespace, in the order held within one (the index's rules come
	// by namespace already; the order of indexes is sorted, not groups).
	order := make([]int32, len(groups))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(groups[a].ns, groups[b].ns) })
	write := lists.writer()
	res := WhatCanResult{Rules: make([]GrantedRule, len(groups))}
	for i, gi := range order {
		g := &groups[gi]
		via := write(g.paths)
		first := &via[0]
		if z := first.Azure; z != nil {
			res.Rules[i] = GrantedRule{Namespace: g.ns, Verbs: []string{}, DataActions: []string{z.DataAction}, NotDataActions: z.NotDataActions, Via: via}
			continue
		}
		r := &first.Rule
		res.Rules[i] = GrantedRule{Namespace: g.ns, APIGroups: r.APIGroups, Resources: r.Resources,
			ResourceNames: r.ResourceNames, Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs, Via: via}
	}
	scope := namespace
	if scope == "" {
		scope = "*"
	}
	res.Incomplete, res.Warnings = ix.completeness(scope, &id)
	if ws := ix.azureHoldingWarnings(&id); len(ws) > 0 {
		// Deny assignments leave the list as it is (each is said); the
		// rest are grants not known.
		for _, w := range ws {
			if !strings.HasPrefix(w.Message, "deny assignment ") {
				res.Incomplete = true
			}
		}
		res.Warnings = append(res.Warnings, ws...)
	}
	res.Warnings = append(res.Warnings, ix.warnings...)
	if res.Warnings == nil {
		res.Warnings = []Warning{}
	}
	return res
}

// RuleKey is a rule's canonical form: two rules have the same key exactly
// when apimachinery's semantic equality holds between them (the same
// strings in the same order; nil and empty lists alike).
func RuleKey(r *rbacv1.PolicyRule) string {
	var b strings.Builder
	for _, list := range [5][]string{r.Verbs, r.APIGroups, r.Resources, r.ResourceNames, r.NonResourceURLs} {
		b.WriteString(strconv.Itoa(len(list)))
		for _, s := range list {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte(':')
			b.WriteString(s)
		}
		b.WriteByte(';')
	}
	return b.String()
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
		for _, b := range ix.subjects()[k] {
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
