package audit

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// The rules in this file walk the engine's resolved grants (every rule of
// every binding, aggregated roles included) and the objects themselves.

func init() {
	register(
		Rule{Name: "wildcard-grant", Category: CategoryRBAC, Severity: Medium,
			Title: "Binding grants a wildcard rule",
			Why:   "A * in verbs, resources or API groups grants what exists now and whatever is added later (new CRDs, new subresources such as */scale).",
			Fix:   "Narrows the rule: wildcard verbs to get, list, watch (fix --keep chooses), a wildcard resource to its group's resources; where that cannot be listed (apiGroups *, URLs), removes the subject from the binding.",
			check: checkWildcards},
		Rule{Name: "anonymous-access", Category: CategoryRBAC, Severity: Critical,
			Title: "Unauthenticated requests are granted access",
			Why:   "system:anonymous and system:unauthenticated are anyone who can reach the API server.",
			Fix:   "Removes system:anonymous and system:unauthenticated from the binding.",
			check: checkBroad(true)},
		Rule{Name: "broad-group-grant", Category: CategoryRBAC, Severity: High,
			Title: "Every authenticated user or every service account is granted access",
			Why:   "system:authenticated is every identity the cluster accepts (on AKS, every user of the tenant who can reach it); system:serviceaccounts is every pod. Grants beyond discovery reach all of them.",
			Fix:   "Removes the implicit group from the binding; bind the groups that need the access.",
			check: checkBroad(false)},
		Rule{Name: "system-masters-binding", Category: CategoryRBAC, Severity: High,
			Title: "A binding names the group system:masters",
			Why:   "system:masters bypasses RBAC: binding it grants nothing and signals that someone hands out membership in it (client certificates with O=system:masters), which no RBAC change can revoke.",
			Fix:   "Removes system:masters from the binding; revoke the certificates that carry it.",
			check: checkMastersBinding},
		Rule{Name: "default-serviceaccount-grant", Category: CategoryRBAC, Severity: Medium,
			Title: "A default service account is granted access",
			Why:   "Every pod that names no service account runs as default: a grant to it is a grant to all of them.",
			Fix:   "Removes the default service account from the binding; give the workload its own service account.",
			check: checkDefaultServiceAccount},
		Rule{Name: "dangling-binding", Category: CategoryRBAC, Severity: Medium,
			Title: "A binding references a role, service account or namespace that does not exist",
			Why:   "Whoever later creates the missing object with that name inherits the grant.",
			Fix:   "Deletes the binding, or removes the missing subjects from it.",
			check: checkDangling},
		Rule{Name: "unused-role", Category: CategoryRBAC, Severity: Info,
			Title: "A role is bound by nothing",
			Why:   "Unused roles are clutter that reviews must still read, and a ready-made grant for a future binding.",
			Fix:   "Deletes the role.",
			check: checkUnusedRoles},
		Rule{Name: "aggregation-latent-grant", Category: CategoryRBAC, Severity: High,
			Title: "A role aggregated into admin, edit or view carries risky rules",
			Why:   "Rules labelled to aggregate into the built-in admin, edit or view roles reach every subject bound to them, usually far more than the role's author meant.",
			Fix:   "Removes the aggregate-to labels from the role; the subjects of admin, edit or view who lose its rules are named.",
			check: checkLatentAggregation},
	)
}

func where(namespace string) string {
	if namespace == "" {
		return "cluster-wide"
	}
	return "in namespace " + namespace
}

// grantsBySubject gathers, per binding and subject, the grants fn selects.
func (c *checker) grantsBySubject(keep func(g *rbac.Grant, s rbac.Subject) bool, report func(s rbac.Subject, namespace string, paths []rbac.Path)) {
	// The subject's part of the key is Subject.Key's identity as fields
	// (idOf): no string is built per grant (a dense cluster has
	// millions).
	type key struct {
		binding rbac.ObjectRef
		subject subjectID
	}
	type gathered struct {
		subject rbac.Subject
		scope   string
		paths   []rbac.Path
	}
	at := map[key]int{}
	var all []gathered
	c.ix.Grants(func(g *rbac.Grant) {
		for _, s := range g.Subjects {
			if !keep(g, s) {
				continue
			}
			k := key{*g.Path.Binding, idOf(s)}
			i, ok := at[k]
			if !ok {
				i = len(all)
				at[k] = i
				all = append(all, gathered{subject: s, scope: g.Namespace})
			}
			all[i].paths = append(all[i].paths, g.Path)
		}
	})
	for _, x := range all {
		report(x.subject, x.scope, x.paths)
	}
}

func hasWildcard(r *rbacv1.PolicyRule) bool {
	return slices.Contains(r.Verbs, "*") || slices.Contains(r.Resources, "*") || slices.Contains(r.APIGroups, "*") || slices.Contains(r.NonResourceURLs, "*")
}

func fullWildcard(r *rbacv1.PolicyRule) bool {
	return slices.Contains(r.Verbs, "*") && slices.Contains(r.Resources, "*") && slices.Contains(r.APIGroups, "*")
}

func checkWildcards(c *checker) {
	c.grantsBySubject(func(g *rbac.Grant, s rbac.Subject) bool {
		// * on * cluster-wide is cluster-admin-equivalent's finding.
		return hasWildcard(&g.Path.Rule) && !(g.Namespace == "" && fullWildcard(&g.Path.Rule))
	}, func(s rbac.Subject, ns string, paths []rbac.Path) {
		sev := Low
		if ns == "" || ns == "kube-system" {
			sev = Medium
		}
		rules := make([]string, len(paths))
		for i, p := range paths {
			rules[i] = rbac.RuleString(p.Rule)
		}
		c.add(Finding{Severity: sev, Subjects: []rbac.Subject{s}, Evidence: paths,
			Message: fmt.Sprintf("%s holds wildcard rules %s: %s", s, where(ns), strings.Join(rules, "; "))})
	})
}

// discoveryOnly says whether a rule grants only what every cluster grants
// every authenticated user: discovery, health and self reviews.
func discoveryOnly(r *rbacv1.PolicyRule) bool {
	if len(r.NonResourceURLs) > 0 {
		return !slices.ContainsFunc(r.Verbs, func(v string) bool { return v != "get" && v != "head" }) &&
			!slices.Contains(r.NonResourceURLs, "*")
	}
	self := []string{"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"}
	return !slices.ContainsFunc(r.Resources, func(res string) bool { return !slices.Contains(self, res) }) &&
		!slices.ContainsFunc(r.Verbs, func(v string) bool { return v != "create" })
}

func checkBroad(anonymous bool) func(*checker) {
	return func(c *checker) {
		c.grantsBySubject(func(g *rbac.Grant, s rbac.Subject) bool {
			anon := (s.Kind == rbac.UserKind && s.Name == rbac.UserAnonymous) || (s.Kind == rbac.GroupKind && s.Name == rbac.GroupUnauthenticated)
			if anonymous {
				return anon
			}
			broadGroup := s.Kind == rbac.GroupKind && (s.Name == rbac.GroupAuthenticated || s.Name == rbac.GroupServiceAccounts ||
				strings.HasPrefix(s.Name, rbac.GroupServiceAccountsPrefix))
			return broadGroup && !discoveryOnly(&g.Path.Rule)
		}, func(s rbac.Subject, ns string, paths []rbac.Path) {
			sev := Critical
			who := "anyone who can reach the API server"
			if !anonymous {
				sev, who = High, "every authenticated user"
				switch {
				case s.Name == rbac.GroupServiceAccounts:
					who = "every service account"
				case strings.HasPrefix(s.Name, rbac.GroupServiceAccountsPrefix):
					sev, who = Medium, "every service account in namespace "+strings.TrimPrefix(s.Name, rbac.GroupServiceAccountsPrefix)
				}
			}
			c.add(Finding{Severity: sev, Subjects: []rbac.Subject{s}, Evidence: paths,
				Message: fmt.Sprintf("%s (%s) is granted %s %s", s, who, rulesText(paths), where(ns))})
		})
	}
}

func rulesText(paths []rbac.Path) string {
	var rules []string
	for _, p := range paths {
		if r := rbac.RuleString(p.Rule); !slices.Contains(rules, r) {
			rules = append(rules, r)
		}
	}
	return strings.Join(rules, "; ")
}

func checkMastersBinding(c *checker) {
	for _, b := range c.bindings() {
		for _, s := range b.Subjects {
			if s.Kind == rbacv1.GroupKind && s.Name == rbac.GroupMasters {
				c.add(Finding{Severity: High, Subjects: []rbac.Subject{{Kind: rbac.GroupKind, Name: rbac.GroupMasters}},
					Objects: []rbac.ObjectRef{rbacRef(b.Ref)},
					Managed: c.managed[b.Ref],
					Message: fmt.Sprintf("%s names group system:masters, which holds every right without any binding", b.Ref)})
			}
		}
	}
}

func checkDefaultServiceAccount(c *checker) {
	c.grantsBySubject(func(g *rbac.Grant, s rbac.Subject) bool {
		return s.Kind == rbac.ServiceAccountKind && s.Name == "default" && !discoveryOnly(&g.Path.Rule)
	}, func(s rbac.Subject, ns string, paths []rbac.Path) {
		c.add(Finding{Severity: Medium, Subjects: []rbac.Subject{s}, Evidence: paths,
			Message: fmt.Sprintf("%s (every pod in %s that names no service account) is granted %s %s", s, s.Namespace, rulesText(paths), where(ns))})
	})
}

func checkDangling(c *checker) {
	// A collection that could not be read is no evidence of absence.
	haveSAs := len(c.snap.ServiceAccounts) > 0 && !c.unread("serviceaccounts", "")
	haveNS := len(c.snap.Namespaces) > 0 && !c.unread("namespaces", "")
	sas, nss := map[string]bool{}, map[string]bool{}
	for _, sa := range c.snap.ServiceAccounts {
		sas[sa.Namespace+"/"+sa.Name] = true
	}
	for _, n := range c.snap.Namespaces {
		nss[n.Name] = true
	}
	rolesUnread := c.unread("roles", "") || c.unread("clusterroles", "")
	for _, b := range c.bindings() {
		switch {
		case b.RoleFound:
		case c.unknownRole(b.Role):
			c.add(Finding{Severity: Low, Objects: []rbac.ObjectRef{rbacRef(b.Ref)}, Managed: c.managed[b.Ref],
				Message: fmt.Sprintf("%s references %s, which the input does not hold: if the cluster lacks it too, whoever creates it grants its rules to the binding's subjects", b.Ref, b.Role)})
		case rolesUnread:
			// The role may be among those that could not be read.
		default:
			c.add(Finding{Severity: Low, Objects: []rbac.ObjectRef{rbacRef(b.Ref)}, Managed: c.managed[b.Ref],
				Message: fmt.Sprintf("%s references %s, which does not exist: whoever creates it grants its rules to the binding's subjects", b.Ref, b.Role)})
		}
		var missing []rbac.Subject
		var why []string
		for _, sub := range b.Matches() {
			if sub.Kind != rbac.ServiceAccountKind {
				continue
			}
			switch {
			case haveNS && !nss[sub.Namespace]:
				missing = append(missing, sub)
				why = append(why, fmt.Sprintf("%s (namespace %s does not exist)", sub, sub.Namespace))
			case haveSAs && (!haveNS || nss[sub.Namespace]) && !sas[sub.Namespace+"/"+sub.Name]:
				missing = append(missing, sub)
				why = append(why, fmt.Sprintf("%s (no such service account)", sub))
			}
		}
		if len(missing) > 0 {
			c.add(Finding{Severity: Medium, Subjects: missing, Objects: []rbac.ObjectRef{rbacRef(b.Ref)}, Managed: c.managed[b.Ref],
				Message: fmt.Sprintf("%s names %s: whoever creates it inherits %s", b.Ref, strings.Join(why, ", "), b.Role)})
		}
	}
}

const aggregateToPrefix = "rbac.authorization.k8s.io/aggregate-to-"

func checkUnusedRoles(c *checker) {
	if c.unread("clusterrolebindings", "") {
		return // any role may be bound by what could not be read
	}
	used := map[rbac.ObjectRef]bool{}
	for _, b := range c.bindings() {
		used[b.Role] = true
	}
	aggregates := map[string]bool{} // ClusterRoles that feed an aggregated role
	for _, cr := range c.snap.ClusterRoles {
		if cr.AggregationRule == nil {
			continue
		}
		for _, src := range c.snap.ClusterRoles {
			for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
				if len(sel.MatchLabels) > 0 && matchLabels(sel.MatchLabels, src.Labels) {
					aggregates[src.Name] = true
				}
			}
		}
	}
	labelled := map[string]bool{} // ClusterRoles meant to aggregate into another
	for _, cr := range c.snap.ClusterRoles {
		for l := range cr.Labels {
			if strings.HasPrefix(l, aggregateToPrefix) {
				labelled[cr.Name] = true
			}
		}
	}
	for _, r := range c.ix.Roles() {
		if used[r.Ref] || c.managed[r.Ref] || (r.Ref.Kind == "ClusterRole" && (aggregates[r.Ref.Name] || labelled[r.Ref.Name])) {
			continue
		}
		if c.unread("rolebindings", r.Ref.Namespace) {
			continue // a RoleBinding that could not be read may bind it
		}
		if r.Ref.Kind == "ClusterRole" && strings.HasPrefix(r.Ref.Name, "system:") {
			continue // read by components through their own bindings or by name
		}
		c.add(Finding{Severity: Info, Objects: []rbac.ObjectRef{rbacRef(r.Ref)},
			Message: fmt.Sprintf("%s is referenced by no binding and aggregated into no role", r.Ref)})
	}
}

func matchLabels(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// latentRisks are what the other rules would flag in one rule of an
// aggregated role: the requests of every probe rule (secrets, exec,
// impersonate, node writes...), wildcards, and use of every gMSA
// credential spec; each with the severity its own rule reports at most.
func latentRisks(r *rbacv1.PolicyRule) []latentRisk {
	var out []latentRisk
	for i := range probeRules {
		pr := &probeRules[i]
		for _, a := range pr.probes {
			if rbac.RuleAllows(&a, r) {
				a.Namespace = ""
				out = append(out, latentRisk{rule: pr.Name, severity: pr.Rule.Severity, what: a.String()})
				break
			}
		}
	}
	if hasWildcard(r) {
		out = append(out, latentRisk{rule: "wildcard-grant", severity: Medium, what: "a wildcard (" + rbac.RuleString(*r) + ")"})
	}
	if grantsUse(r) && len(r.ResourceNames) == 0 {
		out = append(out, latentRisk{rule: "gmsa-use-broad", severity: High, what: "use of every gMSA credential spec"})
	}
	return out
}

type latentRisk struct {
	rule     string
	severity Severity
	what     string
}

func checkLatentAggregation(c *checker) {
	for _, cr := range c.snap.ClusterRoles {
		for label, v := range cr.Labels {
			target, ok := strings.CutPrefix(label, aggregateToPrefix)
			if !ok || v != "true" {
				continue
			}
			ref := rbac.ObjectRef{Kind: "ClusterRole", Name: cr.Name}
			var evidence []rbac.Path
			var what []string
			sev := Info
			for i := range cr.Rules {
				risks := latentRisks(&cr.Rules[i])
				if len(risks) == 0 {
					continue
				}
				evidence = append(evidence, rbac.Path{Role: ref, Rule: cr.Rules[i]})
				for _, r := range risks {
					sev = max(sev, r.severity)
					if w := r.what + " (" + r.rule + ")"; !slices.Contains(what, w) {
						what = append(what, w)
					}
				}
			}
			if len(evidence) == 0 {
				continue
			}
			c.add(Finding{Severity: sev, Objects: []rbac.ObjectRef{rbacRef(ref)}, Evidence: evidence, Managed: c.managed[ref],
				Message: fmt.Sprintf("%s aggregates into %s and allows %s: everyone bound to %s gets it", ref, target, strings.Join(what, ", "), target)})
		}
	}
}
