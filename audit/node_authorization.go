package audit

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// The node-authorization family: whether the Node authorizer and the
// NodeRestriction admission plugin are in force (from the live probes, as
// a managed cluster's API server flags cannot be read), bindings that hand
// nodes rights the Node authorizer exists to scope, and who else can write
// Node objects.

func init() {
	register(
		Rule{Name: "node-authorizer-active", Category: CategoryNodeAuthz, Severity: High,
			Title: "The Node authorizer is not in force",
			Why: "Without the Node authorizer a kubelet's credential reads whatever RBAC gives the group system:nodes, usually every secret and configmap in the cluster; " +
				"with it, a node reads only what the pods bound to it use, so one compromised node is not the whole cluster.",
			Fix:   "None as a manifest: enable --authorization-mode=Node,RBAC (on AKS, node authorization is on from 1.24; upgrade). Checked live with a SubjectAccessReview as a node.",
			check: checkNodeAuthorizer},
		Rule{Name: "node-restriction-active", Category: CategoryNodeAuthz, Severity: High,
			Title: "The NodeRestriction admission plugin is not in force",
			Why: "Without NodeRestriction a kubelet may modify other nodes and their pods and set node-restriction.kubernetes.io/ labels on itself, " +
				"which workloads use to keep themselves on trusted nodes.",
			Fix:   "None as a manifest: add NodeRestriction to --enable-admission-plugins. Checked live with a node's server-side dry-run patch of a restricted label.",
			check: checkNodeRestriction},
		Rule{Name: "node-group-binding", Category: CategoryNodeAuthz, Severity: High,
			Title: "A binding grants rights to nodes as a group",
			Why: "Binding system:nodes (or system:node:NAME users) is the pattern the Node authorizer replaced: what it grants, every node holds for every object, " +
				"beyond the pods bound to it. Upstream keeps the system:node ClusterRoleBinding with no subjects.",
			Fix:   "Removes system:nodes and system:node:* subjects from the binding (or deletes a binding left with none).",
			check: checkNodeGroupBindings},
	)
	// node-write is a probe rule: see probeRules.
}

// isNodeIdentity says whether s is a kubelet's identity: node-group-binding
// reports what they are granted, not the rbac probe rules.
func isNodeIdentity(s rbac.Subject) bool {
	return (s.Kind == rbac.GroupKind && s.Name == "system:nodes") ||
		(s.Kind == rbac.UserKind && strings.HasPrefix(s.Name, "system:node:"))
}

func checkNodeAuthorizer(c *checker) {
	if p := c.snap.Probes; p != nil {
		c.probeFinding(p.NodeAuthorizer, "the Node authorizer")
	} else {
		c.notProbed()
	}
}

func checkNodeRestriction(c *checker) {
	if p := c.snap.Probes; p != nil {
		c.probeFinding(p.NodeRestriction, "NodeRestriction")
	} else {
		c.notProbed()
	}
}

// notProbed records a probe rule's check as unknown: offline input, or a
// snapshot saved without the probes.
func (c *checker) notProbed() {
	c.checks = append(c.checks, Check{Rule: c.rule.Name, Status: CheckUnknown,
		Detail: "not probed: the check asks a live API server (run against the cluster, or audit a snapshot saved from it)"})
}

// probeFinding records the probe's check (passed, failed or unknown) and
// reports an inactive probe at the rule's severity and an unknown one as
// info, with what the probe lacked.
func (c *checker) probeFinding(p rbac.Probe, what string) {
	status := map[rbac.ProbeState]CheckStatus{rbac.ProbeActive: CheckPassed, rbac.ProbeInactive: CheckFailed}[p.State]
	c.checks = append(c.checks, Check{Rule: c.rule.Name, Status: cmp.Or(status, CheckUnknown), Detail: p.Detail})
	switch p.State {
	case rbac.ProbeInactive:
		c.add(Finding{Severity: c.rule.Severity, Message: fmt.Sprintf("%s is not in force: %s", what, p.Detail)})
	case rbac.ProbeUnknown:
		c.add(Finding{Severity: Info, Title: "Could not tell whether " + what + " is in force",
			Message: fmt.Sprintf("unknown whether %s is in force: %s", what, p.Detail)})
	}
}

// nodeScoped are the requests the Node authorizer limits to a node's own
// pods: granting them to all nodes undoes it.
var nodeScoped = []rbac.Attributes{
	res("get", "", "secrets"), res("list", "", "secrets"), res("watch", "", "secrets"),
	res("get", "", "configmaps"), res("get", "", "persistentvolumeclaims"), clusterRes("get", "", "persistentvolumes"),
	res("create", "", "serviceaccounts/token"), res("update", "", "pods/status"), res("delete", "", "pods"),
}

func checkNodeGroupBindings(c *checker) {
	// Upstream's system:node ClusterRoleBinding is platform-owned and has
	// no subjects: nodes added to it are not the platform's default.
	c.evidenceNotManaged = true
	type hit struct {
		subjects []rbac.Subject
		ns       string
		risky    []rbac.Path
		all      []rbac.Path
	}
	byBinding := map[rbac.ObjectRef]*hit{}
	var order []rbac.ObjectRef
	c.ix.Grants(func(g *rbac.Grant) {
		var nodes []rbac.Subject
		for _, s := range g.Subjects {
			if isNodeIdentity(s) {
				nodes = append(nodes, s)
			}
		}
		if len(nodes) == 0 {
			return
		}
		ref := *g.Path.Binding
		h := byBinding[ref]
		if h == nil {
			h = &hit{subjects: nodes, ns: g.Namespace}
			byBinding[ref] = h
			order = append(order, ref)
		}
		h.all = append(h.all, g.Path)
		for i := range nodeScoped {
			if rbac.RuleAllows(&nodeScoped[i], &g.Path.Rule) {
				h.risky = append(h.risky, g.Path)
				break
			}
		}
	})
	for _, ref := range order {
		h := byBinding[ref]
		f := Finding{Severity: Low, Subjects: h.subjects, Evidence: h.all}
		names := make([]string, len(h.subjects))
		for i, s := range h.subjects {
			names[i] = s.String()
		}
		if len(h.risky) > 0 {
			f.Severity, f.Evidence = High, h.risky
			f.Message = fmt.Sprintf("%s grants %s %s %s, which the Node authorizer would limit to each node's own pods",
				ref, strings.Join(names, ", "), rulesText(h.risky), where(h.ns))
		} else {
			f.Message = fmt.Sprintf("%s grants %s %s %s", ref, strings.Join(names, ", "), rulesText(h.all), where(h.ns))
		}
		c.add(f)
	}
}
