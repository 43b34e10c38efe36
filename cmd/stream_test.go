package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Strings that stress both encoders: long enough for YAML to fold, with
// newlines, quotes, list and key syntax, numbers and booleans as text.
var awkward = []string{
	"m\n\"q\" <&>",
	strings.Repeat("a long message with spaces that YAML folds ", 6),
	"- not an item",
	"roles:\n- x",
	"\n  \"subjects\": [\n",
	"0123", "yes", "null", "", "über ✓ \u202e",
}

func word(i int) string { return awkward[i%len(awkward)] }

// writeDoc must write byte for byte what printDoc writes, in JSON and
// YAML, for empty lists, one item, and more items than one batch, for
// every document it streams.
func TestWriteDocMatchesPrintDoc(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatYAML} {
		for _, n := range []int{0, 1, 2, 255, 256, 257, 1000} {
			rep := &audit.Report{APIVersion: rbac.APIVersion, Kind: audit.Kind, Source: "x.yaml", Warnings: []rbac.Warning{{Message: "w"}}, Findings: []audit.Finding{}}
			for i := range n {
				rep.Findings = append(rep.Findings, audit.Finding{ID: "r-" + string(rune('a'+i%26)), Rule: "r", Message: word(i),
					Subjects: []rbac.Subject{{Kind: "User", Name: word(i + 1)}}, Objects: []rbac.ObjectRef{{Kind: "Role", Name: "x", Namespace: "n"}},
					Evidence: []rbac.Path{}})
			}
			doc := *rep
			doc.Findings = firstOf(rep.Findings)
			same(t, format, fmt.Sprintf("audit, %d findings", n), rep, &doc, listOf("findings", rep.Findings))

			who := &access.WhoCanAnswer{APIVersion: rbac.APIVersion, Kind: "WhoCan", Query: access.WhoCanQuery{Attributes: rbac.Attributes{Verb: "get", Resource: word(n)}}}
			who.Warnings = []rbac.Warning{}
			for i := range n {
				who.Subjects = append(who.Subjects, rbac.SubjectGrant{Kind: "User", Name: word(i), Via: []rbac.Path{{Rule: rbacv1.PolicyRule{Verbs: []string{"get"}, Resources: []string{word(i + 2)}}}}})
			}
			wdoc := *who
			wdoc.Subjects = firstOf(who.Subjects)
			same(t, format, fmt.Sprintf("who-can, %d subjects", n), who, &wdoc, listOf("subjects", who.Subjects))

			what := &access.WhatCanAnswer{APIVersion: rbac.APIVersion, Kind: "WhatCan", Subject: rbac.Subject{Kind: "User", Name: word(n)}}
			what.Warnings = []rbac.Warning{}
			for i := range n {
				what.Rules = append(what.Rules, rbac.GrantedRule{Namespace: word(i), Verbs: []string{word(i + 3)}, Resources: []string{"pods"}, Via: []rbac.Path{}})
			}
			wadoc := *what
			wadoc.Rules = firstOf(what.Rules)
			same(t, format, fmt.Sprintf("what-can, %d rules", n), what, &wadoc, listOf("rules", what.Rules))

			// The snapshot streams several lists, some empty or of one
			// item, around fields that are not lists.
			snap := rbac.NewSnapshot()
			snap.Source = word(n)
			for i := range n {
				snap.Roles = append(snap.Roles, rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: word(i), Namespace: "n"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}}}})
				snap.RoleBindings = append(snap.RoleBindings, rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: word(i + 1), Namespace: "n"}})
			}
			snap.ClusterRoles = []rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "one"}}}
			snap.GMSAInstalled = true
			sdoc := *snap
			sdoc.Roles, sdoc.RoleBindings, sdoc.ClusterRoles = firstOf(snap.Roles), firstOf(snap.RoleBindings), firstOf(snap.ClusterRoles)
			same(t, format, fmt.Sprintf("snapshot, %d roles and bindings", n), snap, &sdoc,
				listOf("roles", snap.Roles), listOf("roleBindings", snap.RoleBindings), listOf("clusterRoles", snap.ClusterRoles),
				listOf("serviceAccounts", snap.ServiceAccounts))
		}
	}
	if err := writeDoc(&bytes.Buffer{}, FormatJSON, map[string]any{"other": []int{}}, listOf("findings", []int{1, 2})); err == nil {
		t.Fatal("a document without the key was accepted")
	}
	if err := writeDoc(&bytes.Buffer{}, FormatYAML, map[string]any{"findings": []int{}}, listOf("findings", []int{1, 2})); err == nil {
		t.Fatal("a document whose list is empty, not of one item, was accepted")
	}
}

func same(t *testing.T, format, what string, whole, head any, lists ...streamed) {
	t.Helper()
	var want, got bytes.Buffer
	if err := printDoc(&want, format, whole); err != nil {
		t.Fatal(err)
	}
	if err := writeDoc(&got, format, head, lists...); err != nil {
		t.Fatalf("%s %s: %v", format, what, err)
	}
	if !bytes.Equal(want.Bytes(), got.Bytes()) {
		w, g := want.String(), got.String()
		i := 0
		for i < min(len(w), len(g)) && w[i] == g[i] {
			i++
		}
		t.Fatalf("%s %s: streamed output differs from the whole document's at byte %d:\n--- want\n%.600s\n--- got\n%.600s", format, what, i, w[max(0, i-200):], g[max(0, i-200):])
	}
}

// --profile writes a profile readable only by its owner, and refuses an
// unknown kind.
func TestProfileFlags(t *testing.T) {
	for _, kind := range []string{"cpu", "heap"} {
		out := filepath.Join(t.TempDir(), kind+".pprof")
		if _, stderr, code := run(t, "who-can", "get", "secrets", "-n", "prod", "-f", "testdata/team.yaml", "--profile", kind, "--profile-output", out); code != 0 {
			t.Fatalf("--profile %s: exit %d: %s", kind, code, stderr)
		}
		st, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() == 0 || st.Mode().Perm() != 0o600 {
			t.Fatalf("--profile %s: %d bytes, mode %v; want a non-empty 0600 file", kind, st.Size(), st.Mode().Perm())
		}
	}
	if _, stderr, code := run(t, "version", "--profile", "trace"); code != ExitError || !strings.Contains(stderr, "want none, cpu or heap") {
		t.Fatalf("--profile trace: exit %d, %q", code, stderr)
	}
}

// indent is json.Indent for compact JSON: the same bytes for every valid
// document (fuzzed; the seeds cover escapes, nesting and empty values).
func FuzzIndent(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `[{}]`, `{"a":[]}`, `{"a":{"b":[1,2,{"c":null}]},"d":"x"}`,
		`"a\"b\\"`, `["\\\\",":,[{","\u2028"]`, `{"\"":"\\\"{"}`, `[true,false,-1.5e10,0]`,
		`[[[[]]],[[{}]]]`, `{"k":"v","e":{},"l":[[],{}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, compact.Bytes(), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		if got := indent(nil, compact.Bytes(), "  ", "  "); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("indent(%q) =\n%s\nwant\n%s", compact.Bytes(), got, want.Bytes())
		}
	})
}
