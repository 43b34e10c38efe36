package audit

import (
	"cmp"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// The rules in this file ask the engine who can make risky requests, in
// every namespace at once, and report each subject once per place: once
// cluster-wide (through ClusterRoleBindings), once per namespace (through
// that namespace's RoleBindings).

// anyNS marks a probe of a namespaced resource; with who-can over all
// namespaces, the value itself is never matched.
const anyNS = "*"

// skip is a severity that means "not reported at this scope".
const skip Severity = -1

type probeRule struct {
	Rule
	probes []rbac.Attributes
	// Severities through a ClusterRoleBinding, through a RoleBinding, and
	// through a RoleBinding in kube-system (the control plane's home).
	cluster, namespaced, kubeSystem Severity
	what                            string // "read secrets"
	// when, if set, says whether the rule applies to this cluster at all.
	when func(*checker) bool
}

func res(verb, group, resource string) rbac.Attributes {
	r, sub, _ := strings.Cut(resource, "/")
	return rbac.Attributes{Verb: verb, APIGroup: group, Resource: r, Subresource: sub, Namespace: anyNS}
}

func clusterRes(verb, group, resource string) rbac.Attributes {
	a := res(verb, group, resource)
	a.Namespace = ""
	return a
}

func verbs(group, resource string, vs ...string) []rbac.Attributes {
	var out []rbac.Attributes
	for _, v := range vs {
		out = append(out, res(v, group, resource))
	}
	return out
}

func clusterVerbs(group, resource string, vs ...string) []rbac.Attributes {
	var out []rbac.Attributes
	for _, v := range vs {
		out = append(out, clusterRes(v, group, resource))
	}
	return out
}

var probeRules = []probeRule{
	{
		Rule: Rule{Name: "cluster-admin-equivalent", Category: CategoryRBAC, Severity: Critical,
			Title: "Subject holds every verb on every resource cluster-wide",
			Why:   "Whoever holds * on * through a ClusterRoleBinding is cluster-admin by another name, whatever the role is called; a stolen credential of theirs is the whole cluster.",
			Fix:   "Removes the subject from the ClusterRoleBinding (or deletes a binding left with no subjects); bind a narrower role instead."},
		probes:  []rbac.Attributes{res("*", "*", "*")},
		cluster: Critical, namespaced: skip, kubeSystem: skip, what: "do everything",
	},
	{
		Rule: Rule{Name: "secrets-read", Category: CategoryRBAC, Severity: High,
			Title: "Subject can read secrets",
			Why:   "Secrets hold service-account tokens, registry and cloud credentials; reading them cluster-wide (or in kube-system) is a path to every identity they hold.",
			Fix:   "Removes the subject from the binding that grants get, list or watch on secrets."},
		probes:  verbs("", "secrets", "get", "list", "watch"),
		cluster: High, namespaced: Medium, kubeSystem: High, what: "read secrets",
	},
	{
		Rule: Rule{Name: "impersonate", Category: CategoryRBAC, Severity: Critical,
			Title: "Subject can impersonate users, groups or service accounts",
			Why:   "Impersonating system:masters or any admin is holding their rights.",
			Fix:   "Removes the subject from the binding that grants impersonate."},
		probes: []rbac.Attributes{clusterRes("impersonate", "", "users"), clusterRes("impersonate", "", "groups"),
			res("impersonate", "", "serviceaccounts"), clusterRes("impersonate", "authentication.k8s.io", "uids"),
			clusterRes("impersonate", "authentication.k8s.io", "userextras/scopes")},
		cluster: Critical, namespaced: High, kubeSystem: Critical, what: "impersonate",
	},
	{
		Rule: Rule{Name: "escalate-or-bind", Category: CategoryRBAC, Severity: Critical,
			Title: "Subject can escalate or bind roles",
			Why:   "escalate lets a subject write roles with rights it lacks, bind lets it bind any role: both bypass RBAC's escalation check.",
			Fix:   "Removes the subject from the binding that grants escalate or bind."},
		probes: append(verbs("rbac.authorization.k8s.io", "roles", "escalate", "bind"),
			append(verbs("rbac.authorization.k8s.io", "clusterroles", "bind"),
				clusterRes("escalate", "rbac.authorization.k8s.io", "clusterroles"))...),
		cluster: Critical, namespaced: High, kubeSystem: Critical, what: "escalate or bind roles",
	},
	{
		Rule: Rule{Name: "rbac-write", Category: CategoryRBAC, Severity: High,
			Title: "Subject can write RBAC objects",
			Why:   "Writing roles and bindings hands out whatever the writer holds, and with escalate or bind, anything.",
			Fix:   "Removes the subject from the binding that grants create, update or patch on RBAC objects."},
		probes: append(append(verbs("rbac.authorization.k8s.io", "roles", "create", "update", "patch"),
			verbs("rbac.authorization.k8s.io", "rolebindings", "create", "update", "patch")...),
			append(clusterVerbs("rbac.authorization.k8s.io", "clusterroles", "create", "update", "patch"),
				clusterVerbs("rbac.authorization.k8s.io", "clusterrolebindings", "create", "update", "patch")...)...),
		cluster: High, namespaced: Medium, kubeSystem: High, what: "write RBAC objects",
	},
	{
		Rule: Rule{Name: "pod-exec", Category: CategoryRBAC, Severity: High,
			Title: "Subject can run commands in, attach to or forward ports of pods",
			Why:   "exec, attach, port-forward and ephemeral containers reach inside running pods: their service-account tokens, mounted secrets and network.",
			Fix:   "Removes the subject from the binding that grants pods/exec, pods/attach, pods/portforward or pods/ephemeralcontainers."},
		probes: []rbac.Attributes{res("create", "", "pods/exec"), res("create", "", "pods/attach"),
			res("create", "", "pods/portforward"), res("patch", "", "pods/ephemeralcontainers"), res("update", "", "pods/ephemeralcontainers")},
		cluster: High, namespaced: Medium, kubeSystem: High, what: "exec into pods",
	},
	{
		Rule: Rule{Name: "workload-create", Category: CategoryRBAC, Severity: High,
			Title: "Subject can create workloads",
			Why:   "Whoever creates a pod chooses its service account, host mounts and image: in kube-system or cluster-wide that reaches the control plane's identities.",
			Fix:   "Removes the subject from the binding that grants create on pods or workload controllers."},
		probes: []rbac.Attributes{res("create", "", "pods"), res("create", "apps", "deployments"), res("create", "apps", "daemonsets"),
			res("create", "apps", "statefulsets"), res("create", "apps", "replicasets"), res("create", "batch", "jobs"),
			res("create", "batch", "cronjobs"), res("create", "", "replicationcontrollers")},
		cluster: High, namespaced: Low, kubeSystem: High, what: "create workloads",
	},
	{
		Rule: Rule{Name: "nodes-proxy", Category: CategoryRBAC, Severity: High,
			Title: "Subject can reach the kubelet API through nodes/proxy",
			Why:   "nodes/proxy, even with get, reaches every kubelet: exec into any container on any node, bypassing pod-level RBAC and audit.",
			Fix:   "Removes the subject from the binding that grants nodes/proxy."},
		probes:  clusterVerbs("", "nodes/proxy", "get", "create"),
		cluster: High, namespaced: skip, kubeSystem: skip, what: "proxy to kubelets",
	},
	{
		Rule: Rule{Name: "serviceaccount-token-create", Category: CategoryRBAC, Severity: High,
			Title: "Subject can mint service-account tokens",
			Why:   "create on serviceaccounts/token issues a token for any service account in scope: its holder acts as that account.",
			Fix:   "Removes the subject from the binding that grants create on serviceaccounts/token."},
		probes:  []rbac.Attributes{res("create", "", "serviceaccounts/token")},
		cluster: High, namespaced: Medium, kubeSystem: High, what: "mint service-account tokens",
	},
	{
		Rule: Rule{Name: "csr-approve", Category: CategoryRBAC, Severity: High,
			Title: "Subject can approve certificate signing requests",
			Why:   "Approving CSRs can mint client certificates for any name, system:masters included on clusters that sign them.",
			Fix:   "Removes the subject from the binding that grants update on certificatesigningrequests/approval."},
		probes:  clusterVerbs("certificates.k8s.io", "certificatesigningrequests/approval", "update", "patch"),
		cluster: High, namespaced: skip, kubeSystem: skip, what: "approve CSRs",
	},
	{
		Rule: Rule{Name: "webhook-config-write", Category: CategoryRBAC, Severity: High,
			Title: "Subject can write admission webhooks or policies",
			Why:   "An admission webhook sees, and a mutating one rewrites, every object it selects, secrets included; deleting one removes a guard.",
			Fix:   "Removes the subject from the binding that grants writes on admission configuration."},
		probes: append(append(clusterVerbs("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "create", "update", "patch", "delete"),
			clusterVerbs("admissionregistration.k8s.io", "validatingwebhookconfigurations", "create", "update", "patch", "delete")...),
			clusterVerbs("admissionregistration.k8s.io", "validatingadmissionpolicies", "create", "update", "patch", "delete")...),
		cluster: High, namespaced: skip, kubeSystem: skip, what: "write admission configuration",
	},
	{
		Rule: Rule{Name: "persistentvolume-create", Category: CategoryRBAC, Severity: High,
			Title: "Subject can create persistent volumes",
			Why:   "A hostPath PersistentVolume mounts any path of a node into a pod that claims it.",
			Fix:   "Removes the subject from the binding that grants create on persistentvolumes."},
		probes:  clusterVerbs("", "persistentvolumes", "create"),
		cluster: High, namespaced: skip, kubeSystem: skip, what: "create persistent volumes",
	},
	{
		Rule: Rule{Name: "node-write", Category: CategoryNodeAuthz, Severity: High,
			Title: "Subject can modify nodes or their status",
			Why: "Writing a Node's labels and taints steers workloads onto a node of the writer's choosing; writing its status rewrites the addresses " +
				"the API server dials for logs and exec, and the conditions the scheduler trusts.",
			Fix: "Removes the subject from the binding that grants update or patch on nodes or nodes/status."},
		probes:  append(clusterVerbs("", "nodes", "update", "patch"), clusterVerbs("", "nodes/status", "update", "patch")...),
		cluster: High, namespaced: skip, kubeSystem: skip, what: "modify nodes",
	},
	{
		Rule: Rule{Name: "gmsa-spec-write", Category: CategoryGMSA, Severity: High,
			Title: "Subject can write gMSA credential specs",
			Why: "A credential spec names the Active Directory identity its pods run as: whoever writes one can point a workload at another gMSA " +
				"(or delete it and stop the workload). Checked where gMSA is in use.",
			Fix: "Removes the subject from the binding that grants create, update, patch or delete on gmsacredentialspecs."},
		probes:  clusterVerbs(rbac.GMSAGroup, "gmsacredentialspecs", "create", "update", "patch", "delete"),
		cluster: High, namespaced: skip, kubeSystem: skip, what: "write gMSA credential specs",
		when: (*checker).gmsaInUse,
	},
}

func init() {
	for i := range probeRules {
		pr := &probeRules[i]
		pr.check = pr.run
		register(pr.Rule)
	}
}

// place is one subject in one scope ("" = cluster-wide).
type place struct {
	kind, namespace, name string
	scope                 string
}

func (p place) subject() rbac.Subject {
	return rbac.Subject{Kind: p.kind, Namespace: p.namespace, Name: p.name}
}

func (pr *probeRule) run(c *checker) {
	if pr.when != nil && !pr.when(c) {
		return
	}
	// A cluster-admin-equivalent subject holds every risky right: its one
	// critical finding says so, without a copy under every other rule.
	admins := map[string]bool{}
	if pr.Name != "cluster-admin-equivalent" {
		for _, h := range c.hits(probeRuleNamed("cluster-admin-equivalent")) {
			admins[h.subject.Key()] = true
		}
	}
	hits := c.hits(pr)
	c.findings = slices.Grow(c.findings, len(hits)) // about one each
	for _, h := range hits {
		if admins[h.subject.Key()] {
			continue
		}
		if azureCovered[pr.Name] {
			// The azure family reports this risk through an Azure role
			// assignment (with the az fix): one finding per risk per
			// path, so this rule keeps the RBAC paths.
			if h.evidence = rbacOnly(h.evidence); len(h.evidence) == 0 {
				continue
			}
		}
		where := "cluster-wide"
		if h.scope != "" {
			where = "in namespace " + h.scope
		}
		c.add(Finding{
			Severity: h.severity,
			Message:  h.subject.String() + " can " + pr.what + " " + where,
			Subjects: []rbac.Subject{h.subject},
			Evidence: h.evidence,
		})
	}
}

// hits asks the engine who can make the rule's requests, once per report
// (escalation-path reuses the answers, whether the rule is selected or not).
func (c *checker) hits(pr *probeRule) []probeHit {
	m := c.probed[pr.Name]
	m.once.Do(func() { m.hits = c.probe(pr) })
	return m.hits
}

// probe asks the engine who can make the rule's requests, and files each
// path under its subject and the scope it grants in. The places come in
// the order the rule's who-can answers would give them (by the first
// probe that meets them, then by subject as who-can sorts them, then by
// path), without gathering those answers first.
func (c *checker) probe(pr *probeRule) []probeHit {
	type gathered struct {
		k          place
		principal  string // a service principal's kind
		probe, seq int    // the first probe that met it, and when
		evidence   []rbac.Path
	}
	at := map[place]int{}
	// The places in chunks that never move (a rule of a dense cluster
	// has tens of thousands, and a slice grown by doubling left as much
	// again behind as garbage).
	const chunk = 1024
	var all [][]gathered
	n := 0
	get := func(j int) *gathered { return &all[j/chunk][j%chunk] }
	for pi, a := range pr.probes {
		seq := 0
		c.ix.EachGrantee(a, a.Namespace != "", func(s rbac.Subject, paths []rbac.Path) {
			if s.Kind == rbac.GroupKind && s.Name == rbac.GroupMasters {
				return // holds everything by definition; see system-masters-binding
			}
			if isNodeIdentity(s) {
				return // what nodes are granted: see node-group-binding
			}
			for i := range paths {
				p := &paths[i]
				// Where the path grants: a RoleBinding's namespace, or an
				// Azure assignment's namespace scope.
				k := place{kind: s.Kind, namespace: s.Namespace, name: s.Name, scope: p.GrantNamespace()}
				j, ok := at[k]
				if !ok {
					if n%chunk == 0 {
						all = append(all, make([]gathered, 0, chunk))
					}
					all[len(all)-1] = append(all[len(all)-1], gathered{k: k, probe: pi, seq: seq})
					j, n = n, n+1
					at[k] = j
					seq++
				}
				g := get(j)
				if s.PrincipalType != "" {
					// A place is an identity; a service principal's label
					// (its kind) is kept beside it, so it is printed as
					// what it is.
					g.principal = s.PrincipalType
				}
				if !containsPath(g.evidence, p) {
					g.evidence = append(g.evidence, *p)
				}
			}
		})
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		a, b := get(i), get(j)
		return cmp.Or(cmp.Compare(a.probe, b.probe),
			rbac.SubjectOrder(rbac.Subject{Kind: a.k.kind, Namespace: a.k.namespace, Name: a.k.name, PrincipalType: a.principal},
				rbac.Subject{Kind: b.k.kind, Namespace: b.k.namespace, Name: b.k.name, PrincipalType: b.principal}),
			cmp.Compare(a.seq, b.seq))
	})
	hits := make([]probeHit, 0, n)
	for _, i := range order {
		g := get(i)
		sev := pr.cluster
		switch {
		case g.k.scope == "kube-system":
			sev = pr.kubeSystem
		case g.k.scope != "":
			sev = pr.namespaced
		}
		if sev == skip {
			continue
		}
		s := g.k.subject()
		if g.principal != "" {
			s.ObjectID, s.PrincipalType = s.Name, g.principal
		}
		hits = append(hits, probeHit{subject: s, scope: g.k.scope, severity: sev, evidence: g.evidence})
	}
	return hits
}

func probeRuleNamed(name string) *probeRule {
	for i := range probeRules {
		if probeRules[i].Name == name {
			return &probeRules[i]
		}
	}
	panic("audit: no probe rule " + name)
}

func containsPath(ps []rbac.Path, p *rbac.Path) bool {
	for i := range ps {
		if samePath(&ps[i], p) {
			return true
		}
	}
	return false
}

// samePath says whether a and b are one path: the same binding, role and
// rule (compared field by field; the index's paths share their binding).
func samePath(a, b *rbac.Path) bool {
	if (a.Binding == nil) != (b.Binding == nil) || a.Binding != b.Binding && *a.Binding != *b.Binding {
		return false
	}
	return a.Role == b.Role && sameRule(&a.Rule, &b.Rule)
}

func sameRule(a, b *rbacv1.PolicyRule) bool {
	return slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}

// azureCovered are the probe rules whose risk through an Azure role
// assignment an azure rule reports: secrets-read's is
// azure-secrets-read's, cluster-admin-equivalent's azure-cluster-admin's
// (and escalation-path's azure-escalation-path's).
var azureCovered = map[string]bool{"secrets-read": true, "cluster-admin-equivalent": true}

// rbacOnly are the paths that are not Azure role assignments: ps itself
// when none is.
func rbacOnly(ps []rbac.Path) []rbac.Path {
	azure := false
	for i := range ps {
		if ps[i].Azure != nil {
			azure = true
			break
		}
	}
	if !azure {
		return ps
	}
	var out []rbac.Path
	for _, p := range ps {
		if p.Azure == nil {
			out = append(out, p)
		}
	}
	return out
}
