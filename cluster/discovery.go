package cluster

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"

	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// WarnDiscovery: an API group did not answer discovery (an unavailable
// aggregated API); its resources resolve as unknown.
const WarnDiscovery rbac.WarningCode = "discovery"

// Discover reads what the server serves, groups in its priority order. A
// group that fails to answer is left out with a warning.
func Discover(dc discovery.DiscoveryInterface) (*loading.Catalog, []rbac.Warning, error) {
	groups, lists, err := dc.ServerGroupsAndResources()
	var warnings []rbac.Warning
	if err != nil {
		if discovery.IsGroupDiscoveryFailedError(err) {
			warnings = append(warnings, rbac.Warnf(WarnDiscovery, "some API groups did not answer discovery: %v", err))
		} else if len(lists) == 0 {
			return nil, nil, fmt.Errorf("discover the server's resources: %w", err)
		}
	}
	cat := &loading.Catalog{}
	// The lists come in whatever order the discovery client gathered them
	// (in parallel): put them in the groups' order, each group's versions
	// in its order, as the RESTMapper ranks them.
	rank := map[string]int{}
	for _, g := range groups {
		for _, v := range g.Versions {
			rank[v.GroupVersion] = len(rank)
		}
		cat.Groups = append(cat.Groups, *g)
	}
	for _, l := range lists {
		if _, ok := rank[l.GroupVersion]; !ok {
			rank[l.GroupVersion] = len(rank)
		}
		cat.Resources = append(cat.Resources, metav1.APIResourceList{GroupVersion: l.GroupVersion, APIResources: l.APIResources})
	}
	slices.SortStableFunc(cat.Resources, func(a, b metav1.APIResourceList) int { return rank[a.GroupVersion] - rank[b.GroupVersion] })
	return cat, warnings, nil
}
