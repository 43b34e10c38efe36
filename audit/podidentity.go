package audit

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// AAD pod identity (deprecated for workload identity) runs NMI on every
// node, which intercepts the pods' calls to the instance metadata service
// and answers only for the identities bound to them. An exception
// (podIdentityProfile.userAssignedIdentityExceptions, or an
// AzurePodIdentityException resource) lets the pods it labels past NMI:
// they reach the metadata service directly, and with it the node's own
// identities (the kubelet identity, the add-ons').

func init() {
	register(Rule{Name: "pod-identity-exception", Category: CategoryAzureIdentity, Severity: High,
		Title: "An AAD pod identity exception lets labelled pods reach the nodes' identities",
		Why: "Pods matching an AAD pod identity exception's labels bypass NMI and reach the instance metadata service (169.254.169.254) directly: whoever can create a pod with those labels in its namespace acts as the kubelet identity and every identity assigned to the nodes. " +
			"Severity: as kubelet-identity-reach's for what the kubelet identity holds beyond AcrPull, high at least; medium when it holds only AcrPull; low when the namespace's NetworkPolicies (enforced) or AKS's IMDS restriction keep its new pods from the metadata service (kubelet-identity-reach's check). The add-on itself is aks-pod-identity's finding.",
		Fix:   "None as a manifest: move the pods to workload identity and remove the exception (az aks pod-identity exception delete, or delete the AzurePodIdentityException), then disable the add-on (az aks update --disable-pod-identity).",
		check: checkPodIdentityExceptions})
}

// PodIdentityExceptions are the exceptions of the view: the managed
// cluster's and the AzurePodIdentityException resources read.
func PodIdentityExceptions(s *rbac.Snapshot) []azurerbac.PodIdentityException {
	var out []azurerbac.PodIdentityException
	if s.Azure != nil && s.Azure.Cluster != nil {
		out = append(out, s.Azure.Cluster.PodIdentityExceptionList...)
	}
	for _, e := range s.PodIdentityExceptions {
		out = append(out, azurerbac.PodIdentityException{Name: e.Name, Namespace: e.Namespace, PodLabels: e.Spec.PodLabels})
	}
	return out
}

func checkPodIdentityExceptions(c *checker) {
	exceptions := PodIdentityExceptions(c.snap)
	if len(exceptions) == 0 {
		return
	}
	sev, holds := Medium, "what the kubelet identity holds was not read"
	if d := c.snap.Azure; d != nil && d.Cluster != nil && d.Cluster.KubeletIdentity != "" {
		holds = "the kubelet identity holds AcrPull only among the assignments read"
		if beyond := KubeletBeyondAcrPull(d); len(beyond) > 0 {
			var roles []string
			sev, roles = identitySeverity(d, beyond)
			sev = max(sev, High)
			holds = "the kubelet identity holds " + strings.Join(firstN(roles, 3), ", ") + " beyond AcrPull"
		}
	}
	reach := IMDSReachOf(c.snap)
	for _, e := range exceptions {
		var subjects []rbac.Subject
		var evidence []rbac.Path
		for _, h := range c.hits(probeRuleNamed("workload-create")) {
			if h.scope != "" && h.scope != e.Namespace {
				continue
			}
			if !slices.ContainsFunc(subjects, func(s rbac.Subject) bool { return s.Key() == h.subject.Key() }) {
				subjects = append(subjects, h.subject)
			}
			evidence = append(evidence, h.evidence...)
		}
		var labels []string
		for _, k := range slices.Sorted(maps.Keys(e.PodLabels)) {
			labels = append(labels, k+"="+e.PodLabels[k])
		}
		var names []string
		for _, s := range subjects {
			names = append(names, s.String())
		}
		who := "nobody in the view can create pods there yet"
		if len(names) > 0 {
			more := ""
			if len(names) > maxChains {
				more = fmt.Sprintf(" and %d more", len(names)-maxChains)
			}
			who = strings.Join(firstN(names, maxChains), ", ") + more + " can create such pods"
		}
		fsev, imds := sev, "; no enforced NetworkPolicy read keeps them from it (rules on the nodes and a CNI's own policy kinds were not checked)"
		if reach.Policies {
			imds = "; the namespace's NetworkPolicies let new pods reach it"
		}
		if blocked, why := reach.Blocks(e.Namespace); blocked {
			// Past NMI, but not to the metadata service: only pods on
			// the host's network, which NMI does not intercept anyway.
			fsev, imds = Low, "; but "+why+": only pods on the host's network reach it"
		}
		c.add(Finding{Severity: fsev, Subjects: subjects, Evidence: evidence,
			Objects:  []rbac.ObjectRef{{APIVersion: rbac.PodIdentityGroup + "/v1", Kind: "AzurePodIdentityException", Name: e.Name, Namespace: e.Namespace}},
			identity: e.Namespace + "\n" + e.Name + "\n" + strings.Join(labels, ","),
			Message: fmt.Sprintf("AAD pod identity exception %s lets the pods of namespace %s labelled %s past NMI, straight to the instance metadata service and the nodes' identities (%s): %s%s",
				e.Name, e.Namespace, strings.Join(labels, ", "), holds, who, imds)})
	}
}
