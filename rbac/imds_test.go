package rbac

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestIMDSEgress: the NetworkPolicy semantics a new pod's call to
// 169.254.169.254:80 is decided with, case by case.
func TestIMDSEgress(t *testing.T) {
	egress := []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	all := metav1.LabelSelector{}
	app := metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(p intstr.IntOrString, proto *corev1.Protocol, end *int32) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Port: &p, Protocol: proto, EndPort: end}
	}
	end := int32(443)
	block := func(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
	}
	pol := func(name, ns string, sel metav1.LabelSelector, types []networkingv1.PolicyType, rules ...networkingv1.NetworkPolicyEgressRule) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: sel, PolicyTypes: types, Egress: rules}}
	}
	to := func(peers ...networkingv1.NetworkPolicyPeer) networkingv1.NetworkPolicyEgressRule {
		return networkingv1.NetworkPolicyEgressRule{To: peers}
	}
	dns := networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(53), &udp, nil)}}
	for _, c := range []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		blocked  bool
	}{
		{"no policy: not isolated", nil, false},
		{"default deny egress", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress)}, true},
		{"another namespace's deny", []networkingv1.NetworkPolicy{pol("deny", "other", all, egress)}, false},
		{"ingress only: egress not isolated", []networkingv1.NetworkPolicy{pol("deny-in", "shop", all, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress})}, false},
		{"policyTypes left out, no egress rules: ingress only", []networkingv1.NetworkPolicy{pol("p", "shop", all, nil)}, false},
		{"policyTypes left out, egress rules: egress too", []networkingv1.NetworkPolicy{pol("p", "shop", all, nil, dns)}, true},
		{"deny selecting some pods: a new pod picks other labels", []networkingv1.NetworkPolicy{pol("deny-web", "shop", app, egress)}, false},
		{"0.0.0.0/0 except the metadata address", []networkingv1.NetworkPolicy{pol("internet", "shop", all, egress, to(block("0.0.0.0/0", "169.254.169.254/32")))}, true},
		{"0.0.0.0/0 except link-local", []networkingv1.NetworkPolicy{pol("internet", "shop", all, egress, to(block("0.0.0.0/0", "169.254.0.0/16")))}, true},
		{"0.0.0.0/0 without except", []networkingv1.NetworkPolicy{pol("internet", "shop", all, egress, to(block("0.0.0.0/0")))}, false},
		{"except of another range", []networkingv1.NetworkPolicy{pol("internet", "shop", all, egress, to(block("0.0.0.0/0", "10.0.0.0/8")))}, false},
		{"a rule with no to: every destination", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress), pol("web-out", "shop", app, egress, networkingv1.NetworkPolicyEgressRule{})}, false},
		{"an allow selecting some pods: a new pod takes its labels", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress), pol("web-imds", "shop", app, egress, to(block("169.254.169.254/32")))}, false},
		{"pod and namespace selectors: pods, not the metadata service", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress, to(networkingv1.NetworkPolicyPeer{PodSelector: &all}, networkingv1.NetworkPolicyPeer{NamespaceSelector: &all}))}, true},
		{"DNS only", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress, dns)}, true},
		{"the address on port 443 only", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{block("169.254.169.254/32")}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(443), &tcp, nil)}})}, true},
		{"the address on ports 1-443", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{block("169.254.169.254/32")}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(1), nil, &end)}})}, false},
		{"the address on UDP 80", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{block("169.254.169.254/32")}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(80), &udp, nil)}})}, true},
		{"the address on a named port", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{block("169.254.169.254/32")}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("http"), nil, nil)}})}, true},
		{"TCP with any port", []networkingv1.NetworkPolicy{pol("deny", "shop", all, egress, networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp}}})}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := IMDSEgressOf(c.policies, "shop"); got.Blocked != c.blocked {
				t.Errorf("blocked %v, want %v (%+v)", got.Blocked, c.blocked, got)
			}
		})
	}
}
