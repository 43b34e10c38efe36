package source_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

const aksProd = "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod"

// TestReadAzure: -f takes az's JSON and ARM's REST responses beside the
// cluster's RBAC, finds the cluster from the scopes, and keeps it all in
// a snapshot that reads back the same.
func TestReadAzure(t *testing.T) {
	dir := "../testdata/azure"
	files := []string{filepath.Join(dir, "rbac.yaml"), filepath.Join(dir, "assignments-az.json"), filepath.Join(dir, "assignments-rest.json"), filepath.Join(dir, "roles-az.json"), filepath.Join(dir, "denies-rest.json")}
	r, err := source.Read(t.Context(), files, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Snapshot.Azure
	if d == nil || d.ClusterID != aksProd || len(d.Assignments) != 3 || len(d.Roles) != 2 || len(d.Denies) != 1 {
		t.Fatalf("Azure data: %+v", d)
	}
	if x := d.Denies[0]; len(x.Principals) != 1 || x.Principals[0] != "00000000-0000-0000-0000-000000000000" || len(x.ExcludePrincipals) != 1 {
		t.Errorf("the REST deny assignment: %+v", x)
	}
	for _, w := range r.Warnings {
		t.Errorf("warning on complete Azure input: %s", w.Message)
	}
	if a := d.Assignments[2]; a.PrincipalType != "ServicePrincipal" || !strings.HasSuffix(a.Scope, "/namespaces/web") {
		t.Errorf("the REST shape's properties: %+v", a)
	}
	if r := d.Roles[1]; r.Name != "Azure Kubernetes Service RBAC Reader" || len(r.Permissions) != 1 || len(r.Permissions[0].NotDataActions) != 1 {
		t.Errorf("the REST role definition: %+v", r)
	}
	ix := rbac.NewIndex(r.Snapshot)
	ann := rbac.Identity{Name: "ann@contoso.com", Groups: []string{rbac.GroupAuthenticated}}
	if res := ix.Can(ann, rbac.Attributes{Verb: "list", Resource: "deployments", APIGroup: "apps", Namespace: "api"}); !res.Allowed || res.Via[0].Azure == nil {
		t.Errorf("ann reads deployments by the cluster's reader assignment: %+v", res)
	}

	// A snapshot keeps the Azure data and reads back the same.
	raw, err := json.Marshal(r.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "snap.json")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	back, err := source.Read(t.Context(), []string{p}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b := back.Snapshot.Azure; b == nil || b.ClusterID != aksProd || len(b.Assignments) != 3 || len(b.Roles) != 2 {
		t.Errorf("the snapshot's Azure data read back: %+v", b)
	}

	// --azure-cluster-id: checked and used.
	if _, err := source.Read(t.Context(), files, source.ReadOptions{AzureClusterID: "/subscriptions/x"}); err == nil || !strings.Contains(err.Error(), "not a cluster's resource id") {
		t.Errorf("a malformed --azure-cluster-id: %v", err)
	}
	other := strings.Replace(aksProd, "aks-prod", "aks-dev", 1)
	r, err = source.Read(t.Context(), files, source.ReadOptions{AzureClusterID: other})
	if err != nil || r.Snapshot.Azure.ClusterID != other {
		t.Fatalf("--azure-cluster-id %s: %v", other, err)
	}
	// aks-dev gets the subscription's assignment, not aks-prod's.
	ix = rbac.NewIndex(r.Snapshot)
	if res := ix.Can(ann, rbac.Attributes{Verb: "list", Resource: "deployments", APIGroup: "apps", Namespace: "api"}); res.Allowed {
		t.Errorf("aks-prod's assignment reached aks-dev: %+v", res.Via)
	}
}

// TestReadAzureErrors: bad Azure input is a clear error naming the file
// and the item, never a silently empty view.
func TestReadAzureErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rb := "../testdata/azure/rbac.yaml"
	for _, tc := range []struct {
		name, body, want string
		withRBAC         bool
	}{
		{"truncated.json", `[{"id": "x", "principalId": `, "not Azure RBAC JSON", true},
		{"alien.json", `[{"id": "x", "foo": 1}]`, "item 0: neither a role assignment", true},
		{"partial.json", `[{"id": "x", "principalId": "p", "roleDefinitionId": "r"}]`, "needs id, scope, principalId and roleDefinitionId", true},
		{"inherited.json", `[{"id": "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/a", "scope": "/subscriptions/s", "principalId": "p", "roleDefinitionId": "r"}]`, "give --azure-cluster-id", true},
		{"two.json", `[{"id": "a", "scope": "` + aksProd + `", "principalId": "p", "roleDefinitionId": "r"}, {"id": "b", "scope": "` + strings.Replace(aksProd, "aks-prod", "aks-dev", 1) + `", "principalId": "p", "roleDefinitionId": "r"}]`, "name 2 clusters", true},
		{"only.json", `[{"id": "a", "scope": "` + aksProd + `", "principalId": "p", "roleDefinitionId": "r"}]`, "only Azure RBAC data was read", false},
		{"eligible-partial.json", `{"value": [{"id": "e", "type": "Microsoft.Authorization/roleEligibilityScheduleInstances", "properties": {"scope": "` + aksProd + `", "principalId": "p"}}]}`, "an eligible role assignment needs id, scope, principalId and roleDefinitionId", true},
		{"eligible-date.json", `{"value": [{"id": "e", "type": "Microsoft.Authorization/roleEligibilityScheduleInstances", "properties": {"scope": "` + aksProd + `", "principalId": "p", "roleDefinitionId": "r", "endDateTime": "next June"}}]}`, `endDateTime "next June" is not a date and time`, true},
	} {
		paths := []string{write(tc.name, tc.body)}
		if tc.withRBAC {
			paths = append([]string{rb}, paths...)
		}
		_, err := source.Read(t.Context(), paths, source.ReadOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// One page of a paged ARM list says the rest is missing.
	p := write("page.json", `{"value": [{"id": "a", "scope": "`+aksProd+`", "principalId": "p", "roleDefinitionId": "r"}], "nextLink": "https://management.azure.com/next"}`)
	r, err := source.Read(t.Context(), []string{rb, p}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, w := range r.Warnings {
		warned = warned || strings.Contains(w.Message, "nextLink")
	}
	if !warned {
		t.Error("a page with a nextLink read without a warning")
	}
	// An assignment of a role not read: Azure's answer is unknown.
	ix := rbac.NewIndex(r.Snapshot)
	if res := ix.Can(rbac.Identity{Name: "pat@contoso.com", ObjectID: "p"}, rbac.Attributes{Verb: "get", Resource: "pods", Namespace: "web"}); res.Allowed || !res.Incomplete {
		t.Errorf("an unknown role's grant: %+v", res)
	}
}

// TestReadAzureAlone: --azure-rbac-from's reader takes az's and ARM's
// JSON without Kubernetes objects, says that the objects of a file holding
// both are not used, and refuses input without Azure data.
func TestReadAzureAlone(t *testing.T) {
	ctx := t.Context()
	dir := "../testdata/azure"
	d, ws, err := source.ReadAzure(ctx, []string{dir + "/assignments-az.json", dir + "/roles-az.json", dir + "/denies-rest.json"}, source.ReadOptions{})
	if err != nil || d == nil || len(d.Assignments) == 0 || len(d.Denies) == 0 || d.ClusterID == "" {
		t.Fatalf("az and ARM JSON: %v %+v", err, d)
	}
	for _, w := range ws {
		if strings.Contains(w.Message, "not used") {
			t.Errorf("Azure-only input warned of unused objects: %s", w.Message)
		}
	}
	_, ws, err = source.ReadAzure(ctx, []string{dir}, source.ReadOptions{})
	if err != nil || !slices.ContainsFunc(ws, func(w rbac.Warning) bool {
		return strings.Contains(w.Message, "rbac.yaml") || strings.Contains(w.Message, "are not used")
	}) {
		t.Errorf("a directory with RBAC objects too: %v %v", err, ws)
	}
	if _, _, err := source.ReadAzure(ctx, []string{dir + "/rbac.yaml"}, source.ReadOptions{}); !errors.Is(err, source.ErrEmpty) || !strings.Contains(err.Error(), "no Azure RBAC data") {
		t.Errorf("RBAC objects alone: %v", err)
	}
}

// TestReadEligible: ARM's list of roleEligibilityScheduleInstances (and
// az rest's, the same JSON) is read as eligible assignments, apart from
// the role assignments: dates, status, member type, the principal's name
// from expandedProperties (a user's email, a group's display name); a
// snapshot keeps them.
func TestReadEligible(t *testing.T) {
	dir := "../testdata/azure"
	files := []string{filepath.Join(dir, "rbac.yaml"), filepath.Join(dir, "assignments-az.json"), filepath.Join(dir, "roles-az.json"), filepath.Join(dir, "eligible-rest.json")}
	r, err := source.Read(t.Context(), files, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := r.Snapshot.Azure
	if d == nil || d.ClusterID != aksProd || len(d.Assignments) != 2 || len(d.Eligible) != 3 {
		t.Fatalf("Azure data: %+v", d)
	}
	e := d.Eligible[0]
	if e.PrincipalID != "a0000000-0000-4000-8000-000000000004" || e.PrincipalName != "dave@contoso.com" || e.PrincipalType != "User" ||
		!strings.HasSuffix(e.Scope, "/namespaces/web") || e.End.Format("2006-01-02") != "2030-06-30" || e.Start.Format("2006-01-02") != "2026-01-15" ||
		e.Status != "Provisioned" || e.MemberType != "Direct" || !strings.HasSuffix(e.RoleDefinitionID, "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb") {
		t.Errorf("dave's eligibility: %+v", e)
	}
	if g := d.Eligible[1]; g.PrincipalName != "sre-oncall" || g.PrincipalType != "Group" || !g.End.IsZero() {
		t.Errorf("the group's eligibility, with no end: %+v", g)
	}
	b, err := json.Marshal(r.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"eligibleAssignments":[{"id":"`+d.Eligible[0].ID) || !strings.Contains(string(b), `"endDateTime":"2030-06-30T00:00:00Z"`) {
		t.Errorf("the snapshot does not keep the eligible assignments: %s", b)
	}
}
