package azurearm

import (
	"encoding/json"
	"fmt"
	"testing"
)

// benchFixture is the fixture's roles, subscriptions and clusters with
// 5,050 role assignments: 50 at the cluster and above (management group,
// subscription, resource group, cluster) and 10 in each of 500 namespaces.
func benchFixture(b *testing.B) (fixture, []string) {
	f := loadFixture(b)
	roles := []string{reader, writer, admin, cadmin}
	assign := func(i int, scope string) json.RawMessage {
		name := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		raw, err := json.Marshal(map[string]any{
			"properties": map[string]any{
				"roleDefinitionId": roleID(roles[i%len(roles)]), "principalId": fmt.Sprintf("10000000-0000-4000-8000-%012d", i%700),
				"principalType": "User", "scope": scope, "condition": nil, "conditionVersion": nil,
				"createdOn": "2024-03-01T09:12:44.1234567Z", "updatedOn": "2024-03-01T09:12:44.1234567Z",
				"createdBy": nil, "updatedBy": nil, "delegatedManagedIdentityResourceId": nil, "description": nil,
			},
			"id": scope + assignmentsOf + "/" + name, "type": "Microsoft.Authorization/roleAssignments", "name": name,
		})
		if err != nil {
			b.Fatal(err)
		}
		return raw
	}
	f.RoleAssignments, f.DenyAssignments = nil, nil
	above := []string{"/providers/Microsoft.Management/managementGroups/contoso", sub, group, cluster, cluster}
	for i := range 50 {
		f.RoleAssignments = append(f.RoleAssignments, assign(i, above[i/10]))
	}
	var namespaces []string
	for n := range 500 {
		ns := fmt.Sprintf("team-%03d", n)
		namespaces = append(namespaces, ns)
		for j := range 10 {
			f.RoleAssignments = append(f.RoleAssignments, assign(50+n*10+j, cluster+"/namespaces/"+ns))
		}
	}
	return f, namespaces
}

// BenchmarkLoad5000 loads 5,050 assignments over 500 namespaces from the
// loopback ARM, 100 items a page, with the default Parallel: the
// requests/op is what a real load costs in ARM calls.
func BenchmarkLoad5000(b *testing.B) {
	f, namespaces := benchFixture(b)
	a := newFakeARM(b, f)
	a.pageSize = 100
	o := a.options(b, appSecret)
	before, _ := a.stats()
	for b.Loop() {
		d, err := Load(b.Context(), cluster, namespaces, o)
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Assignments) != 5050 || len(d.Roles) != 4 || len(d.Gaps) != 0 {
			b.Fatalf("loaded %d assignments, %d roles, gaps %q", len(d.Assignments), len(d.Roles), d.Gaps)
		}
	}
	after, _ := a.stats()
	b.ReportMetric(float64(after-before)/float64(b.N), "requests/op")
}
