package audit

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/rbac"
)

func init() {
	register(Rule{Name: "escalation-path", Category: CategoryRBAC, Severity: Critical,
		Title: "Subject can act as a more powerful service account",
		Why: "Whoever can create pods in a namespace can run one as any service account there (and whoever can mint tokens can act as it directly): " +
			"they hold that account's rights, whatever their own bindings say. The chain is reported: subject -> the step the evidence shows (create pods, create a workload whose controller creates them, or mint tokens) -> service account -> its risky right.",
		Fix:   "Removes the subject from the bindings that let it create pods or mint tokens there (or move the powerful service account to a namespace of its own).",
		check: checkEscalationPaths})
}

// riskyRules are the probe rules whose high or critical hits make a
// service account worth stealing.
var riskyRules = []string{"cluster-admin-equivalent", "impersonate", "escalate-or-bind", "secrets-read", "rbac-write",
	"nodes-proxy", "serviceaccount-token-create", "webhook-config-write", "csr-approve", "pod-exec", "persistentvolume-create"}

// stepRules are what lets a subject act as a service account in scope.
// maxChains is how many chains one escalation-path finding spells out.
const maxChains = 3

var stepRules = map[string]string{"workload-create": "create pods", "serviceaccount-token-create": "mint tokens"}

func checkEscalationPaths(c *checker) {
	sas := map[string]bool{}
	for _, sa := range c.snap.ServiceAccounts {
		sas[sa.Namespace+"/"+sa.Name] = true
	}
	exists := func(s rbac.Subject) bool { return len(c.snap.ServiceAccounts) == 0 || sas[s.Namespace+"/"+s.Name] }

	// What each service account holds that is worth stealing. A power's
	// chain is the text each finding through it gives, made once.
	type power struct {
		sa       rbac.Subject
		key      string // sa.Key()
		rule     int    // in riskyRules
		scope    string
		severity Severity
		evidence []rbac.Path
		chain    string
	}
	// held is what one subject holds of each risky rule: cluster-wide, or
	// in these namespaces.
	type held []struct {
		cluster bool
		scopes  []string
	}
	bySA := map[string][]power{} // namespace -> powers of its service accounts
	holds := map[string]held{}
	for ri, name := range riskyRules {
		for _, h := range c.hits(probeRuleNamed(name)) {
			key := h.subject.Key()
			hs := holds[key]
			if hs == nil {
				hs = make(held, len(riskyRules))
				holds[key] = hs
			}
			if h.scope == "" {
				hs[ri].cluster = true
			} else {
				hs[ri].scopes = append(hs[ri].scopes, h.scope)
			}
			if h.subject.Kind != rbac.ServiceAccountKind || h.severity < High || !exists(h.subject) {
				continue
			}
			bySA[h.subject.Namespace] = append(bySA[h.subject.Namespace],
				power{h.subject, key, ri, h.scope, h.severity, h.evidence, fmt.Sprintf("%s (%s %s)", h.subject, name, where(h.scope))})
		}
	}
	// covered says whether a subject holding hs already holds rule in
	// scope (or cluster-wide).
	covered := func(hs held, rule int, scope string) bool {
		return hs[rule].cluster || slices.Contains(hs[rule].scopes, scope)
	}

	// Each namespace's powers, strongest first, and all of them for the
	// subjects who reach every namespace: sorted once, walked per subject.
	byStrength := func(a, b power) int {
		return cmp.Or(cmp.Compare(b.severity, a.severity), strings.Compare(a.key, b.key),
			strings.Compare(riskyRules[a.rule], riskyRules[b.rule]), strings.Compare(a.scope, b.scope))
	}
	var all []power
	for _, ps := range bySA {
		slices.SortFunc(ps, byStrength)
		all = append(all, ps...)
	}
	slices.SortFunc(all, byStrength)

	escalations := func(c *checker, step string, hits []probeHit) {
		for _, h := range hits {
			// A step only an Azure role assignment grants is
			// azure-escalation-path's finding.
			if h.evidence = rbacOnly(h.evidence); len(h.evidence) == 0 {
				continue
			}
			self := h.subject.Key()
			candidates := all
			if h.scope != "" {
				candidates = bySA[h.scope]
			}
			var chosen [maxChains]*power
			targets := chosen[:0] // the first maxChains
			count := 0
			if hs := holds[self]; hs == nil {
				// A subject that holds nothing risky is no power itself
				// and covers none: every candidate is a target.
				for i := range candidates[:min(maxChains, len(candidates))] {
					targets = append(targets, &candidates[i])
				}
				count = len(candidates)
			} else {
				for i := range candidates {
					if p := &candidates[i]; p.key != self && !covered(hs, p.rule, p.scope) {
						if count < maxChains {
							targets = append(targets, p)
						}
						count++
					}
				}
			}
			if count == 0 {
				continue
			}
			sev := targets[0].severity
			// Made at their final size: a dense cluster has tens of
			// thousands of these findings.
			n := len(h.evidence)
			for _, t := range targets {
				n += len(t.evidence)
			}
			subjects := append(make([]rbac.Subject, 0, 1+len(targets)), h.subject)
			evidence := append(make([]rbac.Path, 0, n), h.evidence...)
			chains := make([]string, 0, len(targets))
			for _, t := range targets {
				if id := idOf(t.sa); !slices.ContainsFunc(subjects, func(s rbac.Subject) bool { return idOf(s) == id }) {
					subjects = append(subjects, t.sa)
				}
				evidence = append(evidence, t.evidence...)
				chains = append(chains, t.chain)
			}
			more := ""
			if count > len(chains) {
				more = fmt.Sprintf(" and %d more", count-len(chains))
			}
			stepText := stepRules[step]
			if step == "workload-create" {
				stepText = workloadStep(h.evidence)
			}
			c.add(Finding{Severity: sev, Subjects: subjects, Evidence: evidence,
				identity: step + "\n" + self + "\n" + h.scope,
				// The subject holds the risk (the service accounts are
				// what it reaches), and the chain holds while both its
				// step and one of its targets do.
				actors: 1, links: len(h.evidence),
				Message: h.subject.String() + " can " + stepText + " " + where(h.scope) + " and so act as " + strings.Join(chains, ", ") + more})
		}
	}

	for _, step := range []string{"workload-create", "serviceaccount-token-create"} {
		hits := c.hits(probeRuleNamed(step))
		// A dense cluster has tens of thousands of steps: their findings
		// are made in parallel, a part of the steps each, and joined in
		// the steps' order.
		parts := make([][]Finding, min(len(hits), 4*runtime.GOMAXPROCS(0)))
		inParallel(len(parts), func(k int) {
			rc := *c
			lo, hi := k*len(hits)/len(parts), (k+1)*len(hits)/len(parts)
			rc.findings = make([]Finding, 0, hi-lo) // about one each
			escalations(&rc, step, hits[lo:hi])
			parts[k] = rc.findings
		})
		for _, p := range parts {
			c.findings = append(c.findings, p...)
		}
	}
}

// workloadStep says what the step's evidence lets the subject create, as
// the evidence shows it: "create pods" only where a rule allows creating
// pods; else the workload controllers it may create, each of which runs a
// pod (as any service account of its namespace) for it.
func workloadStep(evidence []rbac.Path) string {
	var kinds []string
	for _, probe := range probeRuleNamed("workload-create").probes {
		for i := range evidence {
			if rbac.RuleAllows(&probe, &evidence[i].Rule) {
				r := probe.Resource
				if probe.APIGroup != "" {
					r += "." + probe.APIGroup
				}
				if !slices.Contains(kinds, r) {
					kinds = append(kinds, r)
				}
				break
			}
		}
	}
	switch {
	case len(kinds) == 0 || slices.Contains(kinds, "pods"):
		return "create pods"
	case len(kinds) == 1:
		return "create " + kinds[0] + " (whose controller creates the pods)"
	}
	return "create " + strings.Join(kinds, ", ") + " (whose controllers create the pods)"
}
