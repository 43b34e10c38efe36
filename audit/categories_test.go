package audit_test

import (
	"slices"
	"testing"

	"github.com/kubectl-access/kubectl-access/audit"
)

// TestCategories: every rule's category is offered, each once, rbac
// first (what the explorer's c cycles through).
func TestCategories(t *testing.T) {
	cats := audit.Categories()
	if len(cats) == 0 || cats[0] != audit.CategoryRBAC {
		t.Fatalf("categories %v, want rbac first", cats)
	}
	for _, r := range audit.Catalogue() {
		if !slices.Contains(cats, r.Category) {
			t.Errorf("rule %s's category %s is not offered", r.Name, r.Category)
		}
	}
	for i, c := range cats {
		if slices.Contains(cats[i+1:], c) {
			t.Errorf("category %s offered twice", c)
		}
	}
	for _, want := range []audit.Category{audit.CategoryAKS, audit.CategoryAzureIdentity, audit.CategoryAzure} {
		if !slices.Contains(cats, want) {
			t.Errorf("%s is not offered", want)
		}
	}
}
