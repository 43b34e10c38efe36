package identity

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadNames(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"map.json":  `{"g1": "Team One", "g2": "Team Two"}`,
		"list.json": `[{"id": "g1", "displayName": "Team One"}, {"id": "g2", "name": "Team Two"}]`,
		"names.csv": "id,name\ng1,Team One\ng2, Team Two\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		n, err := LoadNames(t.Context(), p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n["g1"] != "Team One" || n["g2"] != "Team Two" || n.Label("g1") != "g1 (Team One)" || n.Label("g3") != "g3" {
			t.Errorf("%s: %v", name, n)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("just-an-id\n"), 0o600)
	if _, err := LoadNames(t.Context(), bad); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a line without a name: %v", err)
	}
	if _, err := LoadNames(t.Context(), filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "--group-names") {
		t.Errorf("a missing file: %v", err)
	}
}
