package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// writeListJSON must write byte for byte what printDoc writes, for an
// empty list, one item, and more items than one batch.
func TestWriteListJSONMatchesPrintDoc(t *testing.T) {
	for _, n := range []int{0, 1, 2, 255, 256, 257, 1000} {
		rep := &audit.Report{APIVersion: rbac.APIVersion, Kind: audit.Kind, Source: "x.yaml", Warnings: []rbac.Warning{{Message: "w"}}, Findings: []audit.Finding{}}
		for i := range n {
			rep.Findings = append(rep.Findings, audit.Finding{ID: "r-" + string(rune('a'+i%26)), Rule: "r", Message: "m\n\"q\" <&>",
				Subjects: []rbac.Subject{{Kind: "User", Name: "u"}}, Objects: []rbac.ObjectRef{{Kind: "Role", Name: "x", Namespace: "n"}},
				Evidence: []rbac.Path{}})
		}
		var want, got bytes.Buffer
		if err := printDoc(&want, "json", rep); err != nil {
			t.Fatal(err)
		}
		doc := *rep
		doc.Findings = []audit.Finding{}
		if err := writeListJSON(&got, &doc, "findings", rep.Findings); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Fatalf("%d findings: streamed JSON differs from MarshalIndent:\n--- want\n%.2000s\n--- got\n%.2000s", n, want.String(), got.String())
		}
	}
	if err := writeListJSON(&bytes.Buffer{}, map[string]any{"other": []int{}}, "findings", []int{1}); err == nil {
		t.Fatal("a document without the key was accepted")
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
