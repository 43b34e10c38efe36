package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

// identityAudit runs audit -o json of the azure-identity family and
// returns its findings by rule.
func identityAudit(t *testing.T, with func(*RootOptions), args ...string) map[string][]audit.Finding {
	t.Helper()
	out, errOut, code := runWith(t, with, append([]string{"audit", "-o", "json", "--only", "workload-identity-reach,kubelet-identity-reach,federated-credential-unclaimed"}, args...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != ExitOK {
		t.Fatalf("audit %v: code %d %v\n%s", args, code, err, errOut)
	}
	by := map[string][]audit.Finding{}
	for _, f := range rep.Findings {
		by[f.Rule] = append(by[f.Rule], f)
	}
	return by
}

// groupCreatesPods is the finding of the group's path through creating
// pods, or nil.
func groupCreatesPods(fs []audit.Finding, group string) *audit.Finding {
	for i := range fs {
		if fs[i].Subjects[0].Name == group && strings.Contains(fs[i].Message, "can create pods") {
			return &fs[i]
		}
	}
	return nil
}

// TestIdentityFixesOffline: the Done-when offline
// (testdata/aks-identity): the audit reports the group's path to id-orders
// as critical and the kubelet identity's reach, each with a fix; fix -o
// json carries the checked deletes of the writing assignments (the
// finding gone, nobody gaining, the identities' losses listed), -o kubectl
// prints them as az commands, the unclaimed credential's fix as az
// identity federated-credential delete; and with those assignments gone
// from the input the group's critical path and the kubelet identity's
// reach are no longer reported (what id-orders keeps is a medium finding).
func TestIdentityFixesOffline(t *testing.T) {
	const (
		dir   = "../testdata/aks-identity"
		group = "c7c7c7c7-0000-4000-8000-000000000007"
	)
	by := identityAudit(t, nil, "-f", dir)
	reach := groupCreatesPods(by["workload-identity-reach"], group)
	if reach == nil || reach.Severity != audit.Critical || !reach.Fixable || len(by["kubelet-identity-reach"]) != 1 || !by["kubelet-identity-reach"][0].Fixable ||
		len(by["federated-credential-unclaimed"]) != 1 || !by["federated-credential-unclaimed"][0].Fixable {
		t.Fatalf("findings: %+v", by)
	}
	out, _, _ := run(t, "audit", "-f", dir, "--only", "workload-identity-reach,kubelet-identity-reach")
	for _, id := range []string{reach.ID, by["kubelet-identity-reach"][0].ID} {
		if line := lineWith(out, id); !strings.HasSuffix(line, "[fix]") {
			t.Errorf("the table does not mark %s fixable: %q", id, line)
		}
	}

	fixOf := func(id string, loses bool) *fix.Fix {
		t.Helper()
		js, errOut, code := run(t, "fix", id, "-f", dir, "-o", "json")
		var fx fix.Fix
		if err := json.Unmarshal([]byte(js), &fx); err != nil || code != ExitOK {
			t.Fatalf("fix %s: code %d %v\n%s", id, code, err, errOut)
		}
		if v := fx.Verification; !v.FindingGone || len(v.Gained) != 0 || (len(v.Lost) > 0) != loses {
			t.Errorf("fix %s: verification %+v", id, v)
		}
		return &fx
	}
	var gone []string
	for _, id := range []string{reach.ID, by["kubelet-identity-reach"][0].ID} {
		fx := fixOf(id, true)
		for _, op := range fx.Operations {
			if !op.IsAzure() || op.Action != fix.Delete || len(op.Guard) != 3 {
				t.Errorf("fix %s: %+v", id, op)
			}
			gone = append(gone, op.Target.Name)
		}
		cmds, _, _ := run(t, "fix", id, "-f", dir, "-o", "kubectl")
		for _, op := range fx.Operations {
			if !strings.Contains(cmds, "az role assignment delete --ids '"+op.Target.Name+"'") {
				t.Errorf("fix %s -o kubectl:\n%s", id, cmds)
			}
		}
	}
	if len(gone) != 3 || !strings.HasSuffix(gone[2], "/MC_rg-aks_aks-prod_westeurope/providers/Microsoft.Authorization/roleAssignments/20000000-0000-4000-8000-000000000005") {
		t.Errorf("the fixes delete %v", gone)
	}
	// Nobody loses anything: no account uses the credential.
	un := fixOf(by["federated-credential-unclaimed"][0].ID, false)
	if len(un.Operations) != 1 || !un.Operations[0].IsCredential() {
		t.Errorf("unclaimed: %+v", un.Operations)
	}
	out, _, _ = run(t, "fix", by["federated-credential-unclaimed"][0].ID, "-f", dir)
	if !strings.Contains(out, "az identity federated-credential delete --subscription '22222222-2222-4222-8222-222222222222' --resource-group 'rg-shop' --identity-name 'id-batch' --name 'shop-ghost' --yes") ||
		!strings.Contains(out, "fix --apply deletes it through ARM") {
		t.Errorf("unclaimed's fix:\n%s", out)
	}

	// The input with the fixes' assignments deleted, as az would leave it.
	tmp := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "assignments.json" {
			var as []map[string]any
			if err := json.Unmarshal(b, &as); err != nil {
				t.Fatal(err)
			}
			as = slices.DeleteFunc(as, func(a map[string]any) bool { return slices.Contains(gone, a["id"].(string)) })
			if b, err = json.Marshal(as); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(tmp, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	after := identityAudit(t, nil, "-f", tmp)
	if len(after["kubelet-identity-reach"]) != 0 {
		t.Errorf("the kubelet identity's reach after its fix: %+v", after["kubelet-identity-reach"])
	}
	if f := groupCreatesPods(after["workload-identity-reach"], group); f == nil || f.ID == reach.ID || f.Severity != audit.Medium || !strings.Contains(f.Message, "Storage Blob Data Contributor") {
		t.Errorf("the group's path after its fix: %+v", f)
	}
}

// lineWith is the line of out holding s, trimmed.
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// TestIdentityFixesLive: the same live, against the real API server and
// the loopback ARM: a group bound to edit in wi-fix reaches id-fix
// (Contributor on the subscription) through wi-fix/orders, the kubelet
// identity holds Contributor on the node resource group besides AcrPull,
// and id-fix has a credential for wi-fix/ghost, which does not exist.
// Each finding has a fix; fix --apply --yes deletes the kubelet
// identity's Contributor through ARM (AcrPull kept) and saves a restore
// script that creates it again; the group's path is fixed the same way,
// after which the audit no longer reports it; the credential's fix deletes
// it through ARM, with a restore script that creates it again as it was.
func TestIdentityFixesLive(t *testing.T) {
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	const (
		ns          = "wi-fix"
		group       = "c8c8c8c8-0000-4000-8000-000000000008"
		sub         = "/subscriptions/7c7c7c7c-0000-4000-8000-00000000007c"
		clientID    = "0c0c0011-0000-4000-8000-000000000011"
		principal   = "0d0d0011-0000-4000-8000-000000000011"
		kubeletPID  = "0d0d0012-0000-4000-8000-000000000012"
		contributor = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
		acrPull     = "/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
	)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "orders", Namespace: ns,
		Annotations: map[string]string{azurerbac.AnnotationClientID: clientID}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "team-edit", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "Group", Name: group}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	issuer, _ := clusterIssuer(t, cs)
	ordersWrite := sub + "/providers/Microsoft.Authorization/roleAssignments/1b000001-0000-4000-8000-000000000001"
	nodeRG := sub + "/resourceGroups/MC_rg_aks-fix_westeurope"
	kubeletWrite := nodeRG + "/providers/Microsoft.Authorization/roleAssignments/1b000002-0000-4000-8000-000000000002"
	kubeletPull := nodeRG + "/providers/Microsoft.Authorization/roleAssignments/1b000003-0000-4000-8000-000000000003"
	fx := &azureFixture{Cluster: sub + "/resourceGroups/rg/providers/" + fxPrefix + "/aks-fix",
		Roles: []fxRole{{ID: contributor, Name: "Contributor"}, {ID: acrPull, Name: "AcrPull"}},
		Assignments: []fxAssignment{
			{ID: ordersWrite, Scope: sub, PrincipalID: principal, PrincipalType: "ServicePrincipal", RoleID: sub + contributor},
			{ID: kubeletWrite, Scope: nodeRG, PrincipalID: kubeletPID, PrincipalType: "ServicePrincipal", RoleID: sub + contributor},
			{ID: kubeletPull, Scope: nodeRG, PrincipalID: kubeletPID, PrincipalType: "ServicePrincipal", RoleID: sub + acrPull},
		}}
	armSrv := newFxARM(t, fx, c.Config.Host)
	idID := sub + "/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-fix"
	cred := func(name, subject string) azurerbac.FederatedCredential {
		return azurerbac.FederatedCredential{ID: idID + "/federatedIdentityCredentials/" + name, Name: name, Issuer: issuer, Subject: subject,
			Audiences: []string{azurerbac.TokenExchangeAudience}}
	}
	// wi-fix denies its pods every egress but DNS: under cilium, its new
	// pods do not reach the metadata service; other namespaces' do.
	udp := corev1.ProtocolUDP
	if _, err := cs.NetworkingV1().NetworkPolicies(ns).Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "default-deny-egress", Namespace: ns},
		Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp}}}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	armSrv.mi = fxMSI{issuer: issuer, kubelet: kubeletPID, networkPolicy: "cilium", list: []fxMI{{id: idID, name: "id-fix", clientID: clientID, principalID: principal,
		creds: []azurerbac.FederatedCredential{cred("orders", "system:serviceaccount:"+ns+":orders"), cred("ghost", "system:serviceaccount:"+ns+":ghost")}},
		{id: nodeRG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks-fix-agentpool", name: "aks-fix-agentpool", clientID: "0c0c0012-0000-4000-8000-000000000012", principalID: kubeletPID}}}
	withARM := func(r *RootOptions) { r.azureOptions = armSrv.options(t) }
	live := []string{"--kubeconfig=" + c.Kubeconfig, "--azure-rbac", "--azure-cluster-id", fx.Cluster}

	by := identityAudit(t, withARM, live...)
	reach := groupCreatesPods(by["workload-identity-reach"], group)
	var unclaimed *audit.Finding
	for i, f := range by["federated-credential-unclaimed"] {
		if strings.Contains(f.Message, "sa:"+ns+":ghost") {
			unclaimed = &by["federated-credential-unclaimed"][i]
		}
	}
	if reach == nil || reach.Severity != audit.Critical || !reach.Fixable || len(by["kubelet-identity-reach"]) != 1 || !by["kubelet-identity-reach"][0].Fixable ||
		unclaimed == nil || !unclaimed.Fixable {
		t.Fatalf("live findings: %+v", by)
	}
	// The NetworkPolicies listed live decide which namespaces still reach
	// the metadata service.
	if m := by["kubelet-identity-reach"][0].Message; !strings.Contains(m, "enforced: networkProfile.networkPolicy cilium), new pods of namespace(s) ") ||
		!strings.Contains(m, "; those of "+ns+" do not") {
		t.Errorf("the kubelet identity's reach: %s", m)
	}

	has := func(id string) bool {
		fx.RLock()
		defer fx.RUnlock()
		return slices.ContainsFunc(fx.Assignments, func(x fxAssignment) bool { return strings.EqualFold(x.ID, id) })
	}
	restoreDir := t.TempDir()
	kl := by["kubelet-identity-reach"][0].ID
	out, errOut, code := runWith(t, withARM, append([]string{"fix", kl, "--apply", "--yes", "--restore-dir", restoreDir}, live...)...)
	if code != ExitOK || armSrv.writes.Load() != 1 || has(kubeletWrite) || !has(kubeletPull) {
		t.Fatalf("fix %s --apply: code %d, %d writes\n%s\n%s", kl, code, armSrv.writes.Load(), out, errOut)
	}
	scripts, _ := filepath.Glob(filepath.Join(restoreDir, "restore-"+kl+"-*.sh"))
	if len(scripts) != 1 {
		t.Fatalf("restore scripts %v\n%s", scripts, errOut)
	}
	if script, _ := os.ReadFile(scripts[0]); !strings.Contains(string(script), "az role assignment create --assignee-object-id '"+kubeletPID+"'") || !strings.Contains(string(script), nodeRG) {
		t.Errorf("the restore script:\n%s", script)
	}

	out, errOut, code = runWith(t, withARM, append([]string{"fix", reach.ID, "--apply", "--yes", "--restore-dir", restoreDir}, live...)...)
	if code != ExitOK || armSrv.writes.Load() != 2 || has(ordersWrite) {
		t.Fatalf("fix %s --apply: code %d, %d writes\n%s\n%s", reach.ID, code, armSrv.writes.Load(), out, errOut)
	}
	after := identityAudit(t, withARM, live...)
	if f := groupCreatesPods(after["workload-identity-reach"], group); f != nil || len(after["kubelet-identity-reach"]) != 0 {
		t.Errorf("after the fixes: %+v", after)
	}

	// The credential: deleted through ARM (read, guard checked), with a
	// restore script that creates it again as it was.
	ghost := idID + "/federatedIdentityCredentials/ghost"
	hasCred := func() bool {
		fx.RLock()
		defer fx.RUnlock()
		return slices.ContainsFunc(armSrv.mi.list[0].creds, func(c azurerbac.FederatedCredential) bool { return c.ID == ghost })
	}
	credWrites := func() int {
		fx.RLock()
		defer fx.RUnlock()
		return armSrv.mi.credWrites
	}
	out, errOut, code = runWith(t, withARM, append([]string{"fix", unclaimed.ID, "--apply", "--yes", "--restore-dir", restoreDir}, live...)...)
	if code != ExitOK || armSrv.writes.Load() != 2 || credWrites() != 1 || hasCred() ||
		!strings.Contains(out, "az identity federated-credential delete --subscription '7c7c7c7c-0000-4000-8000-00000000007c' --resource-group 'rg' --identity-name 'id-fix' --name 'ghost' --yes") {
		t.Fatalf("the credential's fix --apply: code %d, %d writes, %d credential writes\n%s\n%s", code, armSrv.writes.Load(), credWrites(), out, errOut)
	}
	scripts, _ = filepath.Glob(filepath.Join(restoreDir, "restore-"+unclaimed.ID+"-*.sh"))
	if len(scripts) != 1 {
		t.Fatalf("restore scripts %v\n%s", scripts, errOut)
	}
	if script, _ := os.ReadFile(scripts[0]); !strings.Contains(string(script), "az identity federated-credential create --subscription '7c7c7c7c-0000-4000-8000-00000000007c' --resource-group 'rg' --identity-name 'id-fix' --name 'ghost' --issuer '"+issuer+"' --subject 'system:serviceaccount:wi-fix:ghost' --audiences 'api://AzureADTokenExchange'") {
		t.Errorf("the credential's restore script:\n%s", script)
	}
	if after := identityAudit(t, withARM, live...); len(after["federated-credential-unclaimed"]) != 0 {
		t.Errorf("after the credential's fix: %+v", after["federated-credential-unclaimed"])
	}
	// Applied again: the credential no longer exists, nothing is written.
	if _, _, code := runWith(t, withARM, append([]string{"fix", unclaimed.ID, "--apply", "--yes"}, live...)...); code == ExitOK || credWrites() != 1 {
		t.Errorf("a fixed credential applied again: code %d, %d writes", code, credWrites())
	}
}
