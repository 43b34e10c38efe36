package access

import (
	"slices"
	"testing"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestExpand: the requests verification asks about a rule (fix.Atoms).
func TestExpand(t *testing.T) {
	r := &rbac.GrantedRule{Namespace: "web", APIGroups: []string{"", "apps"}, Resources: []string{"pods", "*/scale"},
		Verbs: []string{"get", "*"}, ResourceNames: []string{"a", "b"}}
	got := fix.Atoms(*r)
	if len(got) != 2*2*2*2 {
		t.Fatalf("%d requests, want 16: %+v", len(got), got)
	}
	want := rbac.Attributes{Verb: "*", APIGroup: "apps", Resource: "*", Subresource: "scale", Name: "b", Namespace: "web"}
	if !slices.Contains(got, want) {
		t.Errorf("no %+v among %+v", want, got)
	}
	// Every expanded request is one the rule itself allows, as the
	// authorizer matches it.
	for _, at := range got {
		if pr := r.PolicyRule(); !rbac.RuleAllows(&at, &pr) {
			t.Errorf("the rule does not allow its own expansion %+v", at)
		}
	}
	urls := fix.Atoms(rbac.GrantedRule{NonResourceURLs: []string{"/healthz", "/logs/*"}, Verbs: []string{"get"}})
	if len(urls) != 2 || urls[1].Path != "/logs/*" || urls[1].Namespace != "" {
		t.Errorf("non-resource expansion: %+v", urls)
	}
}

func TestPick(t *testing.T) {
	items := make([]int, 1000)
	for i := range items {
		items[i] = i
	}
	got, note := pick(items, 50, false)
	if len(got) != 50 || got[0] != 0 || got[49] < 900 || note != "50" {
		t.Errorf("pick 50 of 1000: %v %q", got, note)
	}
	if all, note := pick(items, 50, true); len(all) != 1000 || note != "" {
		t.Errorf("pick every: %d %q", len(all), note)
	}
	if few, note := pick(items[:10], 50, false); len(few) != 10 || note != "" {
		t.Errorf("pick from fewer: %d %q", len(few), note)
	}
}

func TestObjectID(t *testing.T) {
	for _, tc := range []struct {
		s    rbac.Subject
		want string
	}{
		{rbac.Subject{Kind: rbac.UserKind, Name: "0d2f7c1e-0000-4000-8000-0000000000f1"}, "0d2f7c1e-0000-4000-8000-0000000000f1"},
		{rbac.Subject{Kind: rbac.UserKind, Name: "alice@contoso.com"}, ""},
		{rbac.Subject{Kind: rbac.GroupKind, Name: "0d2f7c1e-0000-4000-8000-0000000000f1"}, ""},
	} {
		if got := ObjectID(tc.s); got != tc.want {
			t.Errorf("ObjectID(%v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}
