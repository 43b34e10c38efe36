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
