package azurerbac

import (
	"slices"
	"testing"
)

// TestHolders decides control-plane actions as Azure does: actions less
// notActions, inherited from the resource group, subscription and a
// management group listed at the cluster, a deny assignment without a
// condition stopping its principals, a condition flagged, built-in roles
// by id when the input lacks their definition (the input's definition
// wins), and a role neither read nor built in reported as unknown.
func TestHolders(t *testing.T) {
	const (
		sub     = "/subscriptions/22222222-2222-4222-8222-222222222222"
		rg      = sub + "/resourceGroups/rg"
		cluster = rg + "/providers/Microsoft.ContainerService/managedClusters/aks"
		other   = sub + "/resourceGroups/other"
		mg      = "/providers/Microsoft.Management/managementGroups/corp"
		def     = "/providers/Microsoft.Authorization/roleDefinitions/"
	)
	as := func(principal, scope, role, cond string) Assignment {
		return Assignment{ID: scope + "/providers/Microsoft.Authorization/roleAssignments/" + principal, Scope: scope, PrincipalID: principal,
			PrincipalType: "User", RoleDefinitionID: def + role, Condition: cond}
	}
	d := &Data{ClusterID: cluster,
		Roles: []RoleDefinition{
			// The input's Reader says more than the built-in: it wins.
			{ID: def + "acdd72a7-3385-48ef-bd42-f606fba81ae7", Name: "Reader (custom copy)", Permissions: []Permission{{Actions: []string{"*/read", "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"}}}},
			{ID: def + "custom-runner", Name: "runner", Permissions: []Permission{{Actions: []string{"Microsoft.ContainerService/*"}, NotActions: []string{"Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"}}}},
		},
		Assignments: []Assignment{
			as("contributor-rg", rg, "b24988ac-6180-42a0-ab88-20f7382dd24c", ""),
			as("owner-mg", mg, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", ""),
			as("admin-role", cluster, "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8", ""),
			as("admin-role-conditional", cluster, "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8", "@Resource[x] == 'y'"),
			as("contributor-other-rg", other, "b24988ac-6180-42a0-ab88-20f7382dd24c", ""),
			as("reader", sub, "acdd72a7-3385-48ef-bd42-f606fba81ae7", ""),
			as("runner", cluster, "custom-runner", ""),
			as("denied-owner", sub, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", ""),
			as("unknown", cluster, "99999999-0000-4000-8000-000000000009", ""),
		},
		Denies: []DenyAssignment{{ID: "deny", Scope: sub, Principals: []string{"denied-owner"},
			Permissions: []Permission{{Actions: []string{"Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"}}}}},
	}
	names := func(hs []Holder) []string {
		var out []string
		for _, h := range hs {
			n := h.Assignment.PrincipalID
			if h.Builtin {
				n += " (built-in)"
			}
			if h.Conditional {
				n += " (conditional)"
			}
			out = append(out, n)
		}
		return out
	}
	got, unknown := d.Holders(ActionAdminCredential, cluster)
	want := []string{"contributor-rg (built-in)", "owner-mg (built-in)", "admin-role (built-in)", "admin-role-conditional (built-in) (conditional)", "reader"}
	if !slices.Equal(names(got), want) {
		t.Errorf("listClusterAdminCredential: %q, want %q", names(got), want)
	}
	if len(unknown) != 1 || unknown[0] != def+"99999999-0000-4000-8000-000000000009" {
		t.Errorf("unknown roles: %q", unknown)
	}
	// Contributor's notActions keep it from assigning roles; Owner and the
	// denied owner (the deny names another action) may.
	got, _ = d.Holders(ActionWriteAssignment, cluster)
	if want := []string{"owner-mg (built-in)", "denied-owner (built-in)"}; !slices.Equal(names(got), want) {
		t.Errorf("roleAssignments/write: %q, want %q", names(got), want)
	}
	// The custom role's wildcard, less its notAction.
	got, _ = d.Holders(ActionRunCommand, cluster)
	if !slices.Contains(names(got), "runner") || slices.Contains(names(got), "reader") {
		t.Errorf("runCommand: %q, want the runner and not the reader", names(got))
	}
	if !AllowsAction(builtinRoles["b24988ac-6180-42a0-ab88-20f7382dd24c"].Permissions, ActionWriteCluster) {
		t.Error("Contributor does not write the managed cluster")
	}
}
