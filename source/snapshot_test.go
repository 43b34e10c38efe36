package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/source"
)

// TestSnapshotInPlace: a saved snapshot is decoded where it lies in its
// file (not parsed first to learn its kind and where it ends), and reads
// the same as before in every shape a stream may take: alone, followed by
// more objects, followed by garbage (an error at its line), with its kind
// given twice (refused), or with its fields in another order.
func TestSnapshotInPlace(t *testing.T) {
	const head = `{"apiVersion":"access.kubectl.io/v1alpha1","kind":"Snapshot","rulesAggregated":true,"namespaces":[{"metadata":{"name":"a"}}]`
	role := `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r","namespace":"a"}}`
	dir := t.TempDir()
	read := func(doc string) (*source.Result, error) {
		t.Helper()
		p := filepath.Join(dir, "in.json")
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return source.Read(t.Context(), []string{p}, source.ReadOptions{})
	}
	for name, doc := range map[string]string{
		"alone":           "\n  " + head + "}\n",
		"then a Role":     head + "}\n" + role + "\n",
		"fields reversed": `{"kind":"Snapshot","apiVersion":"access.kubectl.io/v1alpha1","rulesAggregated":true,"namespaces":[{"metadata":{"name":"a"}}]}` + role,
	} {
		r, err := read(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(r.Snapshot.Namespaces) != 1 || r.Snapshot.Namespaces[0].Name != "a" {
			t.Errorf("%s: namespaces %v", name, r.Snapshot.Namespaces)
		}
		if want := strings.Count(doc, `"kind":"Role"`); len(r.Snapshot.Roles) != want {
			t.Errorf("%s: %d roles, want %d", name, len(r.Snapshot.Roles), want)
		}
	}
	for name, c := range map[string]struct{ doc, want string }{
		"garbage after it": {head + "}\n\n]", "in.json:3"},
		"kind twice":       {head + `,"kind":"Role"}`, "given twice"},
		"unknown field":    {head + `,"extra":1}`, "unknown field"},
		"cut short":        {head, "in.json:1"},
		// Indented, as snapshot writes it: broken JSON is said at its line.
		"broken at line 4":  {"{\n  \"apiVersion\": \"access.kubectl.io/v1alpha1\",\n  \"kind\": \"Snapshot\",\n  \"namespaces\": [}\n}\n", "in.json:4: not a JSON object"},
		"cut short, line 4": {"{\n  \"apiVersion\": \"access.kubectl.io/v1alpha1\",\n  \"kind\": \"Snapshot\",\n  \"namespaces\": [", "in.json:4: not a JSON object"},
	} {
		if _, err := read(c.doc); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
}
