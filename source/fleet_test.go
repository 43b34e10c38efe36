package source_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/source"
)

// TestReadFleet: a directory holding fleet.yaml is a fleet; its index is
// checked (kind, contexts, files beside it and nowhere else); a fleet given
// with other inputs is refused, since its clusters must not be merged.
func TestReadFleet(t *testing.T) {
	if f, err := source.ReadFleet([]string{"testdata", "-"}); f != nil || err != nil {
		t.Errorf("an ordinary directory: %v %v", f, err)
	}
	f, err := source.ReadFleet([]string{"../testdata/fleet"})
	if err != nil || f == nil || len(f.Index.Clusters) != 2 || f.Index.Clusters[0].Context != "prod-east" {
		t.Fatalf("testdata/fleet: %+v %v", f, err)
	}
	if p := f.Path(f.Index.Clusters[1]); p != filepath.Join("../testdata/fleet", "prod-west.yaml") {
		t.Errorf("path %s", p)
	}
	if _, err := source.ReadFleet([]string{"../testdata/fleet", "../testdata/demo"}); err == nil || !strings.Contains(err.Error(), "give it alone") {
		t.Errorf("a fleet with another input: %v", err)
	}
	head := "apiVersion: access.kubectl.io/v1alpha1\nkind: FleetSnapshot\n"
	for name, tc := range map[string]struct{ index, want string }{
		"escape":       {head + "clusters:\n- {context: a, file: ../../etc/passwd}\n", "not a name in the directory"},
		"absolute":     {head + "clusters:\n- {context: a, file: /etc/passwd}\n", "not a name in the directory"},
		"twice":        {head + "clusters:\n- {context: a, file: a.yaml}\n- {context: a, file: a.yaml}\n", "listed twice"},
		"no context":   {head + "clusters:\n- {file: a.yaml}\n", "no context"},
		"nothing":      {head + "clusters:\n- {context: a}\n", "neither a file nor an error"},
		"missing file": {head + "clusters:\n- {context: a, file: gone.yaml}\n", "gone.yaml"},
		"empty":        {head + "clusters: []\n", "lists no cluster"},
		"wrong kind":   {"apiVersion: v1\nkind: List\nclusters: []\n", "want FleetSnapshot"},
		"unknown key":  {head + "clusters:\n- {context: a, file: a.yaml, fiel: b}\n", "fiel"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, source.FleetIndexFile), []byte(tc.index), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := source.ReadFleet([]string{dir}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, tc.want)
		}
	}
	// What WriteFleetIndex writes reads back, owner-only.
	dir := t.TempDir()
	entries := []source.FleetEntry{{Context: "a", Server: "https://a", File: "a.yaml", Incomplete: true}, {Context: "b", Error: "connection refused"}}
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := source.WriteFleetIndex(dir, entries, false); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, source.FleetIndexFile)); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("index mode %v %v", st.Mode(), err)
	}
	back, err := source.ReadFleet([]string{dir})
	if err != nil || len(back.Index.Clusters) != 2 || back.Index.Clusters[1].Error != "connection refused" || !back.Index.Clusters[0].Incomplete {
		t.Errorf("read back: %+v %v", back, err)
	}
}

// TestFleetFileName: a context's file name keeps only safe characters,
// never leaves the directory, never takes the index's name, and is unique
// (case-insensitively, for the file systems that fold case).
func TestFleetFileName(t *testing.T) {
	taken := map[string]bool{}
	for _, tc := range []struct{ context, want string }{
		{"prod-east", "prod-east.yaml"},
		{"arn:aws:eks:us-east-1:1:cluster/prod", "arn_aws_eks_us-east-1_1_cluster_prod.yaml"},
		{"../../etc/cron.d/x", "_.._etc_cron.d_x.yaml"},
		{"PROD-EAST", "PROD-EAST-2.yaml"},
		{"fleet", "fleet-2.yaml"},
		{"a\nb\x1b[31m$(rm -rf ~)", "a_b__31m__rm_-rf___.yaml"},
		{"", "cluster.yaml"},
		{"...", "cluster-2.yaml"},
		{"über", "_ber.yaml"},
	} {
		got := source.FleetFileName(tc.context, taken)
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.context, got, tc.want)
		}
		if filepath.Base(got) != got || strings.HasPrefix(got, ".") {
			t.Errorf("%q: %q is not a plain name", tc.context, got)
		}
	}
}

// TestMergedClustersWarn: snapshots saved from two contexts read as one
// view say so (that view answers for neither cluster); two of one context
// (saved twice) do not.
func TestMergedClustersWarn(t *testing.T) {
	dir := t.TempDir()
	write := func(name, context string) string {
		p := filepath.Join(dir, name)
		doc := "apiVersion: access.kubectl.io/v1alpha1\nkind: Snapshot\nsource: context " + context + "\nrulesAggregated: true\nnamespaces:\n- metadata: {name: " + name[:1] + "}\n"
		if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, a2, b := write("a.yaml", "prod-a"), write("c.yaml", "prod-a"), write("b.yaml", "prod-b")
	has := func(paths ...string) bool {
		r, err := source.Read(t.Context(), paths, source.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range r.Warnings {
			if w.Code == source.WarnMerged {
				return strings.Contains(w.Message, "context prod-a at") && strings.Contains(w.Message, "context prod-b at")
			}
		}
		return false
	}
	if !has(a, b) {
		t.Error("two clusters' snapshots merged without a warning")
	}
	if has(a, a2) {
		t.Error("one cluster's snapshots warned as two clusters")
	}
}
