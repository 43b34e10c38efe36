package audit_test

import (
	"github.com/kubectl-access/kubectl-access/audit"

	"fmt"
	"os"
	"strings"
	"testing"
)

// catalogueMarkdown is the rule catalogue table of docs/audit.md.
func catalogueMarkdown() string {
	var b strings.Builder
	b.WriteString("| rule | category | severity (at most) | why it matters | what the fix does |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range audit.Catalogue() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", r.Name, r.Category, r.Severity, r.Why, r.Fix)
	}
	return b.String()
}

// catalogueDoc is the page that holds the rule catalogue, between its
// markers.
const catalogueDoc = "../docs/audit.md"

// TestDocsCatalogue keeps the rule catalogue of docs/audit.md in step with
// the code; UPDATE_DOCS=1 rewrites it.
func TestDocsCatalogue(t *testing.T) {
	const begin, end = "<!-- rule catalogue: begin -->\n", "<!-- rule catalogue: end -->"
	b, err := os.ReadFile(catalogueDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q ... %q markers", catalogueDoc, begin, end)
	}
	want := catalogueMarkdown()
	if s[i+len(begin):j] == want {
		return
	}
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(catalogueDoc, []byte(s[:i+len(begin)]+want+s[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the rule catalogue of %s is out of date: run UPDATE_DOCS=1 go test ./audit -run TestDocsCatalogue", catalogueDoc)
}
