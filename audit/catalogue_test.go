package audit_test

import (
	"github.com/kubectl-access/kubectl-access/audit"

	"fmt"
	"os"
	"strings"
	"testing"
)

// catalogueMarkdown is the README's rule catalogue table.
func catalogueMarkdown() string {
	var b strings.Builder
	b.WriteString("| rule | category | severity (at most) | why it matters | what the fix does |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range audit.Catalogue() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.Name, r.Category, r.Severity, r.Why, r.Fix)
	}
	return b.String()
}

// TestREADMECatalogue keeps the README's rule catalogue in step with the
// code; UPDATE_README=1 rewrites it.
func TestREADMECatalogue(t *testing.T) {
	const begin, end = "<!-- rule catalogue: begin -->\n", "<!-- rule catalogue: end -->"
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", begin, end)
	}
	want := catalogueMarkdown()
	if s[i+len(begin):j] == want {
		return
	}
	if os.Getenv("UPDATE_README") == "1" {
		if err := os.WriteFile("../README.md", []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Error("README.md's rule catalogue is out of date: run UPDATE_README=1 go test ./audit -run TestREADMECatalogue")
}
