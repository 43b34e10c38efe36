package access

import (
	"cmp"
	"fmt"
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

// The words of a path (binding -> role -> rule), the same in the CLI's
// tables and the explorer's provenance tree. Not escaped: a front end
// escapes for its sink.

// NoBinding is a path's binding when none is needed: system:masters.
const NoBinding = "(no binding: group system:masters)"

// PathVia is a path without its rule, short enough for a table: "RB ns/x
// -> CR y", or an Azure role at its scope.
func PathVia(p rbac.Path) string {
	if p.Azure != nil {
		return p.Azure.Brief()
	}
	if p.Binding == nil {
		return NoBinding
	}
	return ShortRef(*p.Binding) + " -> " + ShortRef(p.Role)
}

// PathBinding names a path's binding in full ("RoleBinding web/x"), an
// Azure role assignment by its id's last segment, scope and principal, or
// says there is none (system:masters).
func PathBinding(p rbac.Path) string {
	if z := p.Azure; z != nil {
		if z.Assignment == "" {
			return "(no assignment: guard allows discovery paths)"
		}
		who := cmp.Or(z.PrincipalName, z.PrincipalID)
		return fmt.Sprintf("Azure role assignment %s at %s (to %s %s)", shortID(z.Assignment), rbac.AzureScopeName(z.Scope), strings.ToLower(z.PrincipalType), who)
	}
	if p.Binding == nil {
		return NoBinding
	}
	return p.Binding.String()
}

// PathRole names a path's role: an RBAC role, group system:masters, or an
// Azure role definition.
func PathRole(p rbac.Path) string {
	if z := p.Azure; z != nil {
		return fmt.Sprintf("Azure role %q", z.RoleName)
	}
	if p.Role.Kind == rbac.GroupKind {
		return "group " + p.Role.Name
	}
	return p.Role.String()
}

// PathRule is a path's rule: an RBAC rule, or the Azure dataAction that
// matched.
func PathRule(p rbac.Path) string {
	if z := p.Azure; z != nil {
		s := "dataAction " + z.DataAction
		if len(z.NotDataActions) > 0 {
			s += " except " + strings.Join(z.NotDataActions, ",")
		}
		return s
	}
	return rbac.RuleString(p.Rule)
}

// ShortRef abbreviates kinds so a path fits in 80 columns.
func ShortRef(r rbac.ObjectRef) string {
	kind := map[string]string{"ClusterRoleBinding": "CRB", "RoleBinding": "RB", "ClusterRole": "CR", "Role": "Role"}[r.Kind]
	if kind == "" {
		kind = r.Kind
	}
	if r.Namespace != "" {
		return kind + " " + r.Namespace + "/" + r.Name
	}
	return kind + " " + r.Name
}

// shortID is the last segment of an Azure resource id.
func shortID(id string) string {
	if i := strings.LastIndexByte(strings.TrimSuffix(id, "/"), '/'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// DoorAssignment, DoorRole and DoorStep word a way in through Azure's
// control plane (rbac.AzureDoor) as a path's binding, role and rule are
// worded: the assignment with its kind, the role, and the action with
// the identity it yields.
func DoorAssignment(d *rbac.AzureDoor) string {
	s := fmt.Sprintf("%s: Azure role assignment %s at %s", d.Kind, shortID(d.Assignment), rbac.AzureScopeName(d.Scope))
	if d.Conditional {
		s += " (with a condition, not evaluated)"
	}
	return s
}

// DoorRole is the door's role.
func DoorRole(d *rbac.AzureDoor) string {
	s := fmt.Sprintf("Azure role %q", d.RoleName)
	if d.BuiltinRole {
		s += " (built-in actions)"
	}
	return s
}

// DoorStep is what the door lets its principal do, and as whom.
func DoorStep(d *rbac.AzureDoor) string {
	s := d.Action
	if d.As != nil && d.As.User == "" {
		// A certificate whose user the documentation does not name.
		s += " -> a client certificate"
	} else if d.As != nil {
		s += " -> user " + d.As.User
	}
	if d.As != nil {
		var groups []string
		for _, g := range d.As.Groups {
			if g != rbac.GroupAuthenticated {
				groups = append(groups, g)
			}
		}
		if len(groups) > 0 {
			s += " (group " + strings.Join(groups, ", ") + ")"
		}
	}
	return s
}

// WorkloadStart is where a workload identity path begins: the annotation,
// or the account's own token when no annotation names the identity.
func WorkloadStart(x *rbac.WorkloadIdentity) string {
	switch {
	case x.Annotation != "":
		return "annotation " + x.Annotation
	case x.ServiceAccountMissing:
		return "a token of " + x.ServiceAccount + " (not in the input)"
	}
	return "a token of " + x.ServiceAccount + " (not annotated)"
}

// WorkloadSummary is one line of what a service account's pods act as in
// Azure (or why an annotation grants nothing), as the explorer lists it.
func WorkloadSummary(x *rbac.WorkloadIdentity) string {
	if !x.Acts() {
		return "not as client id " + x.ClientID + " (" + x.Status + "): " + x.Why
	}
	var roles []string
	for _, a := range x.RoleAssignments {
		roles = append(roles, a.RoleName+" at "+rbac.AzureScopeName(a.Scope))
	}
	s := "acts in Azure as " + x.Identity.What() + " " + x.Identity.Name + " (" + WorkloadStart(x) + " -> federated credential " + x.FederatedCredential.Name + ")"
	if len(roles) == 0 {
		return s + ": no role assignment of it was read"
	}
	return s + ": " + strings.Join(roles, ", ")
}
