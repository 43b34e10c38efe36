package guardhook

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
)

const demoCluster = "/subscriptions/8c1d5f2a-3b4e-4f6a-9d7c-2e5b8a1f0c3d/resourceGroups/rg-contoso-aks/providers/Microsoft.ContainerService/managedClusters/aks-contoso"

func demo(t *testing.T) *Fixture {
	t.Helper()
	dir := "../../../testdata/demo/azure"
	f, err := ReadAzJSON(demoCluster, filepath.Join(dir, "assignments.json"), filepath.Join(dir, "roles.json"), filepath.Join(dir, "denies.json"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestReadAzJSON: the demo's az-shaped files read whole (flattened az
// role definitions, a conditional assignment, an ARM deny assignment), and
// what WriteAzJSON writes reads back the same.
func TestReadAzJSON(t *testing.T) {
	f := demo(t)
	if len(f.Assignments) != 8 || len(f.Roles) != 5 || len(f.Denies) != 1 {
		t.Fatalf("demo fixture: %d assignments, %d roles, %d denies", len(f.Assignments), len(f.Roles), len(f.Denies))
	}
	conditional := 0
	for _, a := range f.Assignments {
		if a.Condition != "" {
			conditional++
		}
		if a.PrincipalName == "" || a.RoleID == "" || a.Scope == "" {
			t.Errorf("assignment read in part: %+v", a)
		}
	}
	if conditional != 1 {
		t.Errorf("%d conditional assignments, want 1", conditional)
	}
	if d := f.Denies[0]; len(d.Principals) != 1 || d.Principals[0] != Everyone || len(d.Perm.DataActions) != 1 {
		t.Errorf("deny assignment: %+v", d)
	}
	dir := t.TempDir()
	files, err := f.WriteAzJSON(dir)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadAzJSON(demoCluster, files...)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Assignments, f.Assignments) || !reflect.DeepEqual(back.Roles, f.Roles) || !reflect.DeepEqual(back.Denies, f.Denies) {
		t.Errorf("written and read back differ:\n%+v\n%+v", back, f)
	}
	for _, bad := range []string{`{"value": [{"id": "x", "type": "Microsoft.Compute/virtualMachines"}]}`, `[1, 2]`, `{`,
		`{"value": [{"id": "d", "type": "Microsoft.Authorization/denyAssignments", "properties": {"permissions": [{}, {}]}}]}`} {
		p := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(p, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadAzJSON(demoCluster, p); err == nil || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("%s: %v, want an error naming the file", bad, err)
		}
	}
}

// TestDecide: guard's verdicts and reasons on the demo's fixture.
func TestDecide(t *testing.T) {
	f := demo(t)
	const (
		sre      = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e04"
		payments = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02"
		web      = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e03"
		dana     = "3d9e7f21-5a6b-4c8d-9e0f-1a2b3c4d5e64"
		erin     = "3d9e7f21-5a6b-4c8d-9e0f-1a2b3c4d5e65"
	)
	req := func(user, oid string, groups []string, verb, group, resource, sub, ns string) authorizationv1.SubjectAccessReviewSpec {
		s := authorizationv1.SubjectAccessReviewSpec{User: user, Groups: groups,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: resource, Subresource: sub, Namespace: ns}}
		if oid != "" {
			s.Extra = map[string]authorizationv1.ExtraValue{"oid": {oid}}
		}
		return s
	}
	for _, c := range []struct {
		name    string
		spec    authorizationv1.SubjectAccessReviewSpec
		allowed bool
		reason  string
	}{
		{"system user", req("system:serviceaccount:ci:deployer", "", nil, "get", "", "secrets", "", "ci"), false, "Azure does not have opinion for this user."},
		{"no oid", req("cert-admin", "", nil, "get", "", "secrets", "", "ci"), false, "Azure does not have opinion for this non AAD user"},
		{"inherited cluster admin", req("sam@contoso.com", "9d000000-0000-4000-8000-000000000001", []string{sre}, "delete", "", "nodes", "", ""), true, "Access allowed by Azure RBAC Role Assignment"},
		{"namespace writer in its namespace", req("pat@contoso.com", "9d000000-0000-4000-8000-000000000002", []string{payments}, "get", "", "secrets", "", "payments"), true, "Access allowed by Azure RBAC"},
		{"namespace writer elsewhere", req("pat@contoso.com", "9d000000-0000-4000-8000-000000000002", []string{payments}, "get", "", "secrets", "", "web"), false, "User does not have access to the resource in Azure"},
		{"namespace writer across namespaces", req("pat@contoso.com", "9d000000-0000-4000-8000-000000000002", []string{payments}, "list", "", "secrets", "", ""), false, "User does not have access"},
		{"deny assignment beats cluster admin", req("sam@contoso.com", "9d000000-0000-4000-8000-000000000001", []string{sre}, "create", "", "pods", "exec", "payments"), false, "User does not have access"},
		{"exec elsewhere", req("sam@contoso.com", "9d000000-0000-4000-8000-000000000001", []string{sre}, "create", "", "pods", "exec", "web"), true, "Access allowed"},
		{"notDataActions", req("wes@contoso.com", "9d000000-0000-4000-8000-000000000003", []string{web}, "get", "", "secrets", "", "web"), false, "User does not have access"},
		{"custom wildcard", req("wes@contoso.com", "9d000000-0000-4000-8000-000000000003", []string{web}, "delete", "apps", "deployments", "", "web"), true, "Access allowed"},
		{"reader at the cluster, all namespaces", req("dana@contoso.com", dana, nil, "list", "", "pods", "", ""), true, "Access allowed"},
		{"reader reads no secrets", req("dana@contoso.com", dana, nil, "get", "", "secrets", "", "web"), false, "User does not have access"},
		{"conditional assignment grants nothing", req("erin@contoso.com", erin, nil, "get", "", "pods", "", "web"), false, "User does not have access"},
	} {
		got := f.Decide(c.spec)
		if got.Allowed != c.allowed || !strings.HasPrefix(got.Reason, c.reason) || got.Denied != strings.HasPrefix(c.reason, "User does not have access") {
			t.Errorf("%s: allowed %v denied %v (%s), want allowed %v (%s...)", c.name, got.Allowed, got.Denied, got.Reason, c.allowed, c.reason)
		}
	}
	disc := authorizationv1.SubjectAccessReviewSpec{User: "x@contoso.com", Extra: map[string]authorizationv1.ExtraValue{"oid": {"9d000000-0000-4000-8000-000000000009"}},
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/apis/apps/v1"}}
	if got := f.Decide(disc); !got.Allowed {
		t.Errorf("discovery: %+v", got)
	}
}
