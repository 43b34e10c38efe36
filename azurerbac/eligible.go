package azurerbac

import (
	"strings"
	"time"
)

// EligibleAssignment is a role assignment a principal may activate through
// Privileged Identity Management for Azure resources: ARM's
// roleEligibilityScheduleInstances (api-version 2020-10-01). It grants
// nothing until activated, so Decide and Holders never read it; it is
// shown apart, as eligible access.
type EligibleAssignment struct {
	// ID is the eligibility schedule instance's resource id.
	ID               string `json:"id"`
	Scope            string `json:"scope"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"` // User, Group, ServicePrincipal
	PrincipalName    string `json:"principalName,omitempty"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	// Start and End bound when it may be activated; a zero End: never
	// ends.
	Start time.Time `json:"startDateTime,omitzero"`
	End   time.Time `json:"endDateTime,omitzero"`
	// MemberType is ARM's: Direct, Group (through a group's eligibility)
	// or Inherited (from a scope above).
	MemberType string `json:"memberType,omitempty"`
	// Status is ARM's (Provisioned for one in force).
	Status string `json:"status,omitempty"`
	// Condition is an ABAC condition the activated assignment would carry.
	Condition string `json:"condition,omitempty"`
}

// InForce says whether the eligibility may be activated at t: its status
// (when given) provisioned, and t between its start and its end.
func (e *EligibleAssignment) InForce(t time.Time) bool {
	if e.Status != "" && !strings.EqualFold(e.Status, "Provisioned") && !strings.EqualFold(e.Status, "Accepted") {
		return false
	}
	return (e.Start.IsZero() || !t.Before(e.Start)) && (e.End.IsZero() || t.Before(e.End))
}

// Assignment is the role assignment activating it would make.
func (e *EligibleAssignment) Assignment() Assignment {
	return Assignment{ID: e.ID, Scope: e.Scope, PrincipalID: e.PrincipalID, PrincipalType: e.PrincipalType,
		PrincipalName: e.PrincipalName, RoleDefinitionID: e.RoleDefinitionID, Condition: e.Condition}
}

// principal is how the activated assignment's principal would be asked
// about: a group as a nameless member, anyone else by object id.
func (e *EligibleAssignment) principal() Principal {
	if strings.EqualFold(e.PrincipalType, "Group") {
		return Principal{Groups: []string{e.PrincipalID}}
	}
	return Principal{ObjectID: e.PrincipalID}
}

// EligibleGrant is one eligible assignment whose role, once activated,
// would allow a dataAction.
type EligibleGrant struct {
	Eligible   EligibleAssignment
	Role       RoleDefinition
	DataAction string
}

// EligibleFor are the eligible assignments in force at now that reach
// requestScope and whose role would allow action, as Decide would decide
// them activated: a deny assignment without a condition that covers the
// principal stops one. only, when set, keeps those of that principal (its
// object id or one of its groups). Eligibilities whose role was not read
// are left out (missing names them).
func (d *Data) EligibleFor(only *Principal, action, requestScope string, now time.Time) (grants []EligibleGrant, missing []string) {
	d.prepare()
	for i := range d.Eligible {
		e := &d.Eligible[i]
		if !e.InForce(now) || only != nil && !only.is(e.PrincipalID) || !d.reaches(e.Scope, requestScope) {
			continue
		}
		r, ok := d.roles[roleKey(e.RoleDefinitionID)]
		if !ok {
			missing = append(missing, e.RoleDefinitionID)
			continue
		}
		da := r.Matching(action)
		if da == "" || d.denied(e.principal(), action, requestScope) {
			continue
		}
		grants = append(grants, EligibleGrant{Eligible: *e, Role: *r, DataAction: da})
	}
	return grants, missing
}

// denied says whether a deny assignment without a condition covers p's
// action at requestScope.
func (d *Data) denied(p Principal, action, requestScope string) bool {
	for i := range d.Denies {
		if x := &d.Denies[i]; x.Condition == "" && d.Covers(x, p, action, requestScope) {
			return true
		}
	}
	return false
}

// EligibleHolders are Holders over the eligible assignments in force at
// now: who may activate a role that grants the control-plane action at
// scope (an eligible door).
func (d *Data) EligibleHolders(action, scope string, now time.Time) (holders []Holder, unknown []string) {
	d.prepare()
	var as []Assignment
	for i := range d.Eligible {
		if e := &d.Eligible[i]; e.InForce(now) {
			as = append(as, e.Assignment())
		}
	}
	return d.holders(as, action, scope)
}
