package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

func init() {
	register(Rule{Name: "workload-identity-admin", Category: CategoryRBAC, Severity: Critical,
		Title: "A pod runs as a service account with admin-equivalent rights",
		Why: "A pod's service-account token is mounted into it: whoever gets code running in the pod (a vulnerable app, a bad image, exec) " +
			"holds what the account holds, here every right, or the power to grant or impersonate any.",
		Fix:   "Removes the service account from the binding that grants it; give the workload an account with only what it needs.",
		check: checkWorkloadIdentityAdmin})
}

// adminRules are the probe rules whose cluster-wide hits make an identity
// admin-equivalent: it holds everything, or can grant or become anything.
var adminRules = []string{"cluster-admin-equivalent", "impersonate", "escalate-or-bind"}

func checkWorkloadIdentityAdmin(c *checker) {
	// The pods that run, or are about to, by service account; offline, a
	// workload's template counts as its pod.
	pods := map[string][]*corev1.Pod{}
	for i := range c.snap.Pods {
		p := &c.snap.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		sa := rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: p.Namespace, Name: cmp.Or(p.Spec.ServiceAccountName, "default")}
		pods[sa.Key()] = append(pods[sa.Key()], p)
	}
	if len(pods) == 0 {
		return
	}
	type power struct {
		subject  rbac.Subject
		rules    []string
		evidence []rbac.Path
	}
	powers := map[string]*power{}
	var order []string
	for _, name := range adminRules {
		for _, h := range c.hits(probeRuleNamed(name)) {
			key := h.subject.Key()
			if h.subject.Kind != rbac.ServiceAccountKind || h.scope != "" || pods[key] == nil {
				continue
			}
			p := powers[key]
			if p == nil {
				p = &power{subject: h.subject}
				powers[key] = p
				order = append(order, key)
			}
			p.rules = append(p.rules, name)
			p.evidence = append(p.evidence, h.evidence...)
		}
	}
	slices.Sort(order)
	for _, key := range order {
		p := powers[key]
		ps := pods[key]
		objs := make([]rbac.ObjectRef, 0, min(len(ps), 3))
		var names []string
		for _, pod := range ps[:min(len(ps), 3)] {
			r := podRef(pod)
			objs = append(objs, r)
			names = append(names, r.String())
		}
		more := ""
		if len(ps) > len(names) {
			more = fmt.Sprintf(" and %d more", len(ps)-len(names))
		}
		c.add(Finding{Severity: Critical, Subjects: []rbac.Subject{p.subject}, Objects: objs, Evidence: p.evidence,
			Message: fmt.Sprintf("%s (%s cluster-wide) is the identity of %s%s", p.subject, strings.Join(p.rules, ", "), strings.Join(names, ", "), more)})
	}
}
