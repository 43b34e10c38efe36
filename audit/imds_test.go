package audit_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// TestKubeletIMDSReach: the kubelet identity's finding says which
// namespaces' new pods still reach the metadata service by the
// NetworkPolicies read: shop denies all egress but DNS, web has no
// policy (high, naming web, and shop as blocked); with web denied too only
// pods on the host's network reach it (medium); policies the cluster does
// not enforce (networkPolicy none), or whose enforcement was not read,
// block nothing; AKS's IMDS restriction leaves only the host's network.
func TestKubeletIMDSReach(t *testing.T) {
	res, err := source.Read(t.Context(), []string{"../testdata/aks-identity"}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	egress := []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}
	udp := corev1.ProtocolUDP
	dns := networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp}}}
	deny := func(ns string) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default-deny-egress", Namespace: ns},
			Spec: networkingv1.NetworkPolicySpec{PolicyTypes: egress, Egress: []networkingv1.NetworkPolicyEgressRule{dns}}}
	}
	run := func(engine, linkLocal string, namespaces []string, policies ...networkingv1.NetworkPolicy) audit.Finding {
		t.Helper()
		s := *res.Snapshot
		d := s.Azure.Copy()
		mc := *d.Cluster
		mc.NetworkPolicy, mc.PodLinkLocalAccess = engine, linkLocal
		d.Cluster = &mc
		s.Azure = d
		s.Namespaces = nil
		for _, ns := range namespaces {
			s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		}
		s.NetworkPolicies = policies
		fs := audit.Run(rbac.NewIndex(&s), audit.Options{Only: []string{"kubelet-identity-reach"}}).Findings
		if len(fs) != 1 {
			t.Fatalf("findings: %+v", fs)
		}
		return fs[0]
	}
	two := []string{"shop", "web"}
	f := run("cilium", "", two, deny("shop"))
	if f.Severity != audit.High || !strings.Contains(f.Message, "new pods of namespace(s) web reach it; those of shop do not") || !strings.Contains(f.Message, "not checked: pods on the host's network") {
		t.Errorf("shop denied: %s %s", f.Severity, f.Message)
	}
	f = run("azure", "", two, deny("shop"), deny("web"))
	if f.Severity != audit.Medium || !strings.Contains(f.Message, "keep new pods of every namespace read (shop, web) from it: only pods on the host's network reach it") {
		t.Errorf("both denied: %s %s", f.Severity, f.Message)
	}
	f = run("none", "", two, deny("shop"), deny("web"))
	if f.Severity != audit.High || !strings.Contains(f.Message, "are not enforced (networkProfile.networkPolicy none)") {
		t.Errorf("not enforced: %s %s", f.Severity, f.Message)
	}
	f = run("", "", two, deny("shop"), deny("web"))
	if f.Severity != audit.High || !strings.Contains(f.Message, "2 NetworkPolicies were read, but not whether the cluster enforces them") {
		t.Errorf("enforcement not read: %s %s", f.Severity, f.Message)
	}
	f = run("cilium", "None", two)
	if f.Severity != audit.Medium || !strings.Contains(f.Message, "AKS's IMDS restriction is on") {
		t.Errorf("restricted: %s %s", f.Severity, f.Message)
	}
}

// TestNetworkPolicyRead: a NetworkPolicy given with -f is read (and kept
// by a snapshot), and the finding counts it.
func TestNetworkPolicyRead(t *testing.T) {
	dir := t.TempDir()
	np := dir + "/np.yaml"
	if err := os.WriteFile(np, []byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-egress, namespace: shop}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := source.Read(t.Context(), []string{"../testdata/aks-identity", np}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Snapshot.NetworkPolicies) != 1 || !rbac.IMDSEgressOf(res.Snapshot.NetworkPolicies, "shop").Blocked {
		t.Fatalf("read: %+v", res.Snapshot.NetworkPolicies)
	}
	b, _ := json.Marshal(res.Snapshot)
	snap := dir + "/snap.json"
	if err := os.WriteFile(snap, b, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := source.Read(t.Context(), []string{snap}, source.ReadOptions{})
	if err != nil || len(again.Snapshot.NetworkPolicies) != 1 {
		t.Fatalf("the snapshot: %v %+v", err, again.Snapshot.NetworkPolicies)
	}
	fs := audit.Run(rbac.NewIndex(again.Snapshot), audit.Options{Only: []string{"kubelet-identity-reach"}}).Findings
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "1 NetworkPolicies were read, but not whether the cluster enforces them") {
		t.Errorf("findings: %+v", fs)
	}
	// Listed live and none there: the cluster has none; from files, none
	// given is not known to be none.
	none := *res.Snapshot
	none.NetworkPolicies, none.NetworkPoliciesListed = nil, true
	if fs := audit.Run(rbac.NewIndex(&none), audit.Options{Only: []string{"kubelet-identity-reach"}}).Findings; len(fs) != 1 || !strings.Contains(fs[0].Message, "the cluster has no NetworkPolicy: every pod reaches it") {
		t.Errorf("listed, none: %+v", fs)
	}
	none.NetworkPoliciesListed = false
	if fs := audit.Run(rbac.NewIndex(&none), audit.Options{Only: []string{"kubelet-identity-reach"}}).Findings; len(fs) != 1 || !strings.Contains(fs[0].Message, "no NetworkPolicy was read (the input holds none)") {
		t.Errorf("files, none: %+v", fs)
	}
}
