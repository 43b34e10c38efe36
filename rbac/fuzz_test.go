package rbac

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// FuzzParseSubject: a subject that parses prints back to a form that
// parses to the same subject.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"user:alice", "group:system:masters", "sa:ns:name", "u:system:serviceaccount:a:b", "sa::x", "user:", "g:a:b:c", "x", "sp:c0000000-0000-4000-8000-000000000003", "mi:C0000000-0000-4000-8000-000000000003"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sub, err := ParseSubject(s)
		if err != nil {
			return
		}
		again, err := ParseSubject(sub.String())
		if err != nil || again.Kind != sub.Kind || again.Name != sub.Name || again.Namespace != sub.Namespace || again.PrincipalType != sub.PrincipalType {
			t.Fatalf("%q parses to %+v, which prints as %q and parses to %+v (%v)", s, sub, sub.String(), again, err)
		}
	})
}

// FuzzRuleAllows holds the ported matcher to the authorizer's semantics: a
// rule naming exactly the request's verb, group, resource (with its
// subresource) and name allows it; replacing any of them with the
// wildcard never turns an allow into a deny; a rule with resourceNames
// never allows a request without a name.
func FuzzRuleAllows(f *testing.F) {
	f.Add("get", "", "pods", "", "p", "ns")
	f.Add("update", "apps", "deployments", "scale", "", "ns")
	f.Add("create", "", "pods", "exec", "x", "")
	f.Fuzz(func(t *testing.T, verb, group, resource, sub, name, ns string) {
		if verb == "" || resource == "" || strings.Contains(resource, "/") || strings.Contains(sub, "/") {
			return
		}
		a := Attributes{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Name: name, Namespace: ns}
		combined := resource
		if sub != "" {
			combined += "/" + sub
		}
		exact := rbacv1.PolicyRule{Verbs: []string{verb}, APIGroups: []string{group}, Resources: []string{combined}}
		if name != "" {
			exact.ResourceNames = []string{name}
		}
		if !RuleAllows(&a, &exact) {
			t.Fatalf("the exact rule %s does not allow %s", RuleString(exact), a.String())
		}
		wild := exact
		wild.Verbs, wild.APIGroups, wild.Resources = []string{"*"}, []string{"*"}, []string{"*"}
		if !RuleAllows(&a, &wild) {
			t.Fatalf("wildcards deny %s", a.String())
		}
		if sub != "" {
			star := exact
			star.Resources = []string{"*/" + sub}
			if !RuleAllows(&a, &star) {
				t.Fatalf("*/%s does not allow %s", sub, a.String())
			}
		}
		named := exact
		named.ResourceNames = []string{"only-this"}
		unnamed := a
		unnamed.Name = ""
		if RuleAllows(&unnamed, &named) {
			t.Fatalf("a rule with resourceNames allows %s, which has no name", unnamed.String())
		}
	})
}

// ObjectRef's hand-written JSON is encoding/json's, in both shapes: with an
// apiVersion (an empty namespace left out) and without (namespace always
// present).
func FuzzObjectRefJSON(f *testing.F) {
	for _, s := range []string{"", "x", "a\"b\\c", "<&>", "über", "\u2028", "\x00\x1f", "\xff\xfe", "ns/name"} {
		f.Add(s, s, "rbac.authorization.k8s.io/v1")
		f.Add("Role", s, "")
	}
	f.Fuzz(func(t *testing.T, name, ns, version string) {
		r := ObjectRef{APIVersion: version, Kind: "Role", Name: name, Namespace: ns}
		got, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		if version == "" {
			want, _ = json.Marshal(struct {
				Kind      string `json:"kind"`
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			}{r.Kind, r.Name, r.Namespace})
		} else {
			want, _ = json.Marshal(struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Name       string `json:"name"`
				Namespace  string `json:"namespace,omitempty"`
			}{r.APIVersion, r.Kind, r.Name, r.Namespace})
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%#v: %s, want %s", r, got, want)
		}
	})
}
