package access_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// openFiles opens a session over files, resolving names over the built-in
// catalog as the command line does offline.
func openFiles(t testing.TB, files ...string) *access.Session {
	t.Helper()
	cat := loading.Builtin()
	a := &access.App{Files: files, Catalog: cat, Resolver: cluster.NewResolver(cat), Namespace: "default"}
	s, err := a.Open(t.Context(), loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMatrixAgreesWithCan walks every cell of every subject's matrix in
// every scope of the demo and asks the engine's can for the same request:
// a cell is allowed exactly when can says yes (on the named object, for
// "~"), and the other-verbs cell hides no verb, the dangerous ones
// (escalate, bind, impersonate) and "*" included.
func TestMatrixAgreesWithCan(t *testing.T) {
	for _, files := range [][]string{{"../testdata/demo/cluster.yaml"},
		// Azure RBAC's grants, by the engine's Azure link.
		{"../testdata/azure/rbac.yaml", "../testdata/azure/assignments-az.json", "../testdata/azure/assignments-rest.json", "../testdata/azure/roles-az.json", "../testdata/azure/denies-rest.json"}} {
		t.Run(filepath.Base(files[len(files)-1]), func(t *testing.T) { matrixAgreesWithCan(t, files) })
	}
}

func matrixAgreesWithCan(t *testing.T, files []string) {
	sess := openFiles(t, files...)
	others := append(slices.Clone(rbac.SpecialVerbs), "*")
	cells, wild := 0, 0
	for _, si := range sess.Subjects() {
		id := si.Subject.Identity()
		rules := sess.SubjectRules(si.Subject).Rules
		for _, scope := range access.MatrixScopes(rules) {
			mx := sess.Matrix(si.Subject, rules, scope)
			for _, r := range mx.Rows {
				check := func(verb string, c access.MatrixCell, shown bool) {
					t.Helper()
					cells++
					if c.Wild {
						wild++
					}
					at := r.Attrs
					at.Verb = verb
					can := sess.Index.Can(id, at).Allowed
					switch {
					case c.State == access.Allowed && shown != can:
						t.Errorf("%s %s %s %q: matrix allowed=%v, can %v", si.Subject, verb, r.Label, scope, shown, can)
					case c.State == access.NamedOnly && can:
						t.Errorf("%s %s %s %q: matrix says named objects only, can says every object", si.Subject, verb, r.Label, scope)
					case c.State == access.Denied && can:
						t.Errorf("%s %s %s %q: matrix hides what can allows", si.Subject, verb, r.Label, scope)
					}
				}
				for i, v := range access.MatrixVerbs {
					check(v, r.Cells[i], true)
				}
				last := r.Cells[len(access.MatrixVerbs)]
				for _, v := range others {
					if v == "*" && sess.Index.AzureLoaded() {
						// A verb of "*" is a review's, never a request's: the
						// cell shows it for RBAC's every-verb rules only.
						continue
					}
					shown := slices.Contains(r.Other, v) || slices.Contains(r.Other, "*")
					c := last
					if !shown {
						c = access.MatrixCell{}
					}
					check(v, c, shown)
				}
			}
		}
	}
	if !sess.Index.AzureLoaded() {
		demoMatrix(t, sess, cells, wild)
		return
	}
	// Azure: the writer role's pods/* and secrets/* wildcards.
	if cells < 100 || wild == 0 {
		t.Errorf("walked %d cells, %d through a wildcard: the Azure fixture should give more of both", cells, wild)
	}
}

func demoMatrix(t *testing.T, sess *access.Session, cells, wild int) {
	if cells < 1000 || wild == 0 {
		t.Errorf("walked %d cells, %d through a wildcard: the demo should give more of both", cells, wild)
	}
	// alice holds * on * in web: the matrix shows every verb there, "*" in
	// the other-verbs cell, through a wildcard.
	alice := rbac.Subject{Kind: rbac.UserKind, Name: "alice@contoso.com"}
	mx := sess.Matrix(alice, sess.SubjectRules(alice).Rules, "web")
	i := slices.IndexFunc(mx.Rows, func(r access.MatrixRow) bool { return r.Label == "*.*" })
	if i < 0 || !slices.Contains(mx.Rows[i].Other, "*") || mx.Rows[i].Cells[len(access.MatrixVerbs)].State != access.Allowed || !mx.Rows[i].Cells[0].Wild {
		t.Errorf("alice's * on * in web: %+v", mx.Rows)
	}
}

// TestMatrixURLsLast: a matrix lists resources by name, then non-resource
// URLs (discovery's paths matter least).
func TestMatrixURLsLast(t *testing.T) {
	sess := openFiles(t, "../testdata/demo/cluster.yaml")
	seen := false
	for _, si := range sess.Subjects() {
		mx := sess.Matrix(si.Subject, sess.SubjectRules(si.Subject).Rules, "")
		url, resources := false, 0
		for _, r := range mx.Rows {
			switch {
			case r.Attrs.Path != "":
				url = true
			case url:
				t.Errorf("%s: resource %s after a non-resource URL", si.Subject, r.Label)
			default:
				resources++
			}
		}
		seen = seen || url && resources > 0
	}
	if !seen {
		t.Error("no matrix with both kinds of rows: the test proves nothing")
	}
}
