package rbac

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// AzurePath is the provenance of a grant by Azure RBAC for Kubernetes
// authorization: a role assignment, at its scope, of a role definition
// whose dataAction matches. In documents it is a path of its own kind,
// {"azure": {...}}, in place of binding, role and rule.
type AzurePath struct {
	// Assignment is the role assignment's resource id; empty for guard's
	// own allowance of discovery paths (RoleName says so).
	Assignment       string `json:"assignment"`
	Scope            string `json:"scope"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"`
	PrincipalName    string `json:"principalName,omitempty"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	RoleName         string `json:"roleName"`
	// DataAction is the role's dataAction that matched (with what-can,
	// each one the role holds).
	DataAction string `json:"dataAction"`
	// NotDataActions are the carve-outs of the permission the dataAction
	// is in (what-can).
	NotDataActions []string `json:"notDataActions,omitempty"`
}

// Azure principal types (ARM's principalType).
const (
	AzureUser             = "User"
	AzureGroup            = "Group"
	AzureServicePrincipal = "ServicePrincipal"
	// ServicePrincipalKind is the subject kind of a service principal or
	// managed identity that only Azure names (Kubernetes sees its object id
	// as a user name).
	ServicePrincipalKind = "ServicePrincipal"
	// ManagedIdentityKind is a service principal the directory says is a
	// managed identity.
	ManagedIdentityKind = "ManagedIdentity"
)

// discoveryRole names guard's allowance of discovery paths in a path.
const discoveryRole = "guard: discovery paths (get /api, /apis, /openapi, /version, /healthz) are allowed to every Entra user"

// EveryEntraUser is the who-can subject for guard's discovery allowance.
const EveryEntraUser = "(every Entra user)"

func (p *AzurePath) String() string {
	if p.Assignment == "" {
		return "Azure RBAC: " + p.RoleName
	}
	who := p.PrincipalName
	if who == "" {
		who = p.PrincipalID
	}
	return fmt.Sprintf("Azure role assignment %s at %s -> role %q -> %s (to %s %s)", shortID(p.Assignment), AzureScopeName(p.Scope), p.RoleName, p.DataAction, strings.ToLower(p.PrincipalType), who)
}

// shortID is the last segment of an Azure resource id (an assignment's
// GUID).
func shortID(id string) string {
	if i := strings.LastIndexByte(strings.TrimSuffix(id, "/"), '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// azureIndex files the assignments that reach the cluster by where they
// apply, each with its role resolved once: a who-can in one namespace
// reads the cluster's and that namespace's, not all of them.
type azureIndex struct {
	cluster []azEntry            // at the cluster and above
	byNS    map[string][]azEntry // lower-case namespace -> its scope's
	// special are the assignments no grant is drawn from but answers
	// must mention: a condition, or a role not read.
	special []azEntry
	// userNamed: every assignment to a user names its principal.
	userNamed bool
	// all are every assignment's entry, by its index in the data (a nil
	// a: it does not reach the cluster).
	all []azEntry
}

type azEntry struct {
	subj rbacv1.Subject // as who-can names the principal
	a    *azurerbac.Assignment
	role *azurerbac.RoleDefinition // nil when not read
	ns   string                    // "" at the cluster and above
}

func newAzureIndex(d *azurerbac.Data) *azureIndex {
	x := &azureIndex{byNS: map[string][]azEntry{}, userNamed: true, all: make([]azEntry, len(d.Assignments))}
	for i := range d.Assignments {
		a := &d.Assignments[i]
		ns, ok := azureScopeOf(d, a.Scope)
		if !ok {
			continue // another scope's (a managed identity's assignments elsewhere)
		}
		if a.PrincipalName == "" && !strings.EqualFold(a.PrincipalType, AzureGroup) {
			x.userNamed = false
		}
		r, _ := d.Role(a.RoleDefinitionID)
		e := azEntry{subj: azureSubject(a), a: a, role: r, ns: ns}
		x.all[i] = e
		if r == nil || a.Condition != "" {
			x.special = append(x.special, e)
		}
		if ns == "" {
			x.cluster = append(x.cluster, e)
		} else {
			k := strings.ToLower(ns)
			x.byNS[k] = append(x.byNS[k], e)
		}
	}
	return x
}

// entries are the assignments that may apply to a request in namespace
// ("" cluster-scoped; with all, any namespace's too), calling fn with
// each and the scope its request is checked at.
func (x *azureIndex) entries(d *azurerbac.Data, namespace string, all bool, fn func(e *azEntry, requestScope string)) {
	clusterScope := azurerbac.Scope(d.ClusterID, namespace)
	if all {
		// In any namespace: a cluster-wide grant is asked at the cluster,
		// where a namespace's deny assignment does not reach (it still
		// allows in the other namespaces).
		clusterScope = d.ClusterID
	}
	for i := range x.cluster {
		fn(&x.cluster[i], clusterScope)
	}
	switch {
	case all:
		for _, es := range x.byNS {
			scope := azurerbac.Scope(d.ClusterID, es[0].ns)
			for i := range es {
				fn(&es[i], scope)
			}
		}
	case namespace != "":
		es := x.byNS[strings.ToLower(namespace)]
		for i := range es {
			fn(&es[i], clusterScope)
		}
	}
}

// roleMatch memoises, per role, the dataAction that matches one action:
// thousands of assignments share a handful of roles.
type roleMatch struct {
	action string
	memo   map[*azurerbac.RoleDefinition]string
}

func (m *roleMatch) of(r *azurerbac.RoleDefinition) string {
	if da, ok := m.memo[r]; ok {
		return da
	}
	da := r.Matching(m.action)
	m.memo[r] = da
	return da
}

// azureAuthorizer is the guard webhook after RBAC, over the snapshot's
// Azure role assignments.
type azureAuthorizer Index

var _ Authorizer = (*azureAuthorizer)(nil)

func (*azureAuthorizer) Name() string { return "Azure RBAC" }

func (z *azureAuthorizer) data() *azurerbac.Data {
	if d := z.snap.Azure; d != nil && (*Index)(z).guardDecides() {
		return d
	}
	return nil
}

// guardDecides says whether guard is in the chain: as the live probe
// found it when it found it active (the authorizer's own word wins over
// any setting read), else as the managed cluster's settings say (offline).
func (ix *Index) guardDecides() bool {
	if p := ix.snap.AzureRBAC; p != nil && p.State == ProbeActive {
		return true
	} else if p != nil && p.State == ProbeInactive {
		return false // the chain has no guard: assignments open doors only
	}
	return ix.snap.Azure != nil && ix.snap.Azure.GuardDecides()
}

// AzureLoaded says whether the view holds the cluster's Azure role
// assignments (the chain then has Azure RBAC's link).
func (ix *Index) AzureLoaded() bool { return ix.snap.Azure != nil && ix.guardDecides() }

// azureRequest is guard's view of a request.
func azureRequest(a *Attributes) azurerbac.Request {
	return azurerbac.Request{Verb: a.Verb, APIGroup: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Namespace: a.Namespace, Path: a.Path}
}

// principalOf is how guard sees id: no opinion for system: users and for
// users without an object id; a user by its object id (extra.oid) with its
// groups that are object ids; a group subject (a nameless member) by the
// group. unknown is set when Azure may decide for id but its object id is
// not known.
func (z *azureAuthorizer) principalOf(id *Identity) (p azurerbac.Principal, ok bool, unknown string) {
	var groups []string
	for _, g := range id.Groups {
		if IsGUID(g) {
			groups = append(groups, g)
		}
	}
	if id.Name == "" {
		return azurerbac.Principal{Groups: groups}, len(groups) > 0, ""
	}
	if strings.HasPrefix(strings.ToLower(id.Name), "system:") {
		return p, false, ""
	}
	oid := id.ObjectID
	if oid == "" && IsGUID(id.Name) {
		oid = id.Name // a service principal's user name is its object id
	}
	if oid == "" && id.MayBeEntra() {
		oid = z.data().ObjectID(id.Name)
	}
	if oid == "" {
		if !id.MayBeEntra() {
			return p, false, "" // a certificate user: guard has no opinion
		}
		if z.userAssignmentsNamed() {
			// Every user assignment names its principal and none names
			// this one: its groups' grants are its own, but an assignment
			// to it under another name (a guest's #EXT# UPN, a renamed
			// user) is not excluded: a denial stays unknown.
			return azurerbac.Principal{ObjectID: "", Groups: groups}, true, fmt.Sprintf("no Azure role assignment names %s, but one may name its object id under another UPN (a guest's, or before a rename): give --oid OBJECT_ID to decide for it", id.Name)
		}
		return p, false, fmt.Sprintf("Azure RBAC may allow %s through a role assignment to its object id, which is not known "+
			"(no assignment names it and some name no principal): give --oid OBJECT_ID", id.Name)
	}
	return azurerbac.Principal{ObjectID: oid, Groups: groups}, true, ""
}

// userAssignmentsNamed says whether every assignment to a user names its
// principal (az role assignment list does): a user no assignment names
// then holds none of its own.
func (z *azureAuthorizer) userAssignmentsNamed() bool { return z.azure.userNamed }

func azurePath(g azurerbac.Grant) Path {
	return assignmentPath(&g.Assignment, g.Role.Name, g.DataAction)
}

func assignmentPath(a *azurerbac.Assignment, roleName, dataAction string) Path {
	p := azurePathOf(a, roleName, dataAction)
	return Path{Azure: &p}
}

func azurePathOf(a *azurerbac.Assignment, roleName, dataAction string) AzurePath {
	return AzurePath{
		Assignment: a.ID, Scope: a.Scope,
		PrincipalID: a.PrincipalID, PrincipalType: a.PrincipalType, PrincipalName: a.PrincipalName,
		RoleDefinitionID: a.RoleDefinitionID, RoleName: roleName, DataAction: dataAction,
	}
}

func discoveryPath(a *Attributes) Path {
	return Path{Azure: &AzurePath{RoleName: discoveryRole, DataAction: azurerbac.DataAction(azurerbac.ClusterType, azureRequest(a))}}
}

// decide is guard's decision for id's request.
func (z *azureAuthorizer) decide(id *Identity, a *Attributes) (azurerbac.Decision, bool, string) {
	p, ok, unknown := z.principalOf(id)
	if !ok {
		return azurerbac.Decision{}, false, unknown
	}
	d := z.data()
	r := azureRequest(a)
	return d.Decide(p, azurerbac.DataAction(d.Prefix(), r), azurerbac.Scope(d.ClusterID, a.Namespace)), true, ""
}

func (z *azureAuthorizer) Allow(id *Identity, a *Attributes) []Path {
	if z.data() == nil {
		return nil
	}
	if _, ok, _ := z.principalOf(id); ok && id.Name != "" && azurerbac.DiscoveryAllowed(azureRequest(a)) {
		return []Path{discoveryPath(a)}
	}
	dec, ok, _ := z.decide(id, a)
	if !ok || !dec.Allowed || dec.Unknown() {
		return nil
	}
	out := make([]Path, 0, len(dec.Via))
	for _, g := range dec.Via {
		out = append(out, azurePath(g))
	}
	return out
}

// azureCompleteness is what Azure leaves unknown about id's request that
// the chain denied: the object id is not known, an assignment with a
// condition or of an unknown role could allow it, a conditional deny
// assignment could undo Azure's allow, or the Azure data has gaps.
func (ix *Index) azureCompleteness(id *Identity, a *Attributes) []Warning {
	z := (*azureAuthorizer)(ix)
	_, ws, ok := z.known(id)
	if !ok {
		return ws
	}
	dec, _, _ := z.decide(id, a)
	for _, c := range dec.Conditional {
		ws = append(ws, Warnf(WarnAzureRBAC, "Azure role assignment %s to %s carries a condition, which is not evaluated: it may allow this (%s)", c.ID, c.PrincipalID, c.Condition))
	}
	for _, r := range dec.MissingRoles {
		ws = append(ws, Warnf(WarnAzureRBAC, "an Azure role assignment names role definition %s, which was not read: what it grants is unknown", r))
	}
	if dec.Allowed && dec.ConditionalDeny != nil {
		ws = append(ws, Warnf(WarnAzureRBAC, "Azure RBAC would allow this, but deny assignment %s carries a condition, which is not evaluated: it may deny it", dec.ConditionalDeny.ID))
	}
	return ws
}

// known is what Azure's answers about id start from: its principal and
// the warnings every such answer carries (its object id not known, the
// Azure data's gaps); ok false when Azure has no say (no data, or guard
// has no opinion on id, or cannot tell which principal it is).
func (z *azureAuthorizer) known(id *Identity) (p azurerbac.Principal, ws []Warning, ok bool) {
	if z.data() == nil {
		return p, nil, false
	}
	p, ok, unknown := z.principalOf(id)
	if unknown != "" {
		ws = append(ws, Warning{Code: WarnAzureRBAC, Message: unknown})
	}
	if !ok {
		return p, ws, false
	}
	for _, g := range z.data().Gaps {
		ws = append(ws, Warnf(WarnAzureRBAC, "could not read Azure RBAC data: %s", g))
	}
	return p, ws, true
}

// azureScopeOf says where an assignment's scope applies: "" for the
// cluster and every scope above it, the namespace for a namespace's
// scope, and ok false for a scope that does not reach the cluster.
func azureScopeOf(d *azurerbac.Data, scope string) (string, bool) {
	lower, cluster := strings.ToLower(strings.TrimSuffix(scope, "/")), strings.ToLower(d.ClusterID)
	if rest, ok := strings.CutPrefix(lower, cluster+"/namespaces/"); ok && !strings.Contains(rest, "/") {
		return scope[len(scope)-len(rest):], true
	}
	return "", d.Reaches(scope, d.ClusterID)
}

// denied says whether a deny assignment without a condition stops the
// principal's grant of action at requestScope.
func denied(d *azurerbac.Data, denies []azurerbac.DenyAssignment, p azurerbac.Principal, action, requestScope string) bool {
	for i := range denies {
		x := &denies[i]
		if x.Condition == "" && d.Covers(x, p, action, requestScope) {
			return true
		}
	}
	return false
}

// principalOfAssignment is how an assignment's principal would be asked
// about: a group as a nameless member, anyone else by object id.
func principalOfAssignment(a *azurerbac.Assignment) azurerbac.Principal {
	if strings.EqualFold(a.PrincipalType, AzureGroup) {
		return azurerbac.Principal{Groups: []string{a.PrincipalID}}
	}
	return azurerbac.Principal{ObjectID: a.PrincipalID}
}

// azureSubject is how who-can names an Azure principal: a user by its
// name (UPN) where the assignments give one, else its object id; a group
// by its object id (as RBAC bindings name Entra groups), its name the
// display name; a service principal by its object id (its Kubernetes user
// name).
func azureSubject(a *azurerbac.Assignment) rbacv1.Subject {
	switch {
	case strings.EqualFold(a.PrincipalType, AzureGroup):
		return rbacv1.Subject{Kind: rbacv1.GroupKind, Name: a.PrincipalID}
	case strings.EqualFold(a.PrincipalType, AzureServicePrincipal) && a.ManagedIdentity:
		return rbacv1.Subject{Kind: ManagedIdentityKind, Name: a.PrincipalID}
	case strings.EqualFold(a.PrincipalType, AzureServicePrincipal):
		return rbacv1.Subject{Kind: ServicePrincipalKind, Name: a.PrincipalID}
	case a.PrincipalName != "":
		return rbacv1.Subject{Kind: rbacv1.UserKind, Name: a.PrincipalName}
	}
	return rbacv1.Subject{Kind: rbacv1.UserKind, Name: a.PrincipalID}
}

func (z *azureAuthorizer) Grantees(a *Attributes, allNamespaces bool, grant func(rbacv1.Subject, string, ...Path)) GranteeNotes {
	d := z.data()
	if d == nil {
		return GranteeNotes{}
	}
	r := azureRequest(a)
	if azurerbac.DiscoveryAllowed(r) {
		grant(rbacv1.Subject{Kind: rbacv1.GroupKind, Name: EveryEntraUser}, "", discoveryPath(a))
	}
	m := roleMatch{action: azurerbac.DataAction(d.Prefix(), r), memo: map[*azurerbac.RoleDefinition]string{}}
	// Only the deny assignments of this action can stop a grant (few, if
	// any, of them); the paths are allocated together.
	var denies []azurerbac.DenyAssignment
	for _, x := range d.Denies {
		if azurerbac.Allows(x.Permissions, m.action) {
			denies = append(denies, x)
		}
	}
	var paths []AzurePath
	z.azure.entries(d, a.Namespace, allNamespaces, func(e *azEntry, requestScope string) {
		if e.a.Condition != "" || e.role == nil {
			return // said by azureGranteeWarnings
		}
		da := m.of(e.role)
		if da == "" || len(denies) > 0 && denied(d, denies, principalOfAssignment(e.a), m.action, requestScope) {
			return
		}
		if len(paths) == cap(paths) {
			paths = make([]AzurePath, 0, 256)
		}
		paths = append(paths, azurePathOf(e.a, e.role.Name, da))
		grant(e.subj, "", Path{Azure: &paths[len(paths)-1]})
	})
	return GranteeNotes{}
}

// azureGranteeWarnings say what who-can cannot decide for Azure: gaps,
// conditional assignments and unknown roles that could grant the request.
func (ix *Index) azureGranteeWarnings(a *Attributes, allNamespaces bool) []Warning {
	d := (*azureAuthorizer)(ix).data()
	if d == nil {
		return nil
	}
	var ws []Warning
	for _, g := range d.Gaps {
		ws = append(ws, Warnf(WarnAzureRBAC, "could not read Azure RBAC data: %s", g))
	}
	action := azurerbac.DataAction(d.Prefix(), azureRequest(a))
	for _, e := range ix.azure.special {
		if e.ns != "" && !allNamespaces && !strings.EqualFold(e.ns, a.Namespace) {
			continue
		}
		switch {
		case e.role == nil:
			ws = append(ws, Warnf(WarnAzureRBAC, "Azure role assignment %s names role definition %s, which was not read: what it grants %s is unknown", e.a.ID, e.a.RoleDefinitionID, e.a.PrincipalID))
		case e.role.Matching(action) != "":
			ws = append(ws, Warnf(WarnAzureRBAC, "Azure role assignment %s of %q to %s carries a condition, which is not evaluated: it may allow this (%s)", e.a.ID, e.role.Name, e.a.PrincipalID, e.a.Condition))
		}
	}
	for i := range d.Denies {
		x := &d.Denies[i]
		if !azurerbac.Allows(x.Permissions, action) {
			continue
		}
		switch {
		case x.Condition != "":
			ws = append(ws, Warnf(WarnAzureRBAC, "deny assignment %s carries a condition, which is not evaluated: it may deny this to some of the Azure principals listed", x.ID))
		case len(x.ExcludePrincipals) > 0 || slices.ContainsFunc(x.Principals, func(p string) bool { return p != azurerbac.Everyone }):
			// A deny naming a group (or excluding one) stops (or spares)
			// its members: who-can lists principals, not members.
			ws = append(ws, Warnf(WarnAzureRBAC, "deny assignment %s names or excludes principals by object id (groups among them, perhaps): a user listed may be denied through a group it is in, or one left out spared; ask can for a user to be sure", x.ID))
		}
	}
	return ws
}

// held calls fn with each assignment that names id (by object id or a
// group) and reaches the cluster, its role known and without a condition
// (those are said by the answers' warnings).
func (z *azureAuthorizer) held(id *Identity, fn func(e *azEntry)) {
	d := z.data()
	if d == nil {
		return
	}
	p, ok, _ := z.principalOf(id)
	if !ok {
		return
	}
	for _, i := range d.AssignmentIndexesOf(append([]string{p.ObjectID}, p.Groups...)) {
		if e := &z.azure.all[i]; e.a != nil && e.a.Condition == "" && e.role != nil {
			fn(e)
		}
	}
}

func (z *azureAuthorizer) Holdings(id *Identity, namespace string, hold func(string, *rbacv1.PolicyRule, Path)) {
	z.held(id, func(e *azEntry) {
		if namespace != "" && e.ns != "" && !strings.EqualFold(e.ns, namespace) {
			return
		}
		for _, perm := range e.role.Permissions {
			for _, da := range perm.DataActions {
				path := assignmentPath(e.a, e.role.Name, da)
				path.Azure.NotDataActions = perm.NotDataActions
				hold(e.ns, nil, path)
			}
		}
	})
}

// nearestVerbs are the verbs whose actions nearest tries for "another
// action on the same resource".
var nearestVerbs = []string{"get", "create", "update", "delete", "use", "bind", "escalate", "impersonate", "*"}

// nearest adds, for a denied request, the Azure grants closest to it, as
// RBAC's nearest scores them: 3, the principal holds another action on the
// resource where the request is asked; 2, an action on the parent of a
// subresource (pods for pods/exec); 1, this action held in another
// namespace. Assignments with a condition or an unknown role are said by
// the answer's warnings, not here.
func (z *azureAuthorizer) nearest(id *Identity, a *Attributes, add func(Path, int)) {
	d := z.data()
	if d == nil {
		return
	}
	r := azureRequest(a)
	action := azurerbac.DataAction(d.Prefix(), r)
	var others []string // the resource's other actions
	for _, v := range nearestVerbs {
		o := r
		o.Verb = v
		if x := azurerbac.DataAction(d.Prefix(), o); x != action && !slices.Contains(others, x) {
			others = append(others, x)
		}
	}
	var parent []string // a subresource's parent's actions, this one first
	if r.Subresource != "" {
		for _, v := range append([]string{r.Verb}, nearestVerbs...) {
			o := r
			o.Verb, o.Subresource = v, ""
			if x := azurerbac.DataAction(d.Prefix(), o); !slices.Contains(parent, x) {
				parent = append(parent, x)
			}
		}
	}
	z.held(id, func(e *azEntry) {
		here := e.ns == "" || strings.EqualFold(e.ns, a.Namespace)
		switch {
		case here:
			for _, o := range others {
				if da := e.role.Matching(o); da != "" {
					add(assignmentPath(e.a, e.role.Name, da), 3)
					break
				}
			}
			for _, o := range parent {
				if da := e.role.Matching(o); da != "" {
					add(assignmentPath(e.a, e.role.Name, da), 2)
					break
				}
			}
		case a.Namespace != "" && a.IsResourceRequest():
			if da := e.role.Matching(action); da != "" {
				add(assignmentPath(e.a, e.role.Name, da), 1)
			}
		}
	})
}

// azureHoldingWarnings say what what-can leaves out for id: conditional
// assignments, unknown roles, and deny assignments that take precedence
// over some of the grants listed.
func (ix *Index) azureHoldingWarnings(id *Identity) []Warning {
	z := (*azureAuthorizer)(ix)
	p, ws, ok := z.known(id)
	if !ok {
		return ws
	}
	d := z.data()
	for _, as := range d.AssignmentsOf(append([]string{p.ObjectID}, p.Groups...)) {
		if _, ok := azureScopeOf(d, as.Scope); !ok {
			continue
		}
		if _, ok := d.Role(as.RoleDefinitionID); !ok {
			ws = append(ws, Warnf(WarnAzureRBAC, "Azure role assignment %s names role definition %s, which was not read: what it grants is unknown", as.ID, as.RoleDefinitionID))
		} else if as.Condition != "" {
			ws = append(ws, Warnf(WarnAzureRBAC, "Azure role assignment %s carries a condition, which is not evaluated: its grants are left out (%s)", as.ID, as.Condition))
		}
	}
	for i := range d.Denies {
		if x := &d.Denies[i]; x.Names(p) {
			ws = append(ws, Warnf(WarnAzureRBAC, "deny assignment %s at %s takes precedence over the Azure grants listed for the dataActions it names", x.ID, x.Scope))
		}
	}
	return ws
}

// AzureScopeName names an Azure scope briefly: "namespace web of cluster
// aks-prod", "cluster aks-prod", "resource group rg", "subscription S",
// "management group MG", else the scope itself.
func AzureScopeName(scope string) string {
	parts := strings.Split(strings.Trim(scope, "/"), "/")
	n := len(parts)
	at := func(key string) string {
		for i := n - 2; i >= 0; i-- {
			if strings.EqualFold(parts[i], key) {
				return parts[i+1]
			}
		}
		return ""
	}
	switch {
	case n >= 2 && strings.EqualFold(parts[n-2], "namespaces"):
		return "namespace " + parts[n-1] + " of cluster " + cmpOr(at("managedClusters"), at("connectedClusters"))
	case n >= 2 && (strings.EqualFold(parts[n-2], "managedClusters") || strings.EqualFold(parts[n-2], "connectedClusters")):
		return "cluster " + parts[n-1]
	case n >= 2 && strings.EqualFold(parts[n-2], "resourceGroups"):
		return "resource group " + parts[n-1]
	case n == 2 && strings.EqualFold(parts[0], "subscriptions"):
		return "subscription " + parts[1]
	case n >= 2 && strings.EqualFold(parts[n-2], "managementGroups"):
		return "management group " + parts[n-1]
	case scope == "/":
		return "root (/)"
	}
	return scope
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Brief renders the path in a table's cell: the role and its scope.
func (p *AzurePath) Brief() string {
	if p.Assignment == "" {
		return "Azure RBAC: discovery paths (guard)"
	}
	return fmt.Sprintf("Azure %q at %s", p.RoleName, AzureScopeName(p.Scope))
}

// AzureNamespace is the namespace an Azure path's scope is, "" for the
// cluster's scope and those above it.
func (p *AzurePath) AzureNamespace() string {
	parts := strings.Split(strings.Trim(p.Scope, "/"), "/")
	if n := len(parts); n >= 4 && strings.EqualFold(parts[n-2], "namespaces") &&
		(strings.EqualFold(parts[n-4], "managedClusters") || strings.EqualFold(parts[n-4], "connectedClusters")) {
		return parts[n-1]
	}
	return ""
}

// GrantNamespace is where the path grants: the RoleBinding's namespace or
// the Azure assignment's namespace scope; "" cluster-wide (a
// ClusterRoleBinding, system:masters, an Azure scope at the cluster or
// above).
func (p *Path) GrantNamespace() string {
	switch {
	case p.Azure != nil:
		return p.Azure.AzureNamespace()
	case p.Binding != nil:
		return p.Binding.Namespace
	}
	return ""
}

// AzureAllow is Azure RBAC's link alone: the paths by which it allows
// id's request (none without Azure data, or when Azure cannot decide).
func (ix *Index) AzureAllow(id Identity, a Attributes) []Path {
	if ix.snap.Azure == nil {
		return nil
	}
	return (*azureAuthorizer)(ix).Allow(&id, &a)
}

// AzureResource reads the resource a concrete dataAction of the cluster
// names ("Microsoft.ContainerService/managedClusters/apps/deployments/read"
// is group apps, resource deployments; ".../pods/exec/action" is pods/exec),
// for listing it; ok false for wildcards and what it cannot tell apart
// from a non-resource URL.
func AzureResource(dataAction string) (group, resource string, ok bool) {
	rest := dataAction
	for _, prefix := range []string{"Microsoft.ContainerService/managedClusters/", "Microsoft.Kubernetes/connectedClusters/", "Microsoft.ContainerService/fleets/"} {
		if len(rest) > len(prefix) && strings.EqualFold(rest[:len(prefix)], prefix) {
			rest = rest[len(prefix):]
			break
		}
	}
	parts := strings.Split(rest, "/")
	if len(parts) >= 2 && strings.Contains(parts[0], ".") {
		group, parts = parts[0], parts[1:]
	}
	if len(parts) < 2 || parts[0] == "" || strings.Contains(parts[0], "*") {
		return "", "", false
	}
	if parts[0] == "pods" && parts[1] == "exec" {
		return group, "pods/exec", true
	}
	return group, parts[0], true
}

// AzurePrincipal is the subject one Azure role assignment names.
type AzurePrincipal struct {
	Subject    Subject
	Assignment string // the assignment's id
}

// AzurePrincipals are the subjects Azure role assignments reaching the
// cluster name, one per assignment (as who-can names them: a user by its
// UPN with its object id, a group or service principal by its object id).
func (ix *Index) AzurePrincipals() []AzurePrincipal {
	d := (*azureAuthorizer)(ix).data() // guard's assignments: access only where it decides
	if d == nil {
		return nil
	}
	var out []AzurePrincipal
	for i := range d.Assignments {
		a := &d.Assignments[i]
		if _, ok := azureScopeOf(d, a.Scope); !ok {
			continue
		}
		s := azureSubject(a)
		sub := Subject{Kind: s.Kind, Name: s.Name, ObjectID: a.PrincipalID}
		if s.Kind == ServicePrincipalKind || s.Kind == ManagedIdentityKind {
			// Kubernetes sees its object id as a user name.
			sub.Kind, sub.PrincipalType = UserKind, s.Kind
		}
		if sub.Kind == GroupKind {
			sub.ObjectID, sub.DisplayName = "", a.PrincipalName
		}
		out = append(out, AzurePrincipal{Subject: sub, Assignment: a.ID})
	}
	return out
}
