package audit

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/internal/testkit/hostile"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// marshalByReflection is how a finding was written before AppendJSON:
// encoding/json on the finding with its three lists as indexes.
func marshalByReflection(f Finding) ([]byte, error) {
	type plain Finding
	return json.Marshal(struct {
		plain
		Subjects []int `json:"subjects"`
		Objects  []int `json:"objects"`
		Evidence []int `json:"evidence"`
	}{plain(f), f.subjectRefs, f.objRefs, f.refs})
}

// A finding written by hand is byte for byte what encoding/json writes,
// with every optional field set or not and hostile text in each string.
func TestFindingAppendJSON(t *testing.T) {
	path := rbac.Path{Binding: &rbac.ObjectRef{Kind: "RoleBinding", Namespace: hostile.N.NS, Name: hostile.N.RB},
		Role: rbac.ObjectRef{Kind: "Role", Namespace: hostile.N.NS, Name: hostile.N.Role}}
	path.Rule.Verbs, path.Rule.Resources = []string{"get"}, []string{"secrets"}
	base := Finding{ID: "secrets-read-0123456789", Rule: "secrets-read", Severity: High, Category: CategoryRBAC,
		Title: "Subject can read <secrets> & more", Message: "u-" + hostile.Payload + " can read secrets",
		Subjects: []rbac.Subject{{Kind: rbac.UserKind, Name: hostile.N.User}}, Evidence: []rbac.Path{path}}
	variants := []func(*Finding){
		func(*Finding) {},
		func(f *Finding) { f.Fixable, f.Managed, f.Default = true, true, true },
		func(f *Finding) { f.Scope = ScopeClusterWide },
		func(f *Finding) {
			f.People = []GroupPeople{{Group: hostile.N.Display, People: 3, Guests: 1, AtLeast: true}}
		},
		func(f *Finding) { f.Subjects, f.Evidence = nil, nil },
		func(f *Finding) { f.Severity, f.Message = Info, "" },
	}
	for i, change := range variants {
		f := base
		change(&f)
		f.Objects = objectsOf(nil, f.Evidence)
		rep := &Report{Findings: []Finding{f}}
		rep.SharePaths()
		want, err := marshalByReflection(rep.Findings[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(rep.Findings[0])
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("variant %d:\n got %s\nwant %s", i, got, want)
		}
		// And through AppendJSON after other text, as a document's batch
		// appends it.
		if b, _ := rep.Findings[0].AppendJSON([]byte("[")); string(b) != "["+string(want) {
			t.Errorf("variant %d: AppendJSON after text gives %s", i, b)
		}
		if !strings.Contains(string(got), `"evidence":[`) {
			t.Errorf("variant %d: no evidence indexes in %s", i, got)
		}
	}
}

// SharePaths gives one index to equal paths wherever their memory is
// (the index's paths share their binding and rule lists; a copy does
// not), and tells apart paths that differ in binding, role or rule.
func TestSharePathsEqualPathsOnce(t *testing.T) {
	binding := rbac.ObjectRef{Kind: "RoleBinding", Namespace: "ns", Name: "rb"}
	rule := func(verbs ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: []string{""}, Resources: []string{"pods"}}
	}
	role := rbac.ObjectRef{Kind: "Role", Namespace: "ns", Name: "r"}
	shared := rbac.Path{Binding: &binding, Role: role, Rule: rule("get")}
	bindingCopy := binding
	paths := []rbac.Path{
		shared,
		shared, // the same memory
		{Binding: &bindingCopy, Role: role, Rule: rule("get")},                                                  // equal, elsewhere
		{Binding: &binding, Role: role, Rule: rule("list")},                                                     // another rule
		{Binding: &binding, Role: rbac.ObjectRef{Kind: "Role", Namespace: "ns", Name: "r2"}, Rule: rule("get")}, // another role
		{Binding: &rbac.ObjectRef{Kind: "RoleBinding", Namespace: "ns", Name: "rb2"}, Role: role, Rule: rule("get")},
		{Role: rbac.ObjectRef{Kind: "ClusterRole", Name: "system:masters"}, Rule: rule("*")}, // no binding
		{Role: rbac.ObjectRef{Kind: "ClusterRole", Name: "system:masters"}, Rule: rule("*")},
	}
	rep := &Report{Findings: []Finding{{Evidence: paths[:4]}, {Evidence: paths[4:]}}}
	rep.SharePaths()
	got := append(slices.Clone(rep.Findings[0].refs), rep.Findings[1].refs...)
	if want := []int{0, 0, 0, 1, 2, 3, 4, 4}; !slices.Equal(got, want) {
		t.Errorf("refs %v, want %v", got, want)
	}
	if len(rep.Paths) != 5 {
		t.Errorf("%d paths in the table, want 5", len(rep.Paths))
	}
}
