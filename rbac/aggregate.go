package rbac

import (
	"fmt"
	"sort"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// aggregate computes the rules of every aggregated ClusterRole as
// kube-controller-manager's clusterrole-aggregation controller writes them
// (pkg/controller/clusterroleaggregation, Apache-2.0): for each selector in
// order, the matching roles sorted by name, self excluded, each rule added
// unless an equal one is already there. The controller reacts to every
// change, so roles that aggregate aggregated roles settle at a fixed point;
// this iterates to it. It returns the rules by position and notes to show.
func aggregate(crs []rbacv1.ClusterRole) ([][]rbacv1.PolicyRule, []string) {
	rules := make([][]rbacv1.PolicyRule, len(crs))
	var aggregated []int
	for i := range crs {
		rules[i] = crs[i].Rules
		if crs[i].AggregationRule != nil {
			aggregated = append(aggregated, i)
		}
	}
	if len(aggregated) == 0 {
		return rules, nil
	}
	order := make([]int, len(crs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return crs[order[a]].Name < crs[order[b]].Name })

	var notes []string
	selectors := make(map[int][]labels.Selector, len(aggregated))
	for _, i := range aggregated {
		for _, s := range crs[i].AggregationRule.ClusterRoleSelectors {
			sel, err := metav1.LabelSelectorAsSelector(&s)
			if err != nil {
				notes = append(notes, fmt.Sprintf("ClusterRole %s: invalid aggregation selector: %v", crs[i].Name, err))
				continue
			}
			selectors[i] = append(selectors[i], sel)
		}
	}
	converged := false
	for round := 0; round <= len(aggregated)+1; round++ {
		changed := false
		for _, i := range aggregated {
			next := []rbacv1.PolicyRule{}
			have := map[string]bool{}
			for _, sel := range selectors[i] {
				for _, j := range order {
					if crs[j].Name == crs[i].Name || !sel.Matches(labels.Set(crs[j].Labels)) {
						continue
					}
					for _, r := range rules[j] {
						// ruleExists in the controller: semantic equality,
						// which RuleKey encodes.
						if k := RuleKey(&r); !have[k] {
							have[k] = true
							next = append(next, r)
						}
					}
				}
			}
			if !equality.Semantic.DeepEqual(next, rules[i]) {
				rules[i] = next
				changed = true
			}
		}
		if !changed {
			converged = true
			break
		}
	}
	if !converged {
		notes = append(notes, "aggregated ClusterRoles select each other in a cycle; their computed rules may differ from a live cluster's")
	}
	notes = append(notes, fmt.Sprintf("computed the rules of %d aggregated ClusterRoles from their aggregationRule, as the aggregation controller would", len(aggregated)))
	return rules, notes
}
