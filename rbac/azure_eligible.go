package rbac

import (
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// AzureEligible is an eligible Azure role assignment (PIM for Azure
// resources) as answers list it: what activating it would grant, either
// guard's dataAction (DataAction) or a way in through Azure's control
// plane (Door). It is never access.
type AzureEligible struct {
	// Assignment is the eligibility schedule instance's resource id.
	Assignment       string `json:"assignment"`
	Scope            string `json:"scope"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"`
	PrincipalName    string `json:"principalName,omitempty"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	RoleName         string `json:"roleName"`
	// DataAction is the role's dataAction that would allow the request
	// (who-can, can), or each one into the cluster it holds (what-can, in
	// the paths).
	DataAction string `json:"dataAction,omitempty"`
	// MemberType is ARM's: Direct, Group or Inherited.
	MemberType string `json:"memberType,omitempty"`
	// Conditional: the activated assignment would carry an ABAC
	// condition, not evaluated.
	Conditional bool `json:"conditional,omitempty"`
	// Door is the kind of an eligible way in through Azure's control
	// plane (azure-credential, azure-reconfigure), with the action, what
	// it lets the principal do and the identity a credential signs in as.
	Door        string        `json:"door,omitempty"`
	Action      string        `json:"action,omitempty"`
	What        string        `json:"what,omitempty"`
	As          *DoorIdentity `json:"as,omitempty"`
	BuiltinRole bool          `json:"builtinRole,omitempty"`
}

// EligibleAzure is one eligible assignment an answer lists: what it is,
// when it may be activated until, and the paths activating it would give
// (its own Azure path, or the door's identity's paths).
type EligibleAzure struct {
	Azure      AzureEligible
	Start, End time.Time
	Paths      []Path
}

func eligibleOf(e *azurerbac.EligibleAssignment, roleName string) EligibleAzure {
	return EligibleAzure{Start: e.Start, End: e.End, Azure: AzureEligible{
		Assignment: e.ID, Scope: e.Scope, PrincipalID: e.PrincipalID, PrincipalType: e.PrincipalType, PrincipalName: e.PrincipalName,
		RoleDefinitionID: e.RoleDefinitionID, RoleName: roleName, MemberType: e.MemberType, Conditional: e.Condition != ""}}
}

func eligiblePath(e *azurerbac.EligibleAssignment, roleName, dataAction string) Path {
	a := e.Assignment()
	return assignmentPath(&a, roleName, dataAction)
}

// AzureEligible are the eligible Azure role assignments in force at now
// whose role, activated, guard would allow the request for (in any
// namespace with allNamespaces); missing are the role ids they name that
// were not read. Nothing when guard does not decide.
func (ix *Index) AzureEligible(a Attributes, allNamespaces bool, now time.Time) (out []EligibleAzure, missing []string) {
	return ix.azureEligible(nil, &a, allNamespaces, now)
}

// AzureEligibleOf are AzureEligible for id's object id and groups (can),
// or with a nil request every eligible assignment of id whose role holds
// a dataAction into the cluster, each with a path per dataAction
// (what-can).
func (ix *Index) AzureEligibleOf(id Identity, a *Attributes, now time.Time) (out []EligibleAzure, missing []string) {
	d := (*azureAuthorizer)(ix).data()
	if d == nil {
		return nil, nil
	}
	p, ok := azurePrincipalOf(d, id)
	if !ok {
		return nil, nil
	}
	if a != nil {
		return ix.azureEligible(&p, a, false, now)
	}
	prefix := strings.ToLower(d.Prefix()) + "/"
	for i := range d.Eligible {
		e := &d.Eligible[i]
		if _, reaches := azureScopeOf(d, e.Scope); !reaches || !e.InForce(now) || !p.Is(e.PrincipalID) {
			continue
		}
		r, known := d.Role(e.RoleDefinitionID)
		if !known {
			missing = append(missing, e.RoleDefinitionID)
			continue
		}
		g := eligibleOf(e, r.Name)
		for _, perm := range r.Permissions {
			for _, da := range perm.DataActions {
				if strings.HasPrefix(strings.ToLower(da), prefix) || azurerbac.MatchAction(da, d.Prefix()+"/*") {
					path := eligiblePath(e, r.Name, da)
					path.Azure.NotDataActions = perm.NotDataActions
					g.Paths = append(g.Paths, path)
				}
			}
		}
		if len(g.Paths) > 0 {
			out = append(out, g)
		}
	}
	return out, missing
}

func (ix *Index) azureEligible(only *azurerbac.Principal, a *Attributes, allNamespaces bool, now time.Time) (out []EligibleAzure, missing []string) {
	d := (*azureAuthorizer)(ix).data()
	if d == nil || len(d.Eligible) == 0 {
		return nil, nil
	}
	action := azurerbac.DataAction(d.Prefix(), azureRequest(a))
	scopes := []string{azurerbac.Scope(d.ClusterID, a.Namespace)}
	if allNamespaces {
		// In any namespace: the cluster's scope, then each namespace's an
		// eligibility names.
		scopes = []string{d.ClusterID}
		for _, e := range d.Eligible {
			if ns, ok := azureScopeOf(d, e.Scope); ok && ns != "" && !slices.ContainsFunc(scopes, func(s string) bool { return strings.EqualFold(s, azurerbac.Scope(d.ClusterID, ns)) }) {
				scopes = append(scopes, azurerbac.Scope(d.ClusterID, ns))
			}
		}
	}
	seen := map[string]bool{}
	for _, scope := range scopes {
		gs, miss := d.EligibleFor(only, action, scope, now)
		for _, m := range miss {
			if !slices.Contains(missing, m) {
				missing = append(missing, m)
			}
		}
		for _, g := range gs {
			if k := strings.ToLower(g.Eligible.ID); !seen[k] {
				seen[k] = true
				x := eligibleOf(&g.Eligible, g.Role.Name)
				x.Azure.DataAction = g.DataAction
				x.Paths = []Path{eligiblePath(&g.Eligible, g.Role.Name, g.DataAction)}
				out = append(out, x)
			}
		}
	}
	return out, missing
}

// EligibleAzureDoors are the ways into the cluster through Azure's control
// plane that eligible assignments in force at now would open once
// activated: with a request, the azure-credential doors whose identity the
// cluster allows it (with those paths) and the azure-reconfigure doors;
// without one, every door. only keeps one principal's (can, what-can).
// Each principal once per kind, as AzureDoors lists them.
func (ix *Index) EligibleAzureDoors(a *Attributes, only *Identity, now time.Time) []EligibleAzure {
	d := ix.snap.Azure
	if d == nil || len(d.Eligible) == 0 {
		return nil
	}
	var p *azurerbac.Principal
	if only != nil {
		x, ok := azurePrincipalOf(d, *only)
		if !ok {
			return nil
		}
		p = &x
	}
	byID := map[string]*azurerbac.EligibleAssignment{}
	for i := range d.Eligible {
		byID[strings.ToLower(d.Eligible[i].ID)] = &d.Eligible[i]
	}
	var out []EligibleAzure
	one := map[string]bool{}
	for _, dr := range ix.doors() {
		holders, _ := d.EligibleHolders(dr.action, dr.scope, now)
		if len(holders) == 0 {
			continue
		}
		var via []Path
		if dr.as != nil && a != nil {
			res := ix.Can(dr.as.Identity(), *a)
			if !res.Allowed {
				continue
			}
			via = res.Via
		}
		for _, h := range holders {
			e := byID[strings.ToLower(h.Assignment.ID)]
			if e == nil || p != nil && !p.Is(e.PrincipalID) {
				continue
			}
			if k := dr.kind + "|" + strings.ToLower(e.PrincipalID); one[k] {
				continue
			} else {
				one[k] = true
			}
			x := eligibleOf(e, cmpName(h.Role))
			x.Azure.Door, x.Azure.Action, x.Azure.What, x.Azure.As, x.Azure.BuiltinRole = dr.kind, dr.action, dr.what, dr.as, h.Builtin
			x.Paths = via
			out = append(out, x)
		}
	}
	return out
}
