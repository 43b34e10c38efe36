package audit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// TestPodIdentityExceptions: an AzurePodIdentityException read from a
// file (shop, app=legacy) and one of the managed cluster's
// podIdentityProfile (ops, where nobody creates pods) are each a finding:
// the labelled pods bypass NMI and reach the kubelet identity, which holds
// Contributor on the node resource group (high); the group that creates
// pods in shop is named, nobody in ops.
func TestPodIdentityExceptions(t *testing.T) {
	ex := filepath.Join(t.TempDir(), "exception.yaml")
	if err := os.WriteFile(ex, []byte("apiVersion: aadpodidentity.k8s.io/v1\nkind: AzurePodIdentityException\nmetadata: {name: legacy-exception, namespace: shop}\nspec:\n  podLabels: {app: legacy, tier: web}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := source.Read(t.Context(), []string{"../testdata/aks-identity", ex}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := *res.Snapshot
	d := s.Azure.Copy()
	mc := *d.Cluster
	mc.PodIdentityExceptionList = []azurerbac.PodIdentityException{{Name: "ops-exception", Namespace: "ops", PodLabels: map[string]string{"app": "agent"}}}
	d.Cluster = &mc
	s.Azure = d
	fs := audit.Run(rbac.NewIndex(&s), audit.Options{Only: []string{"pod-identity-exception"}}).Findings
	if len(fs) != 2 {
		t.Fatalf("findings: %+v", fs)
	}
	byNS := map[string]audit.Finding{}
	for _, f := range fs {
		byNS[f.Objects[0].Namespace] = f
	}
	shop, ops := byNS["shop"], byNS["ops"]
	if shop.Severity != audit.High || len(shop.Subjects) != 1 || shop.Subjects[0].String() != "group:c7c7c7c7-0000-4000-8000-000000000007" ||
		!strings.Contains(shop.Message, "exception legacy-exception lets the pods of namespace shop labelled app=legacy, tier=web past NMI") ||
		!strings.Contains(shop.Message, "Contributor on resource group MC_rg-aks_aks-prod_westeurope beyond AcrPull") || len(shop.Evidence) == 0 {
		t.Errorf("shop: %+v", shop)
	}
	if ops.Severity != audit.High || len(ops.Subjects) != 0 || !strings.Contains(ops.Message, "nobody in the view can create pods there yet") {
		t.Errorf("ops: %+v", ops)
	}
	if !strings.Contains(shop.Message, "no enforced NetworkPolicy read keeps them from it") {
		t.Errorf("shop's IMDS: %s", shop.Message)
	}
	// shop's NetworkPolicies, enforced, keep its new pods from the
	// metadata service: past NMI, but nowhere (low).
	blocked := s
	bd := d.Copy()
	bmc := *bd.Cluster
	bmc.NetworkPolicy = "azure"
	bd.Cluster = &bmc
	blocked.Azure = bd
	blocked.NetworkPolicies = []networkingv1.NetworkPolicy{{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "shop"},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}}}}
	for _, f := range audit.Run(rbac.NewIndex(&blocked), audit.Options{Only: []string{"pod-identity-exception"}}).Findings {
		switch f.Objects[0].Namespace {
		case "shop":
			if f.Severity != audit.Low || !strings.Contains(f.Message, "but the namespace's NetworkPolicies keep new pods from it (networkProfile.networkPolicy azure): only pods on the host's network reach it") {
				t.Errorf("shop blocked: %s %s", f.Severity, f.Message)
			}
		case "ops":
			if f.Severity != audit.High || !strings.Contains(f.Message, "the namespace's NetworkPolicies let new pods reach it") {
				t.Errorf("ops not blocked: %s %s", f.Severity, f.Message)
			}
		}
	}
	// The kubelet identity holding AcrPull only: medium.
	d2 := d.Copy()
	d2.Assignments = nil
	for _, a := range d.Assignments {
		if !strings.HasSuffix(a.ID, "20000000-0000-4000-8000-000000000005") {
			d2.Assignments = append(d2.Assignments, a)
		}
	}
	s.Azure = d2
	for _, f := range audit.Run(rbac.NewIndex(&s), audit.Options{Only: []string{"pod-identity-exception"}}).Findings {
		if f.Severity != audit.Medium || !strings.Contains(f.Message, "holds AcrPull only") {
			t.Errorf("AcrPull only: %+v", f)
		}
	}
}
