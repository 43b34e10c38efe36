package access

import (
	"slices"
	"testing"

	"github.com/kubectl-access/kubectl-access/loading"
)

// TestRuleResources: one notation (kubectl's: RESOURCE.GROUP/SUBRESOURCE),
// and only the group/resource pairings the server serves where a resource
// has any; wildcards and unknown resources as written.
func TestRuleResources(t *testing.T) {
	served := loading.Builtin().Served()
	for _, tc := range []struct {
		groups, resources []string
		want              []string
	}{
		{[]string{"apps"}, []string{"deployments/scale"}, []string{"deployments.apps/scale"}},
		{[]string{"", "apps"}, []string{"pods", "deployments", "configmaps"}, []string{"pods", "deployments.apps", "configmaps"}},
		{[]string{"*"}, []string{"*/scale"}, []string{"*.*/scale"}},
		{[]string{"example.com"}, []string{"widgets"}, []string{"widgets.example.com"}},
		{[]string{"", "apps"}, []string{"*"}, []string{"*", "*.apps"}},
	} {
		if got := RuleResources(tc.groups, tc.resources, nil, served); !slices.Equal(got, tc.want) {
			t.Errorf("groups %v resources %v: %v, want %v", tc.groups, tc.resources, got, tc.want)
		}
	}
}
