package cmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/document"
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

// document.Write must write byte for byte what printDoc writes, in JSON
// and YAML, for empty lists, one item, and more items than one batch, for
// every document the commands stream (their lists tagged
// `document:"stream"`).
func TestWriteDocMatchesPrintDoc(t *testing.T) {
	for _, format := range []string{FormatJSON, FormatYAML} {
		for _, n := range []int{0, 1, 2, 255, 256, 257, 1000} {
			rep := &audit.Report{APIVersion: rbac.APIVersion, Kind: audit.Kind, Source: "x.yaml", Warnings: []rbac.Warning{{Message: "w"}}, Findings: []audit.Finding{}}
			for i := range n {
				rep.Findings = append(rep.Findings, audit.Finding{ID: "r-" + string(rune('a'+i%26)), Rule: "r", Message: word(i),
					Subjects: []rbac.Subject{{Kind: "User", Name: word(i + 1)}}, Objects: []rbac.ObjectRef{{Kind: "Role", Name: "x", Namespace: "n"}},
					Evidence: []rbac.Path{}})
			}
			same(t, format, fmt.Sprintf("audit, %d findings", n), rep)

			who := &access.WhoCanAnswer{APIVersion: rbac.APIVersion, Kind: "WhoCan", Query: access.WhoCanQuery{Attributes: rbac.Attributes{Verb: "get", Resource: word(n)}}}
			who.Warnings = []rbac.Warning{}
			for i := range n {
				who.Subjects = append(who.Subjects, rbac.SubjectGrant{Kind: "User", Name: word(i), Via: []rbac.Path{{Rule: rbacv1.PolicyRule{Verbs: []string{"get"}, Resources: []string{word(i + 2)}}}}})
			}
			same(t, format, fmt.Sprintf("who-can, %d subjects", n), who)

			what := &access.WhatCanAnswer{APIVersion: rbac.APIVersion, Kind: "WhatCan", Subject: rbac.Subject{Kind: "User", Name: word(n)}}
			what.Warnings = []rbac.Warning{}
			for i := range n {
				what.Rules = append(what.Rules, rbac.GrantedRule{Namespace: word(i), Verbs: []string{word(i + 3)}, Resources: []string{"pods"}, Via: []rbac.Path{}})
			}
			same(t, format, fmt.Sprintf("what-can, %d rules", n), what)

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
			same(t, format, fmt.Sprintf("snapshot, %d roles and bindings", n), snap)
		}
	}
}

func same(t *testing.T, format, what string, doc any) {
	t.Helper()
	var want, got bytes.Buffer
	if err := printDoc(&want, format, doc); err != nil {
		t.Fatal(err)
	}
	if err := document.Write(&got, format, doc); err != nil {
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
