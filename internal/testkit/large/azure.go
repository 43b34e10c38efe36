package large

import (
	"fmt"
	"math/rand/v2"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// AzureClusterID is the resource id LARGE's Azure RBAC data is for.
const AzureClusterID = "/subscriptions/00000000-0000-4000-8000-00000000a2b5/resourceGroups/rg-large/providers/Microsoft.ContainerService/managedClusters/large"

// AzureAssignments is how many role assignments LARGE's Azure data has:
// ten per namespace over 500 namespaces, as the heavy case asks.
const AzureAssignments = 5000

// UserOID returns the Entra object id of user i (User(i) is its UPN).
func UserOID(i int) string { return fmt.Sprintf("00000000-0000-4000-a000-%012d", i) }

// Azure generates the Azure RBAC data of a cluster of sizes z: the four
// built-in AKS roles and two custom ones (wildcards, notDataActions),
// AzureAssignments assignments (scaled like the rest) spread over the
// namespaces' scopes to LARGE's users (by object id and UPN), groups and
// heavy groups, a few at the cluster and above, and deny assignments.
func Azure(seed uint64, z Sizes) *azurerbac.Data {
	r := rand.New(rand.NewPCG(seed, 0xa2))
	ct := azurerbac.ClusterType
	sub := "/subscriptions/00000000-0000-4000-8000-00000000a2b5"
	d := &azurerbac.Data{ClusterID: AzureClusterID, Roles: []azurerbac.RoleDefinition{
		{ID: "/providers/Microsoft.Authorization/roleDefinitions/7f6c6a51-bcf8-42ba-9220-52d62157d7db", Name: "Azure Kubernetes Service RBAC Reader",
			Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/*/read"}, NotDataActions: []string{ct + "/secrets/*", ct + "/rbac.authorization.k8s.io/*"}}}},
		{ID: "/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", Name: "Azure Kubernetes Service RBAC Writer",
			Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/pods/*", ct + "/secrets/*", ct + "/configmaps/*", ct + "/apps/*", ct + "/services/*"}}}},
		{ID: "/providers/Microsoft.Authorization/roleDefinitions/3498e952-d568-435e-9b2c-8d77e338d7f7", Name: "Azure Kubernetes Service RBAC Admin",
			Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/*"}, NotDataActions: []string{ct + "/resourcequotas/write", ct + "/namespaces/write"}}}},
		{ID: "/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", Name: "Azure Kubernetes Service RBAC Cluster Admin",
			Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/*"}}}},
		{ID: sub + "/providers/Microsoft.Authorization/roleDefinitions/0c0c0c0c-0000-4000-8000-00000000000c", Name: "exec and logs",
			Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/pods/exec/action", ct + "/pods/read", ct + "/*/delete"}}}},
		{ID: sub + "/providers/Microsoft.Authorization/roleDefinitions/0d0d0d0d-0000-4000-8000-00000000000d", Name: "batch operator",
			Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/batch/*", ct + "/events/read"}}}},
	}}
	n := max(1, AzureAssignments*z.Namespaces/Namespaces)
	principal := func() (string, string, string) {
		switch k := r.IntN(10); {
		case k < 5:
			i := r.IntN(z.Users)
			return UserOID(i), "User", User(i)
		case k < 9:
			i := r.IntN(z.Groups)
			return Group(i), "Group", fmt.Sprintf("group-%d", i)
		default:
			i := r.IntN(HeavyGroups)
			return HeavyGroup(i), "Group", fmt.Sprintf("heavy-%d", i)
		}
	}
	for i := range n {
		scope := AzureClusterID + "/namespaces/" + Namespace(i%z.Namespaces)
		switch {
		case i%500 == 1:
			scope = AzureClusterID
		case i%1000 == 2:
			scope = sub
		}
		role := d.Roles[r.IntN(len(d.Roles))].ID
		if scope != AzureClusterID+"/namespaces/"+Namespace(i%z.Namespaces) && r.IntN(2) == 0 {
			role = d.Roles[0].ID // mostly readers above the namespaces
		}
		id, typ, name := principal()
		d.Assignments = append(d.Assignments, azurerbac.Assignment{
			ID:    fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-b000-%012d", scope, i),
			Scope: scope, PrincipalID: id, PrincipalType: typ, PrincipalName: name, RoleDefinitionID: role})
	}
	d.Denies = []azurerbac.DenyAssignment{{ID: "deny-secrets-0", Scope: AzureClusterID + "/namespaces/" + Namespace(0),
		Principals: []string{azurerbac.Everyone}, Permissions: []azurerbac.Permission{{DataActions: []string{ct + "/secrets/*"}}}}}
	return d
}
