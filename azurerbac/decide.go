package azurerbac

import (
	"path"
	"slices"
	"strings"
	"sync"
)

// Assignment is an Azure role assignment as ARM (and az role assignment
// list) gives it.
type Assignment struct {
	ID               string `json:"id"`
	Scope            string `json:"scope"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"` // User, Group, ServicePrincipal
	PrincipalName    string `json:"principalName,omitempty"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	// Condition is an ABAC condition: not evaluated here, so an
	// assignment with one makes an answer it could change unknown.
	Condition string `json:"condition,omitempty"`
	// ManagedIdentity: the directory says the service principal is a
	// managed identity (ARM's principalType says ServicePrincipal for
	// both); set by Data.Name.
	ManagedIdentity bool `json:"-"`
}

// RoleDefinition is a built-in or custom role.
type RoleDefinition struct {
	ID          string       `json:"id"`
	Name        string       `json:"roleName"`
	Permissions []Permission `json:"permissions"`
}

// DenyAssignment takes precedence over every role assignment (it cannot
// undo a Kubernetes RBAC allow: RBAC decides first).
type DenyAssignment struct {
	ID                      string       `json:"id"`
	Scope                   string       `json:"scope"`
	Permissions             []Permission `json:"permissions"`
	Principals              []string     `json:"principals"` // object ids; Everyone for all
	ExcludePrincipals       []string     `json:"excludePrincipals,omitempty"`
	DoNotApplyToChildScopes bool         `json:"doNotApplyToChildScopes,omitempty"`
	// Condition: a deny assignment with a condition may or may not apply;
	// not evaluated, so an answer it could change is unknown.
	Condition string `json:"condition,omitempty"`
}

// Everyone is the principal id a deny assignment names for all principals.
const Everyone = "00000000-0000-0000-0000-000000000000"

// Principal is who a request comes from, as guard sees it: the user's
// object id (extra.oid) and its groups that are object ids.
type Principal struct {
	ObjectID string
	Groups   []string
}

// Is says whether id is the principal's object id or one of its groups.
func (p Principal) Is(id string) bool { return p.is(id) }

func (p Principal) is(id string) bool {
	if strings.EqualFold(id, p.ObjectID) {
		return true
	}
	for _, g := range p.Groups {
		if strings.EqualFold(id, g) {
			return true
		}
	}
	return false
}

// Grant is one assignment that allows a request, with its role and the
// role's dataAction that matched.
type Grant struct {
	Assignment Assignment
	Role       RoleDefinition
	DataAction string
}

// Decision is Azure RBAC's answer for one principal, dataAction and scope.
type Decision struct {
	Allowed bool
	Via     []Grant
	// DeniedBy is the deny assignment that takes precedence, if any.
	DeniedBy *DenyAssignment
	// Conditional are the assignments that would apply but carry an ABAC
	// condition, not evaluated: when set and not Allowed, the answer is
	// unknown.
	Conditional []Assignment
	// MissingRoles are role definition ids assignments name that are not
	// known: what they grant is unknown.
	MissingRoles []string
	// ConditionalDeny is a deny assignment with a condition that would
	// otherwise cover the request: the answer is unknown when allowed.
	ConditionalDeny *DenyAssignment
}

// Unknown says the answer could not be decided: a conditional assignment
// or an unknown role could allow what is otherwise denied.
func (d Decision) Unknown() bool {
	if d.DeniedBy != nil {
		return false
	}
	if d.Allowed {
		return d.ConditionalDeny != nil
	}
	return len(d.Conditional) > 0 || len(d.MissingRoles) > 0
}

// Data is what Azure RBAC decides with for one cluster: the assignments
// that reach it (those listed at its scope, inherited from above, and at
// each namespace's), the role definitions they name, and the deny
// assignments.
type Data struct {
	// ClusterID is the managed cluster's resource id, the scope
	// cluster-wide requests are checked at.
	ClusterID   string           `json:"clusterId"`
	Assignments []Assignment     `json:"roleAssignments"`
	Roles       []RoleDefinition `json:"roleDefinitions"`
	Denies      []DenyAssignment `json:"denyAssignments,omitempty"`
	// Gaps say what could not be read (an ARM call refused or failing):
	// any gap makes an answer Azure could change incomplete.
	Gaps []string `json:"gaps,omitempty"`
	// Directory is what Microsoft Graph said of the principals the
	// assignments name; nil when Graph was not asked.
	Directory *Directory `json:"directory,omitempty"`
	// Cluster is the managed cluster's own settings, when read (az aks
	// show, ARM's GET): who gets in through Azure's control plane.
	Cluster *ManagedCluster `json:"managedCluster,omitempty"`
	// ClusterGap says why the managed cluster's settings were not read
	// (live); the aks checks are then unknown, guard's answers unaffected.
	ClusterGap string `json:"clusterGap,omitempty"`
	// Identities are the user-assigned managed identities read, with
	// their federated credentials (the way out to Azure: which service
	// accounts act as them). Their role assignments are among
	// Assignments, at whatever scope they are.
	Identities []ManagedIdentity `json:"managedIdentities,omitempty"`
	// Eligible are the role assignments principals may activate through
	// PIM for Azure resources (roleEligibilityScheduleInstances at the
	// cluster's scope and above, and at each namespace's). Never counted
	// by Decide or Holders: eligible access is shown apart.
	Eligible []EligibleAssignment `json:"eligibleAssignments,omitempty"`
	// EligibleGaps say what of the eligible assignments could not be
	// read: the eligible lists are partial, the active answers are not.
	EligibleGaps []string `json:"eligibleGaps,omitempty"`
	// IdentityGaps say what of the identities could not be read live (a
	// list of identities, an identity's federated credentials or role
	// assignments refused or failing): which Azure identities a service
	// account acts as, and what they hold, is then incomplete, never
	// "none". Guard's answers do not depend on them.
	IdentityGaps []string `json:"identityGaps,omitempty"`
	// DoorGaps say what only the control plane's doors depend on could
	// not be read (the node resource group's role assignments): who gets
	// in through Azure may be more, guard's answers are whole.
	DoorGaps []string `json:"doorGaps,omitempty"`

	once        sync.Once
	roles       map[string]*RoleDefinition
	byPrincipal map[string][]int // lower-case object id -> assignments
	byName      map[string]string
}

// Directory is what Microsoft Graph said of the principals assignments
// name (live loads ask it; ARM names no principal).
type Directory struct {
	// Objects are the principals Graph found.
	Objects []DirectoryObject `json:"objects"`
	// NotFound are the object ids Graph was asked about and does not
	// know: deleted principals.
	NotFound []string `json:"notFound,omitempty"`
}

// DirectoryObject is one principal Graph knows.
type DirectoryObject struct {
	ID   string `json:"id"`
	Type string `json:"type"` // User, Group or ServicePrincipal (ARM's principalType)
	// Name is a user's UPN, else the display name.
	Name string `json:"name"`
	// Members is a group's transitive member count, when it was read.
	Members *int `json:"members,omitempty"`
	// ServicePrincipalType is Graph's for a service principal:
	// Application, ManagedIdentity, Legacy or SocialIdp.
	ServicePrincipalType string `json:"servicePrincipalType,omitempty"`
}

// Object returns what Graph said of an object id.
func (x *Directory) Object(id string) (*DirectoryObject, bool) {
	if x == nil {
		return nil, false
	}
	for i := range x.Objects {
		if strings.EqualFold(x.Objects[i].ID, id) {
			return &x.Objects[i], true
		}
	}
	return nil, false
}

// Gone says Graph was asked about id and does not know it.
func (x *Directory) Gone(id string) bool {
	return x != nil && slices.ContainsFunc(x.NotFound, func(n string) bool { return strings.EqualFold(n, id) })
}

// Name names every assignment's principal that is unnamed with what the
// directory says of it. Call it before the data is read.
func (d *Data) Name(x *Directory) {
	d.Directory = x
	if x == nil {
		return
	}
	byID := make(map[string]*DirectoryObject, len(x.Objects))
	for i := range x.Objects {
		byID[strings.ToLower(x.Objects[i].ID)] = &x.Objects[i]
	}
	for i := range d.Assignments {
		a := &d.Assignments[i]
		o := byID[strings.ToLower(a.PrincipalID)]
		if o == nil {
			continue
		}
		if a.PrincipalName == "" && o.Name != "" {
			a.PrincipalName = o.Name
		}
		a.ManagedIdentity = strings.EqualFold(o.ServicePrincipalType, "ManagedIdentity")
	}
	for i := range d.Eligible {
		e := &d.Eligible[i]
		if o := byID[strings.ToLower(e.PrincipalID)]; o != nil && e.PrincipalName == "" {
			e.PrincipalName = o.Name
		}
	}
}

// GuardDecides says whether Azure RBAC for Kubernetes authorization
// decides for the cluster: unless the managed cluster read says it is
// off, role assignments given are taken as guard's.
func (d *Data) GuardDecides() bool { return d.Cluster == nil || d.Cluster.AzureRBAC() }

// Copy is a new Data of the same content, its look-ups to be built anew,
// with its own list of assignments (what a fix changes); the rest is
// shared and read only.
func (d *Data) Copy() *Data {
	return &Data{ClusterID: d.ClusterID, Assignments: slices.Clone(d.Assignments), Roles: d.Roles, Denies: d.Denies, Gaps: d.Gaps, Directory: d.Directory, Cluster: d.Cluster, ClusterGap: d.ClusterGap, Identities: d.Identities, Eligible: d.Eligible, EligibleGaps: d.EligibleGaps, IdentityGaps: d.IdentityGaps, DoorGaps: d.DoorGaps}
}

// prepare builds the look-ups once (Data is read concurrently).
func (d *Data) prepare() {
	d.once.Do(func() {
		d.roles = make(map[string]*RoleDefinition, len(d.Roles))
		for i := range d.Roles {
			d.roles[roleKey(d.Roles[i].ID)] = &d.Roles[i]
		}
		d.byPrincipal = map[string][]int{}
		d.byName = map[string]string{}
		for i, a := range d.Assignments {
			k := strings.ToLower(a.PrincipalID)
			d.byPrincipal[k] = append(d.byPrincipal[k], i)
			// Users only: az gives a group's or service principal's display
			// name there, which a certificate user may share.
			if a.PrincipalName != "" && strings.EqualFold(a.PrincipalType, "User") {
				d.byName[strings.ToLower(a.PrincipalName)] = a.PrincipalID
			}
		}
		// A user only eligible is known by name too (can user:UPN).
		for _, e := range d.Eligible {
			if k := strings.ToLower(e.PrincipalName); k != "" && strings.EqualFold(e.PrincipalType, "User") && d.byName[k] == "" {
				d.byName[k] = e.PrincipalID
			}
		}
	})
}

// ObjectID is the object id of the user assignments name name (its UPN),
// "" when none does.
func (d *Data) ObjectID(name string) string {
	d.prepare()
	return d.byName[strings.ToLower(name)]
}

// PrincipalName is the name assignments give the object id, "" when none.
func (d *Data) PrincipalName(objectID string) string {
	d.prepare()
	for _, i := range d.byPrincipal[strings.ToLower(objectID)] {
		if n := d.Assignments[i].PrincipalName; n != "" {
			return n
		}
	}
	return ""
}

// AssignmentsOf are the assignments that name any of the object ids,
// each once, in the data's order.
func (d *Data) AssignmentsOf(ids []string) []*Assignment {
	idx := d.AssignmentIndexesOf(ids)
	out := make([]*Assignment, len(idx))
	for i, j := range idx {
		out[i] = &d.Assignments[j]
	}
	return out
}

// AssignmentIndexesOf is AssignmentsOf as indexes into Assignments.
func (d *Data) AssignmentIndexesOf(ids []string) []int {
	d.prepare()
	var idx []int
	for _, id := range ids {
		if id != "" {
			idx = append(idx, d.byPrincipal[strings.ToLower(id)]...)
		}
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

// PrincipalAssigned says whether an assignment names the object id.
func (d *Data) PrincipalAssigned(objectID string) bool {
	d.prepare()
	return len(d.byPrincipal[strings.ToLower(objectID)]) > 0
}

// Role returns the role definition an id names (by its GUID).
func (d *Data) Role(id string) (*RoleDefinition, bool) {
	d.prepare()
	r, ok := d.roles[roleKey(id)]
	return r, ok
}

// Reaches says whether an assignment at scope applies to requests checked
// at requestScope.
func (d *Data) Reaches(scope, requestScope string) bool { return d.reaches(scope, requestScope) }

// roleKey is a role definition's GUID, how assignments and definitions
// meet whatever scope prefixes each writes.
func roleKey(id string) string { return strings.ToLower(path.Base(id)) }

// reaches says whether an assignment's scope reaches requestScope. An
// assignment at a scope that is not on the cluster's path (a management
// group) was listed at the cluster's scope by ARM, so it reaches the
// cluster and below.
func (d *Data) reaches(scope, requestScope string) bool {
	if InScope(scope, requestScope) {
		return true
	}
	return !InScope(scope, d.ClusterID) && !InScope(d.ClusterID, scope) && strings.Contains(strings.ToLower(scope), "/providers/microsoft.management/managementgroups/")
}

// Decide is Azure's answer for p making the request checked as action at
// requestScope (Scope(ClusterID, namespace)): a deny assignment that
// covers it wins; else any assignment of p (or of one of its groups) that
// reaches the scope and whose role allows the action.
func (d *Data) Decide(p Principal, action, requestScope string) Decision {
	d.prepare()
	var dec Decision
	for i := range d.Denies {
		x := &d.Denies[i]
		if !d.Covers(x, p, action, requestScope) {
			continue
		}
		if x.Condition != "" {
			if dec.ConditionalDeny == nil {
				dec.ConditionalDeny = x
			}
			continue
		}
		dec.DeniedBy = x
		return dec
	}
	ids := append([]string{p.ObjectID}, p.Groups...)
	seen := map[int]bool{}
	for _, id := range ids {
		if id == "" {
			continue
		}
		for _, ai := range d.byPrincipal[strings.ToLower(id)] {
			if seen[ai] {
				continue
			}
			seen[ai] = true
			a := d.Assignments[ai]
			if !d.reaches(a.Scope, requestScope) {
				continue
			}
			r, ok := d.roles[roleKey(a.RoleDefinitionID)]
			if !ok {
				dec.MissingRoles = append(dec.MissingRoles, a.RoleDefinitionID)
				continue
			}
			matched := r.Matching(action)
			if matched == "" {
				continue
			}
			if a.Condition != "" {
				dec.Conditional = append(dec.Conditional, a)
				continue
			}
			dec.Allowed = true
			dec.Via = append(dec.Via, Grant{Assignment: a, Role: *r, DataAction: matched})
		}
	}
	return dec
}

// Matching returns the dataAction pattern by which the role allows action
// (a permission's dataAction that matches it where no notDataAction of
// that permission does), "" when the role does not allow it.
func (r *RoleDefinition) Matching(action string) string {
	for _, perm := range r.Permissions {
		if !perm.Allows(action) {
			continue
		}
		for _, da := range perm.DataActions {
			if MatchAction(da, action) {
				return da
			}
		}
	}
	return ""
}

// Covers says whether the deny assignment applies to p's request for
// action at requestScope (its condition aside). A deny assignment at a
// management group was listed at the cluster's scope by ARM (atScope()),
// so it reaches the cluster and below, as role assignments do.
func (d *Data) Covers(x *DenyAssignment, p Principal, action, requestScope string) bool {
	if !d.reaches(x.Scope, requestScope) {
		return false
	}
	if x.DoNotApplyToChildScopes && !strings.EqualFold(strings.TrimSuffix(x.Scope, "/"), strings.TrimSuffix(requestScope, "/")) {
		return false
	}
	if !x.Names(p) {
		return false
	}
	return Allows(x.Permissions, action)
}

// Names says whether the deny assignment's principals include p (Everyone
// included) and its exclusions do not.
func (x *DenyAssignment) Names(p Principal) bool {
	named := false
	for _, id := range x.Principals {
		named = named || id == Everyone || p.is(id)
	}
	for _, id := range x.ExcludePrincipals {
		if p.is(id) {
			return false
		}
	}
	return named
}
