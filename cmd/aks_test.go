package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestAKSDoors: offline, with the RBAC AKS installs, az aks show's JSON
// (local accounts on, no authorized IP ranges) and role assignments of a
// Contributor on the resource group, the AKS Cluster Admin Role on the
// cluster, the AKS Cluster User Role on the cluster (an Entra cluster), a
// Reader and a User Access Administrator on the subscription: who-can lists
// the first two through azure-credential and the User Access Administrator
// as azure-reconfigure only, never the User Role holder or the Reader; with
// local accounts off the Admin Role holder is gone and the Contributor is
// azure-reconfigure only. Every format carries them; the audit reports the
// admin group's cluster-admin and the local accounts with who can fetch the
// credential, and its passing checks.
func TestAKSDoors(t *testing.T) {
	files := []string{"-f", "../testdata/aks/rbac.yaml", "-f", "../testdata/aks/cluster.json", "-f", "../testdata/aks/assignments.json"}
	doors := func(args ...string) map[string]string {
		t.Helper()
		out, errOut, code := run(t, append([]string{"who-can", "delete", "namespaces", "-o", "json"}, args...)...)
		var ans access.WhoCanAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != ExitOK {
			t.Fatalf("who-can: code %d %v\n%s", code, err, errOut)
		}
		got := map[string]string{}
		for _, d := range ans.AzureDoors {
			if _, ok := got[d.Subject.Name]; ok {
				t.Errorf("%s listed twice", d.Subject.Name)
			}
			got[d.Subject.Name] = d.Kind
		}
		return got
	}
	want := map[string]string{"contributor@contoso.com": "azure-credential", "admin-role@contoso.com": "azure-credential", "uaa@contoso.com": "azure-reconfigure"}
	if got := doors(files...); !equalMaps(got, want) {
		t.Errorf("local accounts on: %v, want %v", got, want)
	}
	raw, err := os.ReadFile("../testdata/aks/cluster.json")
	if err != nil {
		t.Fatal(err)
	}
	off := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(off, []byte(strings.Replace(string(raw), `"disableLocalAccounts": false`, `"disableLocalAccounts": true`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	offFiles := []string{"-f", "../testdata/aks/rbac.yaml", "-f", off, "-f", "../testdata/aks/assignments.json"}
	want = map[string]string{"contributor@contoso.com": "azure-reconfigure", "uaa@contoso.com": "azure-reconfigure"}
	if got := doors(offFiles...); !equalMaps(got, want) {
		t.Errorf("local accounts off: %v, want %v", got, want)
	}

	// The table and CSV say it; can and what-can give the subject's doors
	// beside the authorizer's answer (which stays no: the user's own
	// identity is allowed nothing).
	out, _, _ := run(t, append([]string{"who-can", "delete", "namespaces"}, files...)...)
	if !strings.Contains(out, "Through Azure's control plane") || !strings.Contains(out, "user:contributor@contoso.com  azure-credential") {
		t.Errorf("who-can's table:\n%s", out)
	}
	out, _, _ = run(t, append([]string{"who-can", "delete", "namespaces", "-o", "csv"}, files...)...)
	if !strings.Contains(out, "azure-credential: Azure role assignment 10000000-0000-4000-8000-000000000002 at cluster aks-prod") ||
		strings.Contains(out, "reader@contoso.com") || strings.Contains(out, "user-role@contoso.com") {
		t.Errorf("who-can -o csv:\n%s", out)
	}
	out, _, code := run(t, append([]string{"can", "user:contributor@contoso.com", "delete", "namespaces"}, files...)...)
	if code != ExitDenied || !strings.Contains(out, "azure-credential: fetches the admin credential") {
		t.Errorf("can: code %d\n%s", code, out)
	}
	out, _, _ = run(t, append([]string{"can", "user:reader@contoso.com", "delete", "namespaces"}, files...)...)
	if strings.Contains(out, "Azure's control plane") {
		t.Errorf("can the reader:\n%s", out)
	}
	js, _, _ := run(t, append([]string{"what-can", "user:uaa@contoso.com", "-o", "json"}, files...)...)
	var wc access.WhatCanAnswer
	if err := json.Unmarshal([]byte(js), &wc); err != nil || len(wc.AzureDoors) != 1 || wc.AzureDoors[0].Kind != "azure-reconfigure" {
		t.Errorf("what-can the User Access Administrator: %v %+v", err, wc.AzureDoors)
	}

	// The audit: the admin group's cluster-admin (critical, in the default
	// table though AKS reconciles it), the local accounts with who can
	// fetch the credential, and the checks in JSON.
	out, _, _ = run(t, append([]string{"audit"}, files...)...)
	for _, w := range []string{"group:a1a1a1a1-0000-4000-8000-000000000001 can do everything cluster-wide",
		"local accounts are on: 2 Azure principal(s) can fetch the admin credential", "user:contributor@contoso.com through \"Contributor\" at resource group rg-aks"} {
		if !strings.Contains(out, w) {
			t.Errorf("the audit lacks %q:\n%s", w, out)
		}
	}
	if i, j := strings.Index(out, "CRITICAL"), strings.Index(out, "aks-local-accounts"); i < 0 || j < i || strings.Index(out, "HIGH") < j {
		t.Errorf("local accounts are not critical:\n%s", out)
	}
	js, _, _ = run(t, append([]string{"audit", "-o", "json"}, files...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	status := map[string]audit.CheckStatus{}
	for _, c := range rep.Checks {
		status[c.Rule] = c.Status
	}
	for rule, w := range map[string]audit.CheckStatus{"aks-local-accounts": audit.CheckFailed, "aks-rbac-disabled": audit.CheckPassed,
		"aks-api-public": audit.CheckFailed, "aks-service-principal": audit.CheckPassed, "aks-pod-identity": audit.CheckPassed} {
		if status[rule] != w {
			t.Errorf("check %s: %q, want %q", rule, status[rule], w)
		}
	}
	// The table counts the checks, and --all lists each.
	out, _, _ = run(t, append([]string{"audit"}, files...)...)
	if !strings.Contains(out, "Checks: 3 passed, 7 failed, 2 unknown (--all lists them).") {
		t.Errorf("the table does not count the checks:\n%s", out)
	}
	out, _, _ = run(t, append([]string{"audit", "--all"}, files...)...)
	if !strings.Contains(out, "CHECKS\n") || !strings.Contains(out, "  aks-rbac-disabled: passed: Kubernetes RBAC is on") {
		t.Errorf("audit --all does not list the checks:\n%s", out)
	}
	js, _, _ = run(t, append([]string{"audit", "-o", "json"}, offFiles...)...)
	rep = audit.Report{}
	_ = json.Unmarshal([]byte(js), &rep)
	for _, c := range rep.Checks {
		if c.Rule == "aks-local-accounts" && c.Status != audit.CheckPassed {
			t.Errorf("local accounts off: check %+v", c)
		}
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestMembershipsUnknown: an Entra user asked about without --group is
// answered for the identity as given, and the answer says which groups
// are allowed, whose membership is not known: never a silent "no".
func TestMembershipsUnknown(t *testing.T) {
	demo := []string{"-f", "../testdata/demo/cluster.yaml", "--group-names", "../testdata/demo/group-names.json"}
	out, errOut, code := run(t, append([]string{"can", "user:alice@contoso.com", "get", "secrets", "-n", "payments"}, demo...)...)
	if code != ExitDenied || !strings.Contains(out, "but these groups may, and whether user:alice@contoso.com is in them is not known") ||
		!strings.Contains(out, "(Payments Developers)") || !strings.Contains(errOut, "the Entra groups of user:alice@contoso.com are not known") {
		t.Errorf("can without --group: code %d\n%s\n%s", code, out, errOut)
	}
	js, _, _ := run(t, append([]string{"can", "user:alice@contoso.com", "get", "secrets", "-n", "payments", "-o", "json"}, demo...)...)
	var ans access.CanAnswer
	if err := json.Unmarshal([]byte(js), &ans); err != nil || !ans.MembershipsUnknown || len(ans.GroupsAllowed) == 0 {
		t.Errorf("can -o json: %v %+v", err, ans)
	}
	// With a group given, or for a service account, nothing is unknown.
	for _, args := range [][]string{{"can", "user:alice@contoso.com", "--group", "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02", "get", "secrets", "-n", "payments"},
		{"can", "sa:ci:deployer", "get", "secrets", "-n", "payments"}, {"can", "user:system:kube-scheduler", "get", "secrets", "-n", "payments"}} {
		out, errOut, _ := run(t, append(args, demo...)...)
		if strings.Contains(out+errOut, "not known") {
			t.Errorf("%q: memberships said unknown:\n%s\n%s", args, out, errOut)
		}
	}
	js, _, _ = run(t, append([]string{"what-can", "user:bob@contoso.com", "-o", "json"}, demo...)...)
	var wc access.WhatCanAnswer
	if err := json.Unmarshal([]byte(js), &wc); err != nil || !wc.MembershipsUnknown {
		t.Errorf("what-can without --group: %v %+v", err, wc.MembershipsUnknown)
	}
}

// TestAKSFixes: the aks findings that one setting fixes get that fix,
// checked like every fix (the finding gone, nobody gaining, the doors it
// shuts said) and printed as az aks update; --apply refuses it (ARM
// writes a managed cluster whole, which this tool does not) and says so;
// without Entra integration local accounts are not turned off (nobody
// could sign in).
func TestAKSFixes(t *testing.T) {
	files := []string{"-f", "../testdata/aks/rbac.yaml", "-f", "../testdata/aks/cluster.json", "-f", "../testdata/aks/assignments.json"}
	js, _, _ := run(t, append([]string{"audit", "-o", "json"}, files...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, f := range rep.Findings {
		if f.Category == audit.CategoryAKS {
			ids[f.Rule] = f.ID
			if want := f.Rule == "aks-local-accounts" || f.Rule == "aks-command-invoke" || f.Rule == "aks-node-resource-group"; f.Fixable != want {
				t.Errorf("%s fixable %v, want %v", f.Rule, f.Fixable, want)
			}
		}
	}
	out, errOut, code := run(t, append([]string{"fix", ids["aks-local-accounts"]}, files...)...)
	if code != ExitOK || !strings.Contains(out, "the finding is gone; nobody gains access") ||
		!strings.Contains(out, "loses a way in through Azure: azure-credential: user:contributor@contoso.com") ||
		!strings.Contains(out, "az aks update --ids '/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-prod' --disable-local-accounts") {
		t.Errorf("fix aks-local-accounts: code %d\n%s\n%s", code, out, errOut)
	}
	out, _, _ = run(t, append([]string{"fix", ids["aks-command-invoke"], "-o", "kubectl"}, files...)...)
	if !strings.HasSuffix(strings.TrimSpace(out), "--disable-run-command") {
		t.Errorf("fix aks-command-invoke -o kubectl:\n%s", out)
	}

	// Without Entra integration.
	raw, err := os.ReadFile("../testdata/aks/cluster.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "aadProfile")
	b, _ := json.Marshal(m)
	noEntra := filepath.Join(t.TempDir(), "cluster.json")
	if err := os.WriteFile(noEntra, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, "fix", ids["aks-local-accounts"], "-f", "../testdata/aks/rbac.yaml", "-f", noEntra, "-f", "../testdata/aks/assignments.json")
	if code != ExitError || !strings.Contains(errOut, "only with Entra integration") {
		t.Errorf("fix without Entra: code %d\n%s", code, errOut)
	}
}

// TestAKSDoorsWithoutGuard: against a real API server whose chain has no
// Azure RBAC (the probe finds it inactive, as on an Entra cluster with
// Kubernetes RBAC alone), --azure-rbac-from still reads the assignments and
// the managed cluster's settings for the ways in through Azure: the doors
// are listed, the answer stays complete, and no assignment grants anything
// in the authorizer's answer.
func TestAKSDoorsWithoutGuard(t *testing.T) {
	c := clustertest.Get(t)
	kc := "--kubeconfig=" + c.Kubeconfig
	from := "--azure-rbac-from=../testdata/aks/cluster.json,../testdata/aks/assignments.json"
	js, errOut, code := run(t, "who-can", "delete", "namespaces", kc, from, "-o", "json")
	var ans access.WhoCanAnswer
	if err := json.Unmarshal([]byte(js), &ans); err != nil || code != ExitOK {
		t.Fatalf("who-can: code %d %v\n%s", code, err, errOut)
	}
	kinds := map[string]string{}
	for _, d := range ans.AzureDoors {
		kinds[d.Subject.Name] = d.Kind
	}
	if kinds["contributor@contoso.com"] != "azure-credential" || kinds["uaa@contoso.com"] != "azure-reconfigure" || ans.Incomplete {
		t.Errorf("doors %v, incomplete %v", kinds, ans.Incomplete)
	}
	if !slices.ContainsFunc(ans.Warnings, func(w rbac.Warning) bool { return strings.Contains(w.Message, "does not decide on this cluster") }) {
		t.Errorf("no word that the assignments serve the doors only: %+v", ans.Warnings)
	}
	for _, s := range ans.Subjects {
		if strings.HasSuffix(s.Name, "@contoso.com") {
			t.Errorf("an assignment grants in the authorizer's answer where guard does not decide: %+v", s)
		}
	}
}

// TestAKSServicePrincipalSecrets: offline, a cluster whose identity is a
// service principal and the JSON of az ad app credential list (no app
// named: taken as the cluster's, said) or az ad app show: the aks finding
// says when each secret expires, the newest within 30 days raising it to
// medium, all expired to high; never a secret's value or hint, in any
// format; without the file it says the expiry was not read and what
// would read it.
func TestAKSServicePrincipalSecrets(t *testing.T) {
	const appID = "5f5f0001-0000-4000-8000-000000000001"
	raw, err := os.ReadFile("../testdata/aks/cluster.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "identity")
	m["servicePrincipalProfile"] = map[string]any{"clientId": appID}
	dir := t.TempDir()
	cluster := filepath.Join(dir, "cluster.json")
	b, _ := json.Marshal(m)
	if err := os.WriteFile(cluster, b, 0o600); err != nil {
		t.Fatal(err)
	}
	day := func(d int) string {
		return time.Now().Add(time.Duration(d) * 24 * time.Hour).UTC().Format(time.RFC3339)
	}
	list := filepath.Join(dir, "credentials.json")
	if err := os.WriteFile(list, fmt.Appendf(nil, `[
  {"customKeyIdentifier": null, "displayName": "old", "endDateTime": %q, "hint": "Hn1", "keyId": "1b1b0001-0000-4000-8000-000000000001", "secretText": "value-never-printed", "startDateTime": "2024-01-01T00:00:00Z"},
  {"customKeyIdentifier": null, "displayName": "rbac", "endDateTime": %q, "hint": "Hn2", "keyId": "1b1b0002-0000-4000-8000-000000000002", "secretText": null, "startDateTime": "2025-01-01T00:00:00Z"}
]`, day(-10), day(12)), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"-f", "../testdata/aks/rbac.yaml", "-f", cluster, "-f", "../testdata/aks/assignments.json"}
	finding := func(args ...string) (audit.Finding, string) {
		t.Helper()
		js, errOut, code := run(t, append(append([]string{"audit", "--only", "aks-service-principal", "-o", "json"}, base...), args...)...)
		var rep audit.Report
		if err := json.Unmarshal([]byte(js), &rep); err != nil || code != ExitOK || len(rep.Findings) != 1 {
			t.Fatalf("audit: code %d %v\n%s\n%s", code, err, js, errOut)
		}
		var warns []string
		for _, w := range rep.Warnings {
			warns = append(warns, w.Message)
		}
		return rep.Findings[0], strings.Join(warns, "\n") + errOut
	}
	f, errOut := finding("-f", list)
	if f.Severity != audit.Medium || !strings.Contains(f.Message, "its newest secret expires within 30 days") ||
		!strings.Contains(f.Message, `secret "old" (1b1b0001-0000-4000-8000-000000000001) expired on `+day(-10)[:10]) ||
		!strings.Contains(f.Message, `secret "rbac" (1b1b0002-0000-4000-8000-000000000002) expires within 30 days, on `+day(12)[:10]) {
		t.Errorf("with the credentials: %s %s", f.Severity, f.Message)
	}
	if !strings.Contains(errOut, "names no app: its secrets are taken as those of the cluster's service principal "+appID) {
		t.Errorf("no word that the file names no app:\n%s", errOut)
	}
	for _, format := range []string{"table", "json", "sarif", "csv", "markdown"} {
		out, _, _ := run(t, append(append([]string{"audit", "-o", format}, base...), "-f", list)...)
		if strings.Contains(out, "value-never-printed") || strings.Contains(out, "Hn1") || strings.Contains(out, "Hn2") {
			t.Errorf("audit -o %s prints a secret or its hint:\n%s", format, out)
		}
	}
	snap, _, _ := run(t, append(append([]string{"snapshot", "-o", "json"}, base...), "-f", list)...)
	if strings.Contains(snap, "value-never-printed") || strings.Contains(snap, "Hn1") || !strings.Contains(snap, `"servicePrincipalSecrets"`) {
		t.Errorf("the snapshot keeps a secret, or not the expiry:\n%s", snap)
	}

	// az ad app show, naming the app: every secret expired.
	show := filepath.Join(dir, "app.json")
	if err := os.WriteFile(show, fmt.Appendf(nil, `{"appId": %q, "displayName": "aks-sp", "id": "6f6f0001-0000-4000-8000-000000000001",
  "passwordCredentials": [{"displayName": "old", "endDateTime": %q, "hint": "Hn1", "keyId": "1b1b0001-0000-4000-8000-000000000001", "secretText": null}]}`, appID, day(-3)), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, _ := finding("-f", show); f.Severity != audit.High || !strings.Contains(f.Message, "every secret has expired") {
		t.Errorf("az ad app show, expired: %s %s", f.Severity, f.Message)
	}
	// Without them: not read, and what would read them.
	if f, _ := finding(); f.Severity != audit.Low || !strings.Contains(f.Message, "expiry was not read") || !strings.Contains(f.Message, "Application.Read.All") ||
		!strings.Contains(f.Message, "az ad app credential list --id "+appID) {
		t.Errorf("without the credentials: %s %s", f.Severity, f.Message)
	}
}

// TestArcAdminKubeconfig: offline, an AKS Arc cluster (its connected
// cluster of kind ProvisionedCluster as az connectedk8s show gives it, or
// its provisioned cluster instance as az aksarc show does) opens to whoever
// holds Microsoft.HybridContainerService/provisionedClusterInstances/
// listAdminKubeconfig/action there, inherited: the Contributor on its
// resource group and a custom role on the connected cluster, as a client
// certificate in system:masters; not the Reader. A connected cluster that
// AKS Arc did not provision has no such door, and the connected cluster's
// listClusterUserCredential is none either (the caller's own identity).
func TestArcAdminKubeconfig(t *testing.T) {
	const (
		sub = "/subscriptions/22222222-2222-4222-8222-222222222222"
		arc = sub + "/resourceGroups/rg-aks/providers/Microsoft.Kubernetes/connectedClusters/arc-prod"
	)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	connected := write("connected.json", fmt.Sprintf(`{"id": %q, "name": "arc-prod", "type": "Microsoft.Kubernetes/connectedClusters", "location": "westeurope",
  "kind": "ProvisionedCluster", "identity": {"type": "SystemAssigned"},
  "properties": {"agentVersion": "1.21.10", "distribution": "AKS", "infrastructure": "azure_stack_hci", "provisioningState": "Succeeded",
    "aadProfile": {"adminGroupObjectIDs": ["a1a1a1a1-0000-4000-8000-000000000001"], "enableAzureRBAC": false}}}`, arc))
	instance := write("instance.json", fmt.Sprintf(`{"id": %q, "name": "default", "type": "Microsoft.HybridContainerService/provisionedClusterInstances",
  "extendedLocation": {"type": "CustomLocation", "name": "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-hci/providers/Microsoft.ExtendedLocation/customLocations/hci"},
  "properties": {"provisioningState": "Succeeded", "kubernetesVersion": "1.30.4", "controlPlane": {"count": 1}}}`, arc+"/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default"))
	plain := write("plain.json", fmt.Sprintf(`{"id": %q, "name": "arc-prod", "type": "Microsoft.Kubernetes/connectedClusters", "location": "westeurope",
  "properties": {"distribution": "k3s", "provisioningState": "Succeeded"}}`, arc))
	roles := write("roles.json", `[{"id": "/subscriptions/22222222-2222-4222-8222-222222222222/providers/Microsoft.Authorization/roleDefinitions/7a7a7a7a-0000-4000-8000-00000000007a",
  "name": "7a7a7a7a-0000-4000-8000-00000000007a", "type": "Microsoft.Authorization/roleDefinitions", "roleName": "Hybrid kubeconfig reader", "roleType": "CustomRole",
  "permissions": [{"actions": ["Microsoft.HybridContainerService/provisionedClusterInstances/listAdminKubeconfig/action", "Microsoft.Kubernetes/connectedClusters/read"], "notActions": [], "dataActions": [], "notDataActions": []}]}]`)
	custom := write("custom.json", fmt.Sprintf(`[{"id": %q, "scope": %q, "principalId": "11111111-0000-4000-8000-000000000009", "principalType": "User", "principalName": "hybrid@contoso.com",
  "roleDefinitionId": "/subscriptions/22222222-2222-4222-8222-222222222222/providers/Microsoft.Authorization/roleDefinitions/7a7a7a7a-0000-4000-8000-00000000007a"}]`,
		arc+"/providers/Microsoft.Authorization/roleAssignments/10000000-0000-4000-8000-000000000009", arc))
	doors := func(cluster string) map[string]string {
		t.Helper()
		out, errOut, code := run(t, "who-can", "delete", "namespaces", "-o", "json", "--azure-cluster-id", arc,
			"-f", "../testdata/aks/rbac.yaml", "-f", cluster, "-f", "../testdata/aks/assignments.json", "-f", roles, "-f", custom)
		var ans access.WhoCanAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != ExitOK {
			t.Fatalf("who-can: code %d %v\n%s", code, err, errOut)
		}
		got := map[string]string{}
		for _, d := range ans.AzureDoors {
			got[d.Subject.Name] = d.Kind + " " + d.Action
			if d.Kind == "azure-credential" && (d.As == nil || !slices.Contains(d.As.Groups, "system:masters")) {
				t.Errorf("%s: the admin kubeconfig as %+v", d.Subject.Name, d.As)
			}
		}
		return got
	}
	const admin = "azure-credential Microsoft.HybridContainerService/provisionedClusterInstances/listAdminKubeconfig/action"
	for _, c := range []string{connected, instance} {
		got := doors(c)
		if got["contributor@contoso.com"] != admin || got["hybrid@contoso.com"] != admin || got["reader@contoso.com"] != "" || got["user-role@contoso.com"] != "" {
			t.Errorf("%s: doors %v", filepath.Base(c), got)
		}
	}
	if got := doors(plain); strings.Contains(fmt.Sprint(got), "listAdminKubeconfig") || got["hybrid@contoso.com"] != "" {
		t.Errorf("a connected cluster AKS Arc did not provision: doors %v", got)
	}
	out, _, _ := run(t, "who-can", "delete", "namespaces", "--azure-cluster-id", arc,
		"-f", "../testdata/aks/rbac.yaml", "-f", instance, "-f", "../testdata/aks/assignments.json", "-f", roles, "-f", custom)
	if !strings.Contains(out, "user:hybrid@contoso.com       azure-credential   Azure role \"Hybrid kubeconfig reader\" at cluster arc-prod") || !strings.Contains(out, "az aksarc get-credentials --admin") {
		t.Errorf("who-can's table:\n%s", out)
	}
}

// TestAKSAdminGroupPeople: the Entra admin group's cluster-admin (AKS's
// aks-cluster-admin-binding-aad) counts the group's people from the
// directory (here a file, as snapshot --entra writes it; Microsoft Graph
// when signed in goes through the same count), in the message and the
// finding's people, guests apart.
func TestAKSAdminGroupPeople(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "entra.json")
	if err := os.WriteFile(dir, []byte(`{"apiVersion": "kubectl-access/v1", "kind": "EntraDirectory", "source": "a test tenant", "taken": "2026-12-01T09:00:00Z",
 "objects": [
  {"id": "a1a1a1a1-0000-4000-8000-000000000001", "kind": "group", "displayName": "AKS admins", "securityEnabled": true,
   "members": ["c1c1c1c1-0000-4000-8000-000000000001", "c1c1c1c1-0000-4000-8000-000000000002", "c1c1c1c1-0000-4000-8000-000000000003"], "membersRead": true},
  {"id": "c1c1c1c1-0000-4000-8000-000000000001", "kind": "user", "userPrincipalName": "ann@contoso.com"},
  {"id": "c1c1c1c1-0000-4000-8000-000000000002", "kind": "user", "userPrincipalName": "ben@contoso.com"},
  {"id": "c1c1c1c1-0000-4000-8000-000000000003", "kind": "user", "userPrincipalName": "gus_fabrikam.com#EXT#@contoso.onmicrosoft.com", "guest": true}
 ]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	js, errOut, code := run(t, "audit", "-o", "json", "-f", "../testdata/aks/rbac.yaml", "-f", "../testdata/aks/cluster.json", "-f", "../testdata/aks/assignments.json", "--directory", dir)
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code != ExitOK {
		t.Fatalf("audit: code %d %v\n%s", code, err, errOut)
	}
	found := false
	for _, f := range rep.Findings {
		if len(f.Subjects) != 1 || f.Subjects[0].Name != "a1a1a1a1-0000-4000-8000-000000000001" || f.Severity != audit.Critical {
			continue
		}
		found = true
		if len(f.People) != 1 || f.People[0].People != 3 || f.People[0].Guests != 1 || !strings.Contains(f.Message, "in the group: ") {
			t.Errorf("%s: people %+v, message %s", f.Rule, f.People, f.Message)
		}
	}
	if !found {
		t.Errorf("no critical finding of the admin group:\n%s", js)
	}
}
