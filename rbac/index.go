package rbac

import (
	"slices"
	"sort"
	"strings"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
)

// role is a Role or ClusterRole with the rules the authorizer would read.
type role struct {
	id    int // position in Index.roles, for per-query memos
	ref   ObjectRef
	rules []rbacv1.PolicyRule
}

// binding is a RoleBinding or ClusterRoleBinding with its role resolved.
type binding struct {
	ref       ObjectRef
	namespace string // "" for a ClusterRoleBinding
	roleRef   rbacv1.RoleRef
	subjects  []rbacv1.Subject
	role      *role // nil when the referenced role does not exist
	// unknown: the role is missing because the input does not hold it
	// (offline), not because the cluster lacks it: what the binding
	// grants is not known.
	unknown bool
	// matched are the subjects that can match an identity
	// (bindingSubjects), made once for every binding on the first
	// Grants (Index.matchedOnce): the audit walks the grants many times.
	matched []Subject
}

func (b *binding) roleObjectRef() ObjectRef {
	ns := ""
	if b.roleRef.Kind == "Role" {
		ns = b.namespace
	}
	return ObjectRef{Kind: b.roleRef.Kind, Name: b.roleRef.Name, Namespace: ns}
}

// subjectKey indexes bindings by the subject they name, for what-can.
type subjectKey struct {
	kind, namespace, name string
}

// Index answers queries over a snapshot. Build it once with NewIndex; it is
// read-only afterwards and safe for concurrent queries.
type Index struct {
	snap *Snapshot

	roles        []*role
	clusterRoles map[string]*role
	nsRoles      map[string]map[string]*role // namespace -> name

	crbs       []*binding
	rbs        map[string][]*binding // namespace -> bindings
	namespaces []string              // namespaces with RoleBindings, sorted

	// bySubject is built on first use (what-can and the binding checks
	// need it; who-can does not).
	subjectsOnce sync.Once
	bySubject    map[subjectKey][]*binding
	// matchedOnce fills every binding's matched subjects, on first use.
	matchedOnce sync.Once

	chain    []Authorizer
	azure    *azureIndex // nil without Azure data
	unknown  []*binding  // bindings whose role the input lacks
	warnings []Warning
}

// NewIndex builds the index. When the snapshot's ClusterRoles do not carry
// aggregated rules (offline input), it computes them as the
// clusterrole-aggregation controller would.
func NewIndex(s *Snapshot) *Index {
	ix := &Index{
		snap:         s,
		clusterRoles: make(map[string]*role, len(s.ClusterRoles)),
		nsRoles:      map[string]map[string]*role{},
		rbs:          map[string][]*binding{},
	}
	clusterRules := make([][]rbacv1.PolicyRule, len(s.ClusterRoles))
	for i := range s.ClusterRoles {
		clusterRules[i] = s.ClusterRoles[i].Rules
	}
	if !s.RulesAggregated {
		var notes []string
		clusterRules, notes = aggregate(s.ClusterRoles)
		for _, n := range notes {
			ix.warnings = append(ix.warnings, Warning{Code: WarnAggregation, Message: n})
		}
	}
	missing := map[ObjectRef]bool{}
	for _, g := range s.Gaps {
		switch {
		case g.Name == "":
		case g.Resource == "clusterroles":
			missing[ObjectRef{Kind: "ClusterRole", Name: g.Name}] = true
		case g.Resource == "roles":
			missing[ObjectRef{Kind: "Role", Name: g.Name, Namespace: g.Namespace}] = true
		}
	}
	for i := range s.ClusterRoles {
		cr := &s.ClusterRoles[i]
		r := ix.addRole(ObjectRef{Kind: "ClusterRole", Name: cr.Name}, clusterRules[i])
		ix.clusterRoles[cr.Name] = r
	}
	for i := range s.Roles {
		ro := &s.Roles[i]
		r := ix.addRole(ObjectRef{Kind: "Role", Name: ro.Name, Namespace: ro.Namespace}, ro.Rules)
		m := ix.nsRoles[ro.Namespace]
		if m == nil {
			m = map[string]*role{}
			ix.nsRoles[ro.Namespace] = m
		}
		m[ro.Name] = r
	}
	// One allocation for all bindings of a kind: tens of thousands of
	// small objects were a tenth of the time to build the index.
	crbs := make([]binding, len(s.ClusterRoleBindings))
	ix.crbs = make([]*binding, len(crbs))
	for i := range s.ClusterRoleBindings {
		crb := &s.ClusterRoleBindings[i]
		b := &crbs[i]
		*b = binding{
			ref:      ObjectRef{Kind: "ClusterRoleBinding", Name: crb.Name},
			roleRef:  crb.RoleRef,
			subjects: crb.Subjects,
		}
		b.role = ix.resolve(crb.RoleRef, "")
		ix.noteUnknown(b, missing)
		ix.crbs[i] = b
	}
	rbs := make([]binding, len(s.RoleBindings))
	for i := range s.RoleBindings {
		rb := &s.RoleBindings[i]
		b := &rbs[i]
		*b = binding{
			ref:       ObjectRef{Kind: "RoleBinding", Name: rb.Name, Namespace: rb.Namespace},
			namespace: rb.Namespace,
			roleRef:   rb.RoleRef,
			subjects:  rb.Subjects,
		}
		b.role = ix.resolve(rb.RoleRef, rb.Namespace)
		ix.noteUnknown(b, missing)
		ix.rbs[rb.Namespace] = append(ix.rbs[rb.Namespace], b)
	}
	for ns := range ix.rbs {
		ix.namespaces = append(ix.namespaces, ns)
	}
	sort.Strings(ix.namespaces)
	ix.chain = []Authorizer{mastersAuthorizer{}, (*rbacAuthorizer)(ix)}
	if s.Azure != nil {
		// guard decides after RBAC (AKS's chain).
		ix.azure = newAzureIndex(s.Azure)
		ix.chain = append(ix.chain, (*azureAuthorizer)(ix))
	}
	return ix
}

func (ix *Index) noteUnknown(b *binding, missing map[ObjectRef]bool) {
	if b.role == nil && missing[b.roleObjectRef()] {
		b.unknown = true
		ix.unknown = append(ix.unknown, b)
	}
}

func (ix *Index) addRole(ref ObjectRef, rules []rbacv1.PolicyRule) *role {
	r := &role{id: len(ix.roles), ref: ref, rules: rules}
	ix.roles = append(ix.roles, r)
	return r
}

// resolve is GetRoleReferenceRules: a Role in the binding's namespace or a
// ClusterRole; any other kind, or a missing role, grants nothing.
func (ix *Index) resolve(ref rbacv1.RoleRef, namespace string) *role {
	switch ref.Kind {
	case "Role":
		return ix.nsRoles[namespace][ref.Name]
	case "ClusterRole":
		return ix.clusterRoles[ref.Name]
	}
	return nil
}

// subjects returns the bindings filed under each subject they name,
// building the map on first use.
func (ix *Index) subjects() map[subjectKey][]*binding {
	ix.subjectsOnce.Do(func() {
		ix.bySubject = map[subjectKey][]*binding{}
		for _, b := range ix.crbs {
			ix.indexSubjects(b)
		}
		for _, ns := range ix.namespaces {
			for _, b := range ix.rbs[ns] {
				ix.indexSubjects(b)
			}
		}
	})
	return ix.bySubject
}

// indexSubjects files the binding under each subject it names, with a
// ServiceAccount's namespace defaulted as appliesToUser defaults it. The
// index only narrows the search: every candidate is checked again with
// appliesToUser.
func (ix *Index) indexSubjects(b *binding) {
	for i := range b.subjects {
		s := &b.subjects[i]
		k := subjectKey{kind: s.Kind, name: s.Name}
		if s.Kind == rbacv1.ServiceAccountKind {
			k.namespace = s.Namespace
			if k.namespace == "" {
				k.namespace = b.namespace
			}
			if k.namespace == "" {
				continue // matches nobody (see appliesToUser)
			}
		}
		list := ix.bySubject[k]
		if n := len(list); n > 0 && list[n-1] == b {
			continue // the same subject twice in one binding
		}
		ix.bySubject[k] = append(list, b)
	}
}

// Snapshot returns the snapshot the index was built from.
func (ix *Index) Snapshot() *Snapshot { return ix.snap }

// Warnings are notes about how the index read the snapshot (aggregated
// roles computed offline, for instance).
func (ix *Index) Warnings() []Warning { return ix.warnings }

// Incomplete reports whether the snapshot has gaps of any kind, or lacks
// the Azure role assignments of a cluster where Azure RBAC decides too:
// the view as a whole (an audit) is then incomplete.
func (ix *Index) Incomplete() bool { return len(ix.snap.Gaps) > 0 || ix.AzureRBACPending() }

// AzureRBACPending says whether Azure RBAC for Kubernetes authorization
// decides after RBAC on the cluster (the load's probe found its webhook in
// the chain) while its role assignments are not in the view: answers
// that could involve an Entra identity are then incomplete.
func (ix *Index) AzureRBACPending() bool {
	p := ix.snap.AzureRBAC
	return p != nil && p.State == ProbeActive && ix.snap.Azure == nil
}

// AzureRBACWarning says why the view is incomplete while AzureRBACPending.
func AzureRBACWarning() Warning {
	return Warnf(WarnAzureRBAC, "Azure RBAC for Kubernetes authorization decides after RBAC on this cluster (its webhook answered the load's probe), "+
		"and Azure role assignments are not read (--azure-rbac reads them; -f takes az role assignment list's JSON): Entra users, groups and service principals may also be allowed by an Azure role "+
		"at the cluster, a namespace or above; this answer covers Kubernetes RBAC only")
}

// AzureRBACUndecidedWarning says why an answer about an Entra identity is
// incomplete while the probe could not tell whether Azure RBAC decides.
func AzureRBACUndecidedWarning(p *Probe) Warning {
	return Warnf(WarnAzureRBAC, "%s: if Azure RBAC for Kubernetes authorization is on (AKS), an Azure role assignment may allow Entra users, groups and service principals what RBAC denies, "+
		"so such answers are unknown, not denied (--azure-rbac reads the assignments; an identity that may create subjectaccessreviews lets the probe tell)", p.Detail)
}

// MayBeEntra says whether Azure RBAC may decide for the identity: guard
// has no opinion on system: users (service accounts, nodes) and on users
// without an Entra object id, whose names are neither a UPN nor an object
// id (certificate users); a group is matched only by an object id. An
// Active Directory identity of AKS hybrid (IsAD) is never Entra's.
func (id *Identity) MayBeEntra() bool {
	if id.Name != "" {
		return !strings.HasPrefix(id.Name, "system:") && !IsAD(id.Name) && (strings.Contains(id.Name, "@") || IsGUID(id.Name))
	}
	return slices.ContainsFunc(id.Groups, IsGUID)
}

// describe names the identity in a message.
func (id *Identity) describe() string {
	if id.Name != "" || len(id.Groups) == 0 {
		return id.Name
	}
	return "group " + id.Groups[0]
}

// IsGUID says whether s is shaped like an Entra object id: a GUID,
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hexadecimal, any case.
func IsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Gaps returns the snapshot's gaps.
func (ix *Index) Gaps() []Gap { return ix.snap.Gaps }

// gapsReaching returns the collection gaps that can hide a grant for a
// request in namespace ("" cluster-scoped, "*" any namespace).
func (ix *Index) gapsReaching(namespace string) []Gap {
	var out []Gap
	for _, g := range ix.snap.Gaps {
		if g.Reaches(namespace) {
			out = append(out, g)
		}
	}
	return out
}

// unknownIn returns the bindings whose role the input lacks that can grant
// a request in namespace ("" cluster-scoped, "*" any), and that apply to id
// when id is not nil.
func (ix *Index) unknownIn(namespace string, id *Identity) []*binding {
	var out []*binding
	for _, b := range ix.unknown {
		if b.namespace != "" && namespace != "*" && b.namespace != namespace {
			continue
		}
		if id != nil && !appliesTo(id, b) {
			continue
		}
		out = append(out, b)
	}
	return out
}

// completeness is what an answer says of the view it was given: incomplete
// when a gap or a binding of unknown rules could hide a grant, with a
// warning for each.
func (ix *Index) completeness(namespace string, id *Identity) (bool, []Warning) {
	var ws []Warning
	for _, g := range ix.gapsReaching(namespace) {
		ws = append(ws, Warning{Code: WarnGap, Message: g.String()})
	}
	for _, b := range ix.unknownIn(namespace, id) {
		ws = append(ws, Warnf(WarnGap, "%s references %s, which is not in the input: what it grants is unknown", b.ref, b.roleObjectRef()))
	}
	incomplete := len(ws) > 0
	if p := ix.snap.AzureRBAC; p != nil && p.State == ProbeUnknown && ix.snap.Azure == nil && (id == nil || id.MayBeEntra()) {
		// Whether Azure RBAC decides after RBAC is not known (the probe
		// lacked a permission): what RBAC denies an Entra identity, an
		// Azure role assignment may allow. Unknown, never "no".
		ws, incomplete = append(ws, AzureRBACUndecidedWarning(p)), true
	}
	if ix.AzureRBACPending() {
		// who-can (no identity) may lack any Entra identity; an identity
		// Azure has no opinion on is decided by RBAC alone.
		if id == nil || id.MayBeEntra() {
			ws, incomplete = append(ws, AzureRBACWarning()), true
		} else {
			ws = append(ws, Warnf(WarnAzureRBAC, "Azure RBAC for Kubernetes authorization decides after RBAC on this cluster, but has no opinion on "+
				"service accounts, nodes, system: users, users without an Entra object id or groups not named by one: for %s this answer is complete", id.describe()))
		}
	}
	return incomplete, ws
}

// Names reports whether any binding names s directly (by user name, group
// name or service account), ignoring implicit groups.
func (ix *Index) Names(s Subject) bool {
	if d := ix.snap.Azure; d != nil && s.Kind != ServiceAccountKind {
		// An Azure role assignment names it (by object id or name).
		for _, id := range []string{s.ObjectID, s.Name, d.ObjectID(s.Name)} {
			if id != "" && d.PrincipalAssigned(id) {
				return true
			}
		}
	}
	k := subjectKey{kind: s.Kind, name: s.Name}
	if s.Kind == ServiceAccountKind {
		k.namespace = s.Namespace
		if len(ix.subjects()[subjectKey{kind: UserKind, name: ServiceAccountUsernamePrefix + s.Namespace + ":" + s.Name}]) > 0 {
			return true
		}
	}
	return len(ix.subjects()[k]) > 0
}

// BindingsComplete says whether every RoleBinding and ClusterRoleBinding
// was read: only then can "no binding names X" be said.
func (ix *Index) BindingsComplete() bool {
	for _, g := range ix.snap.Gaps {
		if (g.Resource == "rolebindings" || g.Resource == "clusterrolebindings") && g.Name == "" {
			return false
		}
	}
	return true
}
