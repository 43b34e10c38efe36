package azurearm

import (
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// assignment is an ARM role assignment as the engine reads it; false for
// one without properties, which names no one and grants nothing.
func assignment(v *armauthorization.RoleAssignment) (azurerbac.Assignment, bool) {
	if v == nil || v.Properties == nil {
		return azurerbac.Assignment{}, false
	}
	p := v.Properties
	a := azurerbac.Assignment{
		ID:               deref(v.ID),
		Scope:            deref(p.Scope),
		PrincipalID:      deref(p.PrincipalID),
		RoleDefinitionID: deref(p.RoleDefinitionID),
		Condition:        deref(p.Condition),
	}
	if p.PrincipalType != nil {
		a.PrincipalType = string(*p.PrincipalType)
	}
	return a, true
}

// eligibleAssignment is an ARM role eligibility schedule instance as the
// engine reads it; false for one without properties.
func eligibleAssignment(v *armauthorization.RoleEligibilityScheduleInstance) (azurerbac.EligibleAssignment, bool) {
	if v == nil || v.Properties == nil {
		return azurerbac.EligibleAssignment{}, false
	}
	p := v.Properties
	e := azurerbac.EligibleAssignment{
		ID:               deref(v.ID),
		Scope:            deref(p.Scope),
		PrincipalID:      deref(p.PrincipalID),
		RoleDefinitionID: deref(p.RoleDefinitionID),
		Condition:        deref(p.Condition),
		Start:            deref(p.StartDateTime),
		End:              deref(p.EndDateTime),
	}
	if p.PrincipalType != nil {
		e.PrincipalType = string(*p.PrincipalType)
	}
	if p.MemberType != nil {
		e.MemberType = string(*p.MemberType)
	}
	if p.Status != nil {
		e.Status = string(*p.Status)
	}
	return e, true
}

// roleDefinition keeps what guard checks, the dataActions, and the
// control-plane actions (the cluster's credentials, writing it, assigning
// roles: the ways in through Azure).
func roleDefinition(v *armauthorization.RoleDefinition) (azurerbac.RoleDefinition, bool) {
	if v == nil || v.Properties == nil {
		return azurerbac.RoleDefinition{}, false
	}
	r := azurerbac.RoleDefinition{ID: deref(v.ID), Name: deref(v.Properties.RoleName)}
	for _, p := range v.Properties.Permissions {
		if p != nil {
			r.Permissions = append(r.Permissions, azurerbac.Permission{Actions: strs(p.Actions), NotActions: strs(p.NotActions),
				DataActions: strs(p.DataActions), NotDataActions: strs(p.NotDataActions)})
		}
	}
	return r, true
}

// denyAssignment is an ARM deny assignment as the engine reads it. ARM
// puts conditions on the permissions; the engine has one per deny
// assignment and does not evaluate it, so any permission's condition makes
// the whole deny conditional: answers it could change become unknown
// rather than wrongly denied or allowed.
func denyAssignment(v *armauthorization.DenyAssignment) (azurerbac.DenyAssignment, bool) {
	if v == nil || v.Properties == nil {
		return azurerbac.DenyAssignment{}, false
	}
	p := v.Properties
	x := azurerbac.DenyAssignment{
		ID:                      deref(v.ID),
		Scope:                   deref(p.Scope),
		Principals:              principalIDs(p.Principals),
		ExcludePrincipals:       principalIDs(p.ExcludePrincipals),
		DoNotApplyToChildScopes: p.DoNotApplyToChildScopes != nil && *p.DoNotApplyToChildScopes,
	}
	for _, perm := range p.Permissions {
		if perm == nil {
			continue
		}
		x.Permissions = append(x.Permissions, azurerbac.Permission{Actions: strs(perm.Actions), NotActions: strs(perm.NotActions),
			DataActions: strs(perm.DataActions), NotDataActions: strs(perm.NotDataActions)})
		if c := deref(perm.Condition); c != "" && x.Condition == "" {
			x.Condition = c
		}
	}
	return x, true
}

func principalIDs(ps []*armauthorization.Principal) []string {
	var ids []string
	for _, p := range ps {
		if p != nil && p.ID != nil {
			ids = append(ids, *p.ID)
		}
	}
	return ids
}

func strs(ps []*string) []string {
	var out []string
	for _, p := range ps {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
