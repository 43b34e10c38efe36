package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// IMDSReach is what the view says of which pods reach the instance
// metadata service (and with it the nodes' identities): what was checked
// and what was not.
type IMDSReach struct {
	// Restricted: AKS's IMDS restriction is on
	// (networkProfile.podLinkLocalAccess None).
	Restricted bool
	// Enforcement is networkProfile.networkPolicy as read ("" when the
	// managed cluster was not read or does not say).
	Enforcement string
	// Policies: the input holds NetworkPolicies, and they are enforced,
	// so Reaching and Blocked were decided with them (rbac.IMDSEgressOf).
	Policies bool
	// Read is how many NetworkPolicies the view holds; Listed says they
	// are the cluster's all (a live LIST), so none read means none.
	Read   int
	Listed bool
	// Reaching are the namespaces read whose new pods reach it; Blocked
	// those whose NetworkPolicies keep new pods from it.
	Reaching, Blocked []string
}

// enforced says whether the network policy engine read enforces
// NetworkPolicies: azure, calico or cilium; none, or not said, does not.
func enforced(engine string) bool {
	switch strings.ToLower(engine) {
	case "azure", "calico", "cilium":
		return true
	}
	return false
}

// IMDSReachOf decides, for the namespaces of the view, whether their new
// pods reach the instance metadata service.
func IMDSReachOf(s *rbac.Snapshot) IMDSReach {
	var r IMDSReach
	if d := s.Azure; d != nil && d.Cluster != nil {
		r.Restricted = strings.EqualFold(d.Cluster.PodLinkLocalAccess, "None")
		r.Enforcement = d.Cluster.NetworkPolicy
	}
	var namespaces []string
	for _, n := range s.Namespaces {
		namespaces = append(namespaces, n.Name)
	}
	for _, p := range s.NetworkPolicies {
		namespaces = append(namespaces, p.Namespace)
	}
	slices.Sort(namespaces)
	namespaces = slices.Compact(namespaces)
	r.Read, r.Listed = len(s.NetworkPolicies), s.NetworkPoliciesListed
	r.Policies = r.Read > 0 && enforced(r.Enforcement)
	for _, ns := range namespaces {
		if r.Policies && rbac.IMDSEgressOf(s.NetworkPolicies, ns).Blocked {
			r.Blocked = append(r.Blocked, ns)
		} else {
			r.Reaching = append(r.Reaching, ns)
		}
	}
	return r
}

// Blocks says whether, by what was read, new pods of namespace (off the
// host's network) do not reach the metadata service, and why.
func (r IMDSReach) Blocks(namespace string) (bool, string) {
	switch {
	case r.Restricted:
		return true, "AKS's IMDS restriction is on (networkProfile.podLinkLocalAccess None)"
	case r.Policies && slices.Contains(r.Blocked, namespace):
		return true, "the namespace's NetworkPolicies keep new pods from it (networkProfile.networkPolicy " + r.Enforcement + ")"
	}
	return false, ""
}

// HostNetworkOnly says whether only pods on the host's network (which no
// NetworkPolicy nor the restriction applies to) reach the metadata
// service, by what was read.
func (r IMDSReach) HostNetworkOnly() bool {
	return r.Restricted || r.Policies && len(r.Reaching) == 0 && len(r.Blocked) > 0
}

// String says what was checked, what it found, and what was not checked.
func (r IMDSReach) String() string {
	var checked string
	switch {
	case r.Restricted:
		checked = "AKS's IMDS restriction is on (networkProfile.podLinkLocalAccess None): only pods on the host's network reach it"
	case r.Read == 0 && r.Listed:
		checked = "the cluster has no NetworkPolicy: every pod reaches it"
	case r.Read == 0:
		checked = "no NetworkPolicy was read (the input holds none): every pod may reach it"
	case !r.Policies && r.Enforcement == "":
		checked = fmt.Sprintf("%d NetworkPolicies were read, but not whether the cluster enforces them (networkProfile.networkPolicy; AKS enforces none without an engine): every pod may reach it", r.Read)
	case !r.Policies:
		checked = "the NetworkPolicies read are not enforced (networkProfile.networkPolicy " + r.Enforcement + "): every pod reaches it"
	case len(r.Reaching) == 0:
		checked = fmt.Sprintf("the NetworkPolicies read keep new pods of every namespace read (%s) from it: only pods on the host's network reach it", strings.Join(firstN(r.Blocked, 5), ", "))
	default:
		checked = fmt.Sprintf("by the NetworkPolicies read (enforced: networkProfile.networkPolicy %s), new pods of namespace(s) %s reach it", r.Enforcement, strings.Join(firstN(r.Reaching, 5), ", "))
		if len(r.Reaching) > 5 {
			checked += fmt.Sprintf(" and %d more", len(r.Reaching)-5)
		}
		if len(r.Blocked) > 0 {
			checked += "; those of " + strings.Join(firstN(r.Blocked, 5), ", ") + " do not"
		}
	}
	return checked + "; not checked: pods on the host's network (no NetworkPolicy applies to them), rules on the nodes, and policies of a CNI's own kinds (CiliumNetworkPolicy, Calico's GlobalNetworkPolicy)"
}

// StepIMDS: it creates a pod whose namespace reaches the instance metadata
// service, which hands the pod the nodes' identity (the kubelet's).
const StepIMDS = "pod-imds"

// KubeletReaches are who can act as the kubelet identity: whoever can
// create pods (or workloads whose controllers do) in a namespace whose new
// pods reach the instance metadata service, as kubelet-identity-reach
// decides it (IMDSReachOf); cluster-wide when some namespace does. None
// when AKS's IMDS restriction is on.
func KubeletReaches(ix *rbac.Index) []IdentityReach { return newChecker(ix).kubeletReaches() }

func (c *checker) kubeletReaches() []IdentityReach {
	reach := IMDSReachOf(c.snap)
	if reach.Restricted {
		return nil
	}
	var out []IdentityReach
	for _, h := range c.hits(probeRuleNamed("workload-create")) {
		if h.scope == "" {
			if reach.HostNetworkOnly() {
				continue // every namespace read keeps new pods from it
			}
		} else if blocked, _ := reach.Blocks(h.scope); blocked {
			continue
		}
		out = append(out, IdentityReach{Subject: h.subject, Step: StepIMDS, StepText: "create pods (which reach the instance metadata service)", Namespace: h.scope, Evidence: h.evidence})
	}
	return out
}
