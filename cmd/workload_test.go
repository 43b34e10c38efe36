package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// TestWhatCanWorkloadIdentity: offline, shop/orders is annotated with
// id-orders' client id and its federated credential names the account on
// the cluster's issuer: what-can says, in JSON, the table and csv, that it
// acts as id-orders with Contributor on the subscription and a role on a
// storage account (an assignment at a scope unrelated to the cluster),
// path annotation -> federated credential -> identity. shop/reports names
// id-reports, whose credential writes the issuer without its trailing
// slash: not access, with the reason and a warning. shop/legacy names a
// client id no identity read has: unknown, never access. Without the
// managed cluster, its issuer is not known: matching is unknown.
func TestWhatCanWorkloadIdentity(t *testing.T) {
	dir := "../testdata/aks-identity"
	whatCan := func(sa string, args ...string) *access.WhatCanAnswer {
		t.Helper()
		out, errOut, code := run(t, append([]string{"what-can", sa, "-o", "json"}, args...)...)
		var ans access.WhatCanAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != ExitOK {
			t.Fatalf("what-can %s: code %d %v\n%s", sa, code, err, errOut)
		}
		return &ans
	}
	ans := whatCan("sa:shop:orders", "-f", dir)
	if len(ans.WorkloadIdentities) != 1 {
		t.Fatalf("orders: %+v", ans.WorkloadIdentities)
	}
	w := ans.WorkloadIdentities[0]
	if w.Status != azurerbac.WorkloadMatched || w.Kind != "workload-identity" || w.Identity == nil || w.Identity.Name != "id-orders" ||
		w.FederatedCredential == nil || w.FederatedCredential.Name != "shop-orders" || w.Annotation != "azure.workload.identity/client-id" ||
		len(w.RoleAssignments) != 2 || w.RoleAssignments[0].RoleName != "Contributor" ||
		w.RoleAssignments[0].Scope != "/subscriptions/22222222-2222-4222-8222-222222222222" ||
		w.RoleAssignments[1].RoleName != "Storage Blob Data Contributor" || !strings.Contains(w.RoleAssignments[1].Scope, "/storageAccounts/stshop") {
		t.Errorf("orders: %+v", w)
	}
	for _, x := range ans.Warnings {
		if strings.Contains(x.Message, "annotated") {
			t.Errorf("a matched account warned: %s", x.Message)
		}
	}

	out, _, code := run(t, "what-can", "sa:shop:orders", "-f", dir)
	for _, want := range []string{"acts in Azure through workload identity", "managed identity id-orders",
		"via annotation azure.workload.identity/client-id -> federated credential shop-orders", "subject system:serviceaccount:shop:orders",
		"Contributor", "subscription 22222222-2222-4222-8222-222222222222", "Storage Blob Data Contributor"} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("table lacks %q (code %d):\n%s", want, code, out)
		}
	}
	out, _, _ = run(t, "what-can", "sa:shop:orders", "-f", dir, "-o", "csv")
	if !strings.Contains(out, "subscription 22222222-2222-4222-8222-222222222222,,managed identity id-orders,annotation azure.workload.identity/client-id -> federated credential shop-orders,Contributor") {
		t.Errorf("csv:\n%s", out)
	}

	ans = whatCan("sa:shop:reports", "-f", dir)
	if len(ans.WorkloadIdentities) != 1 || ans.WorkloadIdentities[0].Status != azurerbac.WorkloadNoCredential ||
		len(ans.WorkloadIdentities[0].RoleAssignments) != 0 || len(ans.WorkloadIdentities[0].Misses) != 1 ||
		!strings.Contains(ans.WorkloadIdentities[0].Misses[0].Why, "issuer") || !hasWarningText(ans, "grants nothing") {
		t.Errorf("reports: %+v %v", ans.WorkloadIdentities, ans.Warnings)
	}
	out, _, _ = run(t, "what-can", "sa:shop:reports", "-f", dir)
	if !strings.Contains(out, "not as client id 0b0b0b0b-0000-4000-8000-00000000000b (no-matching-credential)") || strings.Contains(out, "Storage Blob") {
		t.Errorf("reports' table:\n%s", out)
	}

	ans = whatCan("sa:shop:legacy", "-f", dir)
	if len(ans.WorkloadIdentities) != 1 || ans.WorkloadIdentities[0].Status != azurerbac.WorkloadIdentityUnknown || ans.WorkloadIdentities[0].Identity != nil {
		t.Errorf("legacy: %+v", ans.WorkloadIdentities)
	}

	// Not annotated, but a federated credential names the account: its
	// pods can exchange their tokens all the same.
	ans = whatCan("sa:shop:batch", "-f", dir)
	if len(ans.WorkloadIdentities) != 1 || !ans.WorkloadIdentities[0].Acts() || ans.WorkloadIdentities[0].Annotation != "" ||
		ans.WorkloadIdentities[0].Identity.Name != "id-batch" || ans.WorkloadIdentities[0].ServiceAccountMissing ||
		len(ans.WorkloadIdentities[0].RoleAssignments) != 1 || !strings.Contains(ans.WorkloadIdentities[0].Why, "not annotated") {
		t.Errorf("batch: %+v", ans.WorkloadIdentities)
	}
	out, _, _ = run(t, "what-can", "sa:shop:batch", "-f", dir)
	if !strings.Contains(out, "via a token of sa:shop:batch (not annotated) -> federated credential shop-batch") {
		t.Errorf("batch's table:\n%s", out)
	}
	// A credential naming an account that does not exist.
	ans = whatCan("sa:shop:ghost", "-f", dir)
	if len(ans.WorkloadIdentities) != 1 || !ans.WorkloadIdentities[0].Acts() || !ans.WorkloadIdentities[0].ServiceAccountMissing ||
		!strings.Contains(ans.WorkloadIdentities[0].Why, "does not exist") {
		t.Errorf("ghost: %+v", ans.WorkloadIdentities)
	}

	cluster := "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-prod"
	ans = whatCan("sa:shop:orders", "-f", dir+"/rbac.yaml", "-f", dir+"/identities.json", "-f", dir+"/federated-credentials.json",
		"-f", dir+"/assignments.json", "--azure-cluster-id", cluster)
	if len(ans.WorkloadIdentities) != 1 || ans.WorkloadIdentities[0].Status != azurerbac.WorkloadIssuerUnknown || len(ans.WorkloadIdentities[0].RoleAssignments) != 0 ||
		!hasWarningText(ans, "issuer is not known") {
		t.Errorf("no managed cluster: %+v", ans.WorkloadIdentities)
	}
	// Without Azure data the annotation is still said, as unknown.
	ans = whatCan("sa:shop:orders", "-f", dir+"/rbac.yaml")
	if len(ans.WorkloadIdentities) != 1 || ans.WorkloadIdentities[0].Status != azurerbac.WorkloadIdentityUnknown {
		t.Errorf("no Azure data: %+v", ans.WorkloadIdentities)
	}
}

func hasWarningText(ans *access.WhatCanAnswer, part string) bool {
	for _, w := range ans.Warnings {
		if strings.Contains(w.Message, part) {
			return true
		}
	}
	return false
}
