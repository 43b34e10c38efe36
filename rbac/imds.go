package rbac

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The instance metadata service (IMDS) answers on the node's link-local
// address: a pod that reaches it gets the tokens of the node's identities
// (the kubelet identity, the add-ons'). Whether a namespace's NetworkPolicies
// keep its pods from it is decided here, once, with the semantics of
// networking.k8s.io/v1 (the API's documentation of NetworkPolicySpec):
//
//   - A policy applies to egress when its policyTypes hold Egress, or,
//     policyTypes left out, when it has egress rules.
//   - A pod is isolated for egress only when some such policy of its
//     namespace selects it; then it may send only what some such policy
//     selecting it allows (the policies are additive allows, never denies).
//   - An egress rule allows a destination when it has no `to` (every
//     destination) or a peer's ipBlock whose cidr holds the address and
//     none of whose `except` does; podSelector and namespaceSelector peers
//     select pods, and the metadata service is no pod. Its ports allow the
//     call when it has none, or one whose protocol is TCP (the default) and
//     whose port is unset, 80, or a range holding 80 (a named port names a
//     destination pod's container port, which an address has none of).
//
// The question is asked of a pod anyone who can create pods there may
// make: it chooses its labels. So a namespace keeps new pods from the
// metadata service only when a policy selecting every pod (an empty
// podSelector) isolates them, and no egress policy of the namespace
// (whichever pods it selects: labels can be chosen to match it) allows the
// call. A selector no labels can match is counted as matchable: the answer
// errs towards "reaches". Pods on the host's network are subject to no
// NetworkPolicy; and the policies only hold where the cluster enforces
// them (a network policy engine).

// IMDSAddress is the instance metadata service's address.
var IMDSAddress = netip.MustParseAddr("169.254.169.254")

// IMDSPort is the port the metadata service answers on (HTTP).
const IMDSPort = 80

// IMDSEgress is what a namespace's NetworkPolicies decide for a new pod's
// call to the metadata service.
type IMDSEgress struct {
	// Blocked: every new pod is isolated for egress and no policy allows
	// the call.
	Blocked bool
	// Isolating names the policy that isolates every pod (empty
	// podSelector), when one does; Allowing the policies that allow the
	// call.
	Isolating string
	Allowing  []string
}

// IMDSEgressOf decides, from the NetworkPolicies given (those of other
// namespaces are ignored), whether a pod created in namespace with labels
// of its maker's choosing can reach the metadata service.
func IMDSEgressOf(policies []networkingv1.NetworkPolicy, namespace string) IMDSEgress {
	var out IMDSEgress
	for i := range policies {
		p := &policies[i]
		if p.Namespace != namespace || !appliesToEgress(&p.Spec) {
			continue
		}
		if selectsEvery(&p.Spec.PodSelector) && out.Isolating == "" {
			out.Isolating = p.Name
		}
		for j := range p.Spec.Egress {
			if egressAllows(&p.Spec.Egress[j], IMDSAddress, IMDSPort) {
				out.Allowing = append(out.Allowing, p.Name)
				break
			}
		}
	}
	out.Blocked = out.Isolating != "" && len(out.Allowing) == 0
	return out
}

// appliesToEgress: policyTypes holds Egress, or is left out and the
// policy has egress rules.
func appliesToEgress(s *networkingv1.NetworkPolicySpec) bool {
	if len(s.PolicyTypes) == 0 {
		return len(s.Egress) > 0
	}
	for _, t := range s.PolicyTypes {
		if t == networkingv1.PolicyTypeEgress {
			return true
		}
	}
	return false
}

// selectsEvery: an empty pod selector selects every pod of the namespace.
func selectsEvery(sel *metav1.LabelSelector) bool {
	return len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0
}

// egressAllows says whether one egress rule allows TCP to addr:port.
func egressAllows(r *networkingv1.NetworkPolicyEgressRule, addr netip.Addr, port int32) bool {
	return portsAllow(r.Ports, port) && peersAllow(r.To, addr)
}

func peersAllow(peers []networkingv1.NetworkPolicyPeer, addr netip.Addr) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.IPBlock == nil {
			continue // pods, not addresses
		}
		cidr, err := netip.ParsePrefix(p.IPBlock.CIDR)
		if err != nil || !cidr.Contains(addr) {
			continue
		}
		excepted := false
		for _, e := range p.IPBlock.Except {
			if x, err := netip.ParsePrefix(e); err == nil && x.Contains(addr) {
				excepted = true
			}
		}
		if !excepted {
			return true
		}
	}
	return false
}

func portsAllow(ports []networkingv1.NetworkPolicyPort, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String: // a named port: a destination pod's, not an address's
			continue
		case p.Port.IntVal == port:
			return true
		case p.EndPort != nil && p.Port.IntVal <= port && port <= *p.EndPort:
			return true
		}
	}
	return false
}
