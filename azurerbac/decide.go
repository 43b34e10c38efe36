package azurerbac

import (
	"path"
	"strings"
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
	ExcludePrincipals       []string     `json:"excludePrincipals"`
	DoNotApplyToChildScopes bool         `json:"doNotApplyToChildScopes"`
}

// Everyone is the principal id a deny assignment names for all principals.
const Everyone = "00000000-0000-0000-0000-000000000000"

// Principal is who a request comes from, as guard sees it: the user's
// object id (extra.oid) and its groups that are object ids.
type Principal struct {
	ObjectID string
	Groups   []string
}

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
}

// Unknown says the answer could not be decided: a conditional assignment
// or an unknown role could allow what is otherwise denied.
func (d Decision) Unknown() bool {
	return !d.Allowed && d.DeniedBy == nil && (len(d.Conditional) > 0 || len(d.MissingRoles) > 0)
}

// Data is what Azure RBAC decides with for one cluster: the assignments
// that reach it (those listed at its scope, inherited from above, and at
// each namespace's), the role definitions they name, and the deny
// assignments.
type Data struct {
	ClusterID   string
	Assignments []Assignment
	Roles       []RoleDefinition
	Denies      []DenyAssignment
	roles       map[string]RoleDefinition
}

// roleKey is a role definition's GUID, how assignments and definitions
// meet whatever scope prefixes each writes.
func roleKey(id string) string { return strings.ToLower(path.Base(id)) }

func (d *Data) role(id string) (RoleDefinition, bool) {
	if d.roles == nil {
		d.roles = make(map[string]RoleDefinition, len(d.Roles))
		for _, r := range d.Roles {
			d.roles[roleKey(r.ID)] = r
		}
	}
	r, ok := d.roles[roleKey(id)]
	return r, ok
}

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
	var dec Decision
	for i := range d.Denies {
		x := &d.Denies[i]
		covers := InScope(x.Scope, requestScope) && (!x.DoNotApplyToChildScopes || strings.EqualFold(strings.TrimSuffix(x.Scope, "/"), strings.TrimSuffix(requestScope, "/")))
		named := false
		for _, id := range x.Principals {
			named = named || id == Everyone || p.is(id)
		}
		for _, id := range x.ExcludePrincipals {
			if p.is(id) {
				named = false
			}
		}
		if covers && named && Allows(x.Permissions, action) {
			dec.DeniedBy = x
			return dec
		}
	}
	for _, a := range d.Assignments {
		if !p.is(a.PrincipalID) || !d.reaches(a.Scope, requestScope) {
			continue
		}
		r, ok := d.role(a.RoleDefinitionID)
		if !ok {
			dec.MissingRoles = append(dec.MissingRoles, a.RoleDefinitionID)
			continue
		}
		matched := ""
		for _, perm := range r.Permissions {
			if !perm.Allows(action) {
				continue
			}
			for _, da := range perm.DataActions {
				if MatchAction(da, action) {
					matched = da
					break
				}
			}
			break
		}
		if matched == "" {
			continue
		}
		if a.Condition != "" {
			dec.Conditional = append(dec.Conditional, a)
			continue
		}
		dec.Allowed = true
		dec.Via = append(dec.Via, Grant{Assignment: a, Role: r, DataAction: matched})
	}
	return dec
}
