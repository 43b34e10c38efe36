package access

import (
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// ClusterWide is how every surface names a grant or a question that holds
// in every namespace and for cluster-scoped resources.
const ClusterWide = "cluster-wide"

// Scope names where the question was asked, as the CLI's heading and the
// explorer's title say it: "in namespace NS", "in every namespace" (-A),
// or "cluster-wide" (a cluster-scoped resource or a non-resource URL
// asked without a namespace).
func (q WhoCanQuery) Scope() string {
	switch {
	case q.AllNamespaces && q.IsResourceRequest():
		return "in every namespace"
	case q.Namespace == "":
		return ClusterWide
	}
	return "in namespace " + q.Namespace
}

// PathWhere is where one path grants: the namespace of its RoleBinding (or
// Azure assignment), else ClusterWide.
func PathWhere(p *rbac.Path) string {
	if ns := p.GrantNamespace(); ns != "" {
		return ns
	}
	return ClusterWide
}

// Where is where a subject's paths grant the request: ClusterWide when a
// ClusterRoleBinding (or system:masters, or a cluster-scope Azure
// assignment) does, else the namespaces of its RoleBindings, comma
// separated: the WHERE column of every surface.
func Where(via []rbac.Path) string {
	var nss []string
	for i := range via {
		ns := via[i].GrantNamespace()
		if ns == "" {
			return ClusterWide
		}
		if !slices.Contains(nss, ns) {
			nss = append(nss, ns)
		}
	}
	return strings.Join(nss, ",")
}

// WhereWords is Where as a phrase: "cluster-wide", "in namespace a" or
// "in namespaces a,b".
func WhereWords(via []rbac.Path) string {
	w := Where(via)
	switch {
	case w == ClusterWide || w == "":
		return w
	case strings.Contains(w, ","):
		return "in namespaces " + w
	}
	return "in namespace " + w
}

// RuleResource is one resource of a rule (RESOURCE[/SUBRESOURCE]) in
// group, in the one notation every output uses: RESOURCE[.GROUP][/SUB],
// as kubectl writes it (deployments.apps/scale).
func RuleResource(group, resource string) string {
	base, sub, hasSub := strings.Cut(resource, "/")
	n := base
	if group != "" {
		n += "." + group
	}
	if hasSub {
		n += "/" + sub
	}
	return n
}

// RuleResources writes what a rule's resources and groups name, one
// notation on every surface: RESOURCE[.GROUP][/SUBRESOURCE] as kubectl
// writes them (deployments.apps/scale), non-resource URLs as they are.
// A rule names every pairing of its groups and resources; with served
// (discovery's group/resource pairs), a pairing the server does not serve
// is left out when another pairing of the same resource is served, so a
// rule of groups "" and apps over pods and deployments reads pods,
// deployments.apps, not also pods.apps and deployments. Wildcards and
// resources no group serves are written as the rule has them.
func RuleResources(apiGroups, resources, nonResourceURLs []string, served func(group, resource string) bool) []string {
	var out []string
	for _, res := range resources {
		base, _, _ := strings.Cut(res, "/")
		name := func(g string) string { return RuleResource(g, res) }
		keep := apiGroups
		if served != nil && !strings.Contains(base, "*") && !slices.Contains(apiGroups, "*") {
			var hit []string
			for _, g := range apiGroups {
				if served(g, base) {
					hit = append(hit, g)
				}
			}
			if len(hit) > 0 {
				keep = hit
			}
		}
		for _, g := range keep {
			out = append(out, name(g))
		}
	}
	return append(out, nonResourceURLs...)
}
