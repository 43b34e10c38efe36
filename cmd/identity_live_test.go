package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/internal/testkit/entratest"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestWorkloadIdentityLive: against the real API server (its service
// accounts, annotated) and the loopback ARM (armmsi's identities and
// federated credentials, role assignments by assignedTo), with
// --azure-rbac:
//   - wi-shop/orders names id-orders' client id, whose credential names it
//     on the cluster's issuer: matched, Contributor on the subscription and
//     a role on a storage account in another resource group, read through
//     the identity (not at the cluster's scope);
//   - wi-shop/reports names id-reports, whose credential's issuer differs
//     from the cluster's by a trailing slash: no-matching-credential,
//     never access;
//   - wi-shop/batch is not annotated, and id-batch has a credential for it:
//     matched without the annotation;
//   - wi-shop/ingest names an app registration's appId: Graph has its
//     federated credential and its service principal, whose Contributor
//     on rg-ingest it reaches;
//   - id-unrelated, on another issuer and named by no account, is not
//     kept; the kubelet identity is, with its AcrPull, and so is the Key
//     Vault secrets provider add-on's;
//   - the chain works as reported: each account's real token (TokenRequest)
//     exchanged at the Entra issuer, as workload identity does, gets the
//     identity's token where the tool says matched, and Entra refuses it
//     where the tool says no-matching-credential;
//   - the snapshot keeps it all, and answers offline the same;
//   - ARM's 403 on the identities, or on one identity's credentials, and
//     Graph's on the app registrations, is a warning and an incomplete
//     answer, never "no identity".
func TestWorkloadIdentityLive(t *testing.T) {
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	const ns = "wi-shop"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const (
		sub         = "/subscriptions/6b6b6b6b-0000-4000-8000-00000000006b"
		ordersCID   = "0c0c0001-0000-4000-8000-000000000001"
		reportsCID  = "0c0c0002-0000-4000-8000-000000000002"
		batchCID    = "0c0c0003-0000-4000-8000-000000000003"
		ordersPID   = "0d0d0001-0000-4000-8000-000000000001"
		reportsPID  = "0d0d0002-0000-4000-8000-000000000002"
		batchPID    = "0d0d0003-0000-4000-8000-000000000003"
		unrelPID    = "0d0d0004-0000-4000-8000-000000000004"
		kubeletPID  = "0d0d0005-0000-4000-8000-000000000005"
		kvPID       = "0d0d0007-0000-4000-8000-000000000007"
		ingestAppID = "0c0c0006-0000-4000-8000-000000000006"
		ingestSPID  = "0d0d0006-0000-4000-8000-000000000006"
		contributor = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
		acrPull     = "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
		blobData    = "/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"
	)
	// The managed cluster's issuer is the API server's own, so that its
	// tokens can be exchanged; reports' credential differs from it by a
	// trailing slash.
	issuer, jwks := clusterIssuer(t, cs)
	otherIssuer := issuer + "/"
	if strings.HasSuffix(issuer, "/") {
		otherIssuer = strings.TrimSuffix(issuer, "/")
	}
	for _, sa := range []struct{ name, clientID string }{{"orders", ordersCID}, {"reports", reportsCID}, {"batch", ""}, {"ingest", ingestAppID}} {
		o := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa.name, Namespace: ns}}
		if sa.clientID != "" {
			o.Annotations = map[string]string{azurerbac.AnnotationClientID: sa.clientID}
		}
		if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	rgID := sub + "/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/"
	fic := func(identity, name, iss, subject string) azurerbac.FederatedCredential {
		return azurerbac.FederatedCredential{ID: rgID + identity + "/federatedIdentityCredentials/" + name, Name: name, Issuer: iss, Subject: subject,
			Audiences: []string{azurerbac.TokenExchangeAudience}}
	}
	storage := sub + "/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stshop"
	fx := &azureFixture{Cluster: sub + "/resourceGroups/rg-prod/providers/" + fxPrefix + "/aks-prod",
		Roles: []fxRole{{ID: contributor, Name: "Contributor"}, {ID: acrPull, Name: "AcrPull"}, {ID: blobData, Name: "Storage Blob Data Contributor"}},
		Assignments: []fxAssignment{
			{ID: sub + "/providers/Microsoft.Authorization/roleAssignments/1a000001-0000-4000-8000-000000000001", Scope: sub, PrincipalID: ordersPID, PrincipalType: "ServicePrincipal", RoleID: sub + contributor},
			{ID: storage + "/providers/Microsoft.Authorization/roleAssignments/1a000002-0000-4000-8000-000000000002", Scope: storage, PrincipalID: ordersPID, PrincipalType: "ServicePrincipal", RoleID: sub + blobData},
			{ID: sub + "/resourceGroups/rg-shop/providers/Microsoft.Authorization/roleAssignments/1a000003-0000-4000-8000-000000000003", Scope: sub + "/resourceGroups/rg-shop", PrincipalID: batchPID, PrincipalType: "ServicePrincipal", RoleID: sub + contributor},
			{ID: sub + "/resourceGroups/rg-nodes/providers/Microsoft.Authorization/roleAssignments/1a000004-0000-4000-8000-000000000004", Scope: sub + "/resourceGroups/rg-nodes", PrincipalID: kubeletPID, PrincipalType: "ServicePrincipal", RoleID: sub + acrPull},
			{ID: sub + "/resourceGroups/rg-shop/providers/Microsoft.Authorization/roleAssignments/1a000005-0000-4000-8000-000000000005", Scope: sub + "/resourceGroups/rg-shop", PrincipalID: reportsPID, PrincipalType: "ServicePrincipal", RoleID: sub + contributor},
			{ID: sub + "/resourceGroups/rg-ingest/providers/Microsoft.Authorization/roleAssignments/1a000006-0000-4000-8000-000000000006", Scope: sub + "/resourceGroups/rg-ingest", PrincipalID: ingestSPID, PrincipalType: "ServicePrincipal", RoleID: sub + contributor},
		}}
	armSrv := newFxARM(t, fx, c.Config.Host)
	armSrv.issuer.ManagedIdentities = map[string]string{ordersPID: "id-orders", reportsPID: "id-reports", batchPID: "id-batch", kubeletPID: "aks-prod-agentpool"}
	// An app registration: Graph has its federated credential for
	// wi-shop/ingest, and its service principal holds Contributor on
	// rg-ingest.
	armSrv.issuer.Directory = &entratest.Directory{Applications: []entratest.Application{{ID: "0e0e0006-0000-4000-8000-000000000006", AppID: ingestAppID,
		DisplayName: "shop-ingest", ServicePrincipalID: ingestSPID, FederatedCredentials: []entratest.FederatedCredential{
			{ID: "0f0f0006-0000-4000-8000-000000000006", Name: "aks-ingest", Issuer: issuer, Subject: "system:serviceaccount:wi-shop:ingest", Audiences: []string{azurerbac.TokenExchangeAudience}}}}}}
	armSrv.mi = fxMSI{issuer: issuer, kubelet: kubeletPID, addons: map[string]string{"azureKeyvaultSecretsProvider": kvPID}, list: []fxMI{
		{id: sub + "/resourceGroups/rg-nodes/providers/Microsoft.ManagedIdentity/userAssignedIdentities/azurekeyvaultsecretsprovider-aks-prod",
			name: "azurekeyvaultsecretsprovider-aks-prod", clientID: "0c0c0007-0000-4000-8000-000000000007", principalID: kvPID},
		{id: rgID + "id-orders", name: "id-orders", clientID: ordersCID, principalID: ordersPID,
			creds: []azurerbac.FederatedCredential{fic("id-orders", "shop-orders", issuer, "system:serviceaccount:wi-shop:orders")}},
		{id: rgID + "id-reports", name: "id-reports", clientID: reportsCID, principalID: reportsPID,
			creds: []azurerbac.FederatedCredential{fic("id-reports", "shop-reports", otherIssuer, "system:serviceaccount:wi-shop:reports")}},
		{id: rgID + "id-batch", name: "id-batch", clientID: batchCID, principalID: batchPID,
			creds: []azurerbac.FederatedCredential{fic("id-batch", "shop-batch", issuer, "system:serviceaccount:wi-shop:batch")}},
		{id: rgID + "id-unrelated", name: "id-unrelated", clientID: "0c0c0004-0000-4000-8000-000000000004", principalID: unrelPID,
			creds: []azurerbac.FederatedCredential{fic("id-unrelated", "gh", "https://token.actions.githubusercontent.com", "repo:contoso/shop:ref:refs/heads/main")}},
		{id: sub + "/resourceGroups/rg-nodes/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-prod-agentpool", name: "aks-prod-agentpool",
			clientID: "0c0c0005-0000-4000-8000-000000000005", principalID: kubeletPID},
	}}
	withARM := func(r *RootOptions) { r.azureOptions = armSrv.options(t) }
	kc := "--kubeconfig=" + c.Kubeconfig
	live := []string{kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster}
	whatCan := func(wantCode int, sa string, args ...string) *access.WhatCanAnswer {
		t.Helper()
		out, errOut, code := runWith(t, withARM, append([]string{"what-can", sa, "-n", ns, "-o", "json"}, args...)...)
		var ans access.WhatCanAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != wantCode {
			t.Fatalf("what-can %s %v: code %d, want %d; %v\n%s", sa, args, code, wantCode, err, errOut)
		}
		return &ans
	}
	checkOrders := func(how string, ans *access.WhatCanAnswer) {
		t.Helper()
		if len(ans.WorkloadIdentities) != 1 {
			t.Fatalf("%s: orders: %+v", how, ans.WorkloadIdentities)
		}
		w := ans.WorkloadIdentities[0]
		if w.Status != azurerbac.WorkloadMatched || w.Annotation != azurerbac.AnnotationClientID || w.ClientID != ordersCID || w.Issuer != issuer ||
			w.Identity == nil || w.Identity.Name != "id-orders" || w.Identity.PrincipalID != ordersPID ||
			w.FederatedCredential == nil || w.FederatedCredential.Name != "shop-orders" || w.FederatedCredential.Subject != "system:serviceaccount:wi-shop:orders" ||
			len(w.RoleAssignments) != 2 {
			t.Fatalf("%s: orders: %+v", how, w)
		}
		byScope := map[string]string{}
		for _, a := range w.RoleAssignments {
			byScope[a.Scope] = a.RoleName
		}
		if byScope[sub] != "Contributor" || byScope[storage] != "Storage Blob Data Contributor" || ans.Incomplete {
			t.Errorf("%s: orders' role assignments %v, incomplete %v", how, byScope, ans.Incomplete)
		}
	}

	// Live.
	checkOrders("live", whatCan(ExitOK, "sa:"+ns+":orders", live...))
	out, _, code := runWith(t, withARM, append([]string{"what-can", "sa:" + ns + ":orders", "-n", ns}, live...)...)
	for _, want := range []string{"managed identity id-orders", "via annotation azure.workload.identity/client-id -> federated credential shop-orders",
		"Contributor", "subscription 6b6b6b6b-0000-4000-8000-00000000006b"} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("live table lacks %q (code %d):\n%s", want, code, out)
		}
	}
	// A user's steps out to Azure need the service accounts, which a live
	// what-can of a user does not read: not answered, and said so (never
	// an empty reach as if there were none); an account's lack the pods.
	if u := whatCan(ExitOK, "user:someone@contoso.com", live...); len(u.AzureReach) != 0 || !hasWarningText(u, "service accounts were not read; who-can act-as IDENTITY") {
		t.Errorf("what-can user live: reach %+v, warnings %v", u.AzureReach, u.Warnings)
	}
	if a := whatCan(ExitOK, "sa:"+ns+":orders", live...); !hasWarningText(a, "exec into pods is not counted") {
		t.Errorf("what-can sa live: warnings %v", a.Warnings)
	}
	ans := whatCan(ExitOK, "sa:"+ns+":reports", live...)
	if len(ans.WorkloadIdentities) != 1 {
		t.Fatalf("reports: %+v", ans.WorkloadIdentities)
	}
	if w := ans.WorkloadIdentities[0]; w.Status != azurerbac.WorkloadNoCredential || len(w.RoleAssignments) != 0 || w.FederatedCredential != nil ||
		len(w.Misses) != 1 || w.Misses[0].Credential != "shop-reports" || !strings.Contains(w.Misses[0].Why, "issuer "+otherIssuer+" is not the cluster's "+issuer) ||
		!hasWarningText(ans, "grants nothing") {
		t.Errorf("reports: %+v %v", w, ans.Warnings)
	}
	ans = whatCan(ExitOK, "sa:"+ns+":batch", live...)
	if len(ans.WorkloadIdentities) != 1 {
		t.Fatalf("batch: %+v", ans.WorkloadIdentities)
	}
	if w := ans.WorkloadIdentities[0]; w.Status != azurerbac.WorkloadMatched || w.Annotation != "" || w.Identity == nil || w.Identity.Name != "id-batch" ||
		len(w.RoleAssignments) != 1 || w.RoleAssignments[0].RoleName != "Contributor" || w.RoleAssignments[0].Scope != sub+"/resourceGroups/rg-shop" {
		t.Errorf("batch: %+v", w)
	}

	ans = whatCan(ExitOK, "sa:"+ns+":ingest", live...)
	if len(ans.WorkloadIdentities) != 1 {
		t.Fatalf("ingest: %+v", ans.WorkloadIdentities)
	}
	if w := ans.WorkloadIdentities[0]; w.Status != azurerbac.WorkloadMatched || w.Identity == nil || w.Identity.Kind != azurerbac.KindApplication ||
		w.Identity.Name != "shop-ingest" || w.Identity.PrincipalID != ingestSPID || w.FederatedCredential == nil || w.FederatedCredential.Name != "aks-ingest" ||
		len(w.RoleAssignments) != 1 || w.RoleAssignments[0].RoleName != "Contributor" || w.RoleAssignments[0].Scope != sub+"/resourceGroups/rg-ingest" {
		t.Errorf("ingest: %+v", w)
	}
	out, _, _ = runWith(t, withARM, append([]string{"what-can", "sa:" + ns + ":ingest", "-n", ns}, live...)...)
	if !strings.Contains(out, "app registration shop-ingest (client id "+ingestAppID) || !strings.Contains(out, "-> app registration shop-ingest") {
		t.Errorf("ingest's table:\n%s", out)
	}

	// The chain works as reported: the API server's token of each account,
	// exchanged at the Entra issuer as workload identity does, is the
	// identity's token where the tool says matched (annotated or not, a
	// managed identity or an app registration), and is refused where it
	// says no-matching-credential; the client id named does not choose the
	// identity, the credential's subject does.
	trustCluster(t, armSrv, issuer, jwks, armSrv.issuer.Directory.Applications)
	for _, x := range []struct{ sa, clientID, oid string }{{"orders", ordersCID, ordersPID}, {"batch", batchCID, batchPID}, {"ingest", ingestAppID, ingestSPID}} {
		if oid, err := exchange(t, cs, armSrv, ns, x.sa, x.clientID); err != nil || oid != x.oid {
			t.Errorf("%s's token exchanged for %s: oid %q, %v; want %s", x.sa, x.clientID, oid, err, x.oid)
		}
	}
	for _, x := range []struct{ sa, clientID string }{{"reports", reportsCID}, {"orders", batchCID}} {
		if oid, err := exchange(t, cs, armSrv, ns, x.sa, x.clientID); err == nil || !strings.Contains(err.Error(), "AADSTS70021") {
			t.Errorf("%s's token exchanged for %s: oid %q, %v; want Entra's refusal", x.sa, x.clientID, oid, err)
		}
	}

	// A token with the same claims that the cluster did not sign is
	// refused: the exchange checks the issuer's keys.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{Issuer: issuer, Subject: "system:serviceaccount:wi-shop:orders",
		Audience: jwt.ClaimStrings{azurerbac.TokenExchangeAudience}, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	if oid, err := exchangeAssertion(t, armSrv, ordersCID, forged); err == nil || !strings.Contains(err.Error(), "AADSTS700211") {
		t.Errorf("a forged token of orders exchanged: oid %q, %v; want Entra's refusal", oid, err)
	}

	// The snapshot keeps the identities read, and only those.
	js, errOut, code := runWith(t, withARM, append([]string{"snapshot", "-o", "json"}, live...)...)
	var snap rbac.Snapshot
	if err := json.Unmarshal([]byte(js), &snap); err != nil || code != ExitOK || snap.Azure == nil {
		t.Fatalf("snapshot --azure-rbac: code %d %v\n%s", code, err, errOut)
	}
	var names []string
	for _, m := range snap.Azure.Identities {
		names = append(names, m.Name)
	}
	slices.Sort(names)
	if want := []string{"aks-prod-agentpool", "azurekeyvaultsecretsprovider-aks-prod", "id-batch", "id-orders", "id-reports", "shop-ingest"}; !slices.Equal(names, want) || len(snap.Azure.IdentityGaps) > 0 {
		t.Errorf("snapshot's identities %v, want %v; gaps %v", names, want, snap.Azure.IdentityGaps)
	}
	if d := snap.Azure; d.Cluster == nil || d.Cluster.OIDCIssuerURL != issuer || d.Cluster.KubeletIdentity != kubeletPID || d.Cluster.AddonIdentities["azureKeyvaultSecretsProvider"] != kvPID ||
		!slices.ContainsFunc(d.Assignments, func(a azurerbac.Assignment) bool {
			return a.PrincipalID == kubeletPID && strings.HasSuffix(a.Scope, "/rg-nodes")
		}) ||
		slices.ContainsFunc(d.Assignments, func(a azurerbac.Assignment) bool { return a.PrincipalID == unrelPID }) {
		t.Errorf("snapshot's cluster %+v, assignments %+v", d.Cluster, d.Assignments)
	}
	file := filepath.Join(t.TempDir(), "snap.json")
	if err := os.WriteFile(file, []byte(js), 0o600); err != nil {
		t.Fatal(err)
	}
	checkOrders("offline", whatCan(ExitOK, "sa:"+ns+":orders", "-f", file))

	// ARM refuses the list of identities: incomplete, never "no identity".
	fx.Lock()
	armSrv.mi.forbid = []string{msiProvider}
	fx.Unlock()
	ans = whatCan(ExitOK, "sa:"+ns+":orders", live...)
	if len(ans.WorkloadIdentities) != 1 || ans.WorkloadIdentities[0].Status != azurerbac.WorkloadIdentityUnknown ||
		!strings.Contains(ans.WorkloadIdentities[0].Why, "forbidden") || !ans.Incomplete || !hasWarningText(ans, "are incomplete") {
		t.Errorf("identities forbidden: %+v %v", ans.WorkloadIdentities, ans.Warnings)
	}
	// ... or one identity's federated credentials: that identity's match is
	// unknown (its credentials unread), the answer incomplete.
	fx.Lock()
	armSrv.mi.forbid = []string{"/id-orders/federatedidentitycredentials"}
	fx.Unlock()
	ans = whatCan(ExitOK, "sa:"+ns+":orders", live...)
	if len(ans.WorkloadIdentities) != 1 || ans.WorkloadIdentities[0].Status == azurerbac.WorkloadMatched || !ans.Incomplete ||
		!hasWarningText(ans, "federated credentials of managed identity "+rgID+"id-orders: forbidden") {
		t.Errorf("credentials forbidden: %+v %v", ans.WorkloadIdentities, ans.Warnings)
	}
	// Another account's answer stands, incomplete too.
	ans = whatCan(ExitOK, "sa:"+ns+":batch", live...)
	if len(ans.WorkloadIdentities) != 1 || ans.WorkloadIdentities[0].Status != azurerbac.WorkloadMatched || !ans.Incomplete {
		t.Errorf("batch with orders' credentials forbidden: %+v", ans.WorkloadIdentities)
	}
	// Graph refuses the app registrations: ingest's identity is unknown,
	// with the permission it needs, never "no identity".
	fx.Lock()
	armSrv.mi.forbid = nil
	fx.Unlock()
	armSrv.issuer.Forbid("/v1.0/applications(")
	ans = whatCan(ExitOK, "sa:"+ns+":ingest", live...)
	if len(ans.WorkloadIdentities) != 1 || ans.WorkloadIdentities[0].Status != azurerbac.WorkloadIdentityUnknown || !ans.Incomplete ||
		!hasWarningText(ans, "Application.Read.All") {
		t.Errorf("applications forbidden: %+v %v", ans.WorkloadIdentities, ans.Warnings)
	}
}
