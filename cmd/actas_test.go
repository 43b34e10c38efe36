package cmd

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestWhoCanActAs: who-can act-as lists, for a managed identity, the
// service accounts whose tokens it accepts and who can run a pod as one,
// mint its token or create the account a credential names, exactly the
// pairs the azure-identity audit reports (one computation); an identity
// no account acts as, an unknown one and a view without identities are
// said so.
func TestWhoCanActAs(t *testing.T) {
	f := []string{"-f", "../testdata/aks-identity"}
	pairs := map[string]bool{} // subject -> identity, from act-as
	for _, id := range []string{"id-orders", "0d0d0d0d-0000-4000-8000-00000000000d"} {
		out, stderr, code := run(t, append([]string{"who-can", "act-as", id, "-o", "json"}, f...)...)
		var ans access.ActAsAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != ExitOK || ans.Kind != access.KindWhoCanActAs {
			t.Fatalf("act-as %s: %d %v\n%s", id, code, err, stderr)
		}
		for _, r := range ans.Subjects {
			pairs[r.Subject.String()+" -> "+ans.Identity.Name+" ("+r.Step+")"] = true
		}
		if len(ans.RoleAssignments) == 0 || len(ans.ServiceAccounts) == 0 {
			t.Errorf("act-as %s: %+v", id, ans)
		}
	}
	want := []string{
		"group:c7c7c7c7-0000-4000-8000-000000000007 -> id-orders (workload-create)",
		"group:c7c7c7c7-0000-4000-8000-000000000007 -> id-orders (serviceaccount-token-create)",
		"group:c7c7c7c7-0000-4000-8000-000000000007 -> id-batch (workload-create)",
		"group:c7c7c7c7-0000-4000-8000-000000000007 -> id-batch (serviceaccount-token-create)",
		"group:c7c7c7c7-0000-4000-8000-000000000007 -> id-batch (serviceaccount-create)",
	}
	for _, w := range want {
		if !pairs[w] {
			t.Errorf("act-as lacks %s (has %v)", w, pairs)
		}
	}
	// The audit names the same subjects and identities.
	out, _, _ := run(t, append([]string{"audit", "-o", "json", "--only", "workload-identity-reach,federated-credential-unclaimed"}, f...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	for _, fi := range rep.Findings {
		var who string
		for _, s := range fi.Subjects {
			if s.Kind == "Group" || s.Kind == "User" {
				who = s.String()
			}
		}
		found := false
		for p := range pairs {
			if strings.HasPrefix(p, who+" -> ") && strings.Contains(fi.Message, strings.Fields(strings.TrimPrefix(p, who+" -> "))[0]) {
				found = true
			}
		}
		if !found {
			t.Errorf("the audit's %s (%s) is not in act-as's answers", fi.ID, fi.Message)
		}
	}

	// The table says each chain.
	out, _, _ = run(t, append([]string{"who-can", "act-as", "id-batch"}, f...)...)
	for _, w := range []string{"Who can act as managed identity id-batch", "through sa:shop:ghost: does not exist", "create sa:shop:ghost and a pod that runs as it"} {
		if !strings.Contains(out, w) {
			t.Errorf("act-as table lacks %q:\n%s", w, out)
		}
	}
	// id-reports: annotated, but no credential accepts the tokens.
	out, _, code := run(t, append([]string{"who-can", "act-as", "id-reports"}, f...)...)
	if code != ExitOK || !strings.Contains(out, "not through sa:shop:reports") || !strings.Contains(out, "no service account of the cluster acts as it") {
		t.Errorf("act-as id-reports: %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append([]string{"who-can", "act-as", "nope"}, f...), "no managed identity \"nope\" among the 3 read"},
		{[]string{"who-can", "act-as", "id-orders", "-f", "../testdata/demo/cluster.yaml"}, "needs the Azure identities"},
		{append([]string{"who-can", "act-as", "id-orders", "--transitive"}, f...), "do not apply"},
		{append([]string{"who-can", "act-as"}, f...), "takes one Azure managed identity"},
	} {
		if _, stderr, code := run(t, tc.args...); code != ExitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: %d %q", tc.args, code, stderr)
		}
	}
}

// TestTransitiveThroughAzure: who-can --transitive follows a chain out to
// Azure and back: a managed identity that the cluster grants the request
// (Kubernetes sees its object id as a user) is held by whoever acts as it
// through workload identity, each chain naming the identity.
func TestTransitiveThroughAzure(t *testing.T) {
	dir := t.TempDir()
	ents, err := os.ReadDir("../testdata/aks-identity")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("../testdata/aks-identity", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	binding := `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules:
- {apiGroups: [""], resources: [nodes], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: orders-identity-reads-nodes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: 1a1a1a1a-0000-4000-8000-00000000001a}
`
	if err := os.WriteFile(filepath.Join(dir, "identity-binding.yaml"), []byte(binding), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, "who-can", "get", "nodes", "--transitive", "-f", dir, "-o", "json")
	var ans access.WhoCanAnswer
	if err := json.Unmarshal([]byte(out), &ans); err != nil || code != ExitOK {
		t.Fatalf("who-can --transitive: %d %v\n%s", code, err, stderr)
	}
	steps := map[string]bool{}
	for _, g := range ans.Transitive {
		if g.Identity != nil {
			steps[g.Subject().String()+" | "+g.Step+" | "+g.ServiceAccount.String()+" | "+g.Identity.Name] = true
		}
	}
	for _, w := range []string{
		"group:c7c7c7c7-0000-4000-8000-000000000007 | create pods | sa:shop:orders | id-orders",
		"group:c7c7c7c7-0000-4000-8000-000000000007 | mint tokens for sa:shop:orders | sa:shop:orders | id-orders",
	} {
		if !steps[w] {
			t.Errorf("no chain %q among %v", w, steps)
		}
	}
	table, _, _ := run(t, "who-can", "get", "nodes", "--transitive", "-f", dir)
	if !strings.Contains(table, "sa:shop:orders -> managed identity id-orders") {
		t.Errorf("the table does not name the identity:\n%s", table)
	}
	// Without the binding the identity holds nothing here: no chain.
	if err := os.Remove(filepath.Join(dir, "identity-binding.yaml")); err != nil {
		t.Fatal(err)
	}
	out, _, _ = run(t, "who-can", "get", "nodes", "--transitive", "-f", dir, "-o", "json")
	ans = access.WhoCanAnswer{}
	_ = json.Unmarshal([]byte(out), &ans)
	for _, g := range ans.Transitive {
		if g.Identity != nil {
			t.Errorf("a chain through an identity that holds nothing: %+v", g)
		}
	}
}

// TestWhatCanAzureReach: what-can lists the managed identities a subject
// acts as by a step in the cluster, exactly the steps who-can act-as
// lists for it (one computation), for the bound group itself, for a user
// in it (saying through which group), in every format; a namespace the
// steps are not allowed in lists none.
func TestWhatCanAzureReach(t *testing.T) {
	f := []string{"-f", "../testdata/aks-identity"}
	const group = "group:c7c7c7c7-0000-4000-8000-000000000007"
	actAs := map[string]bool{}
	for _, id := range []string{"id-orders", "id-batch", "kubelet"} {
		out, _, _ := run(t, append([]string{"who-can", "act-as", id, "-o", "json"}, f...)...)
		var ans access.ActAsAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil {
			t.Fatal(err)
		}
		for _, r := range ans.Subjects {
			if r.Subject.String() == group {
				actAs[r.Step+" "+r.Workload.ServiceAccount] = true
			}
		}
	}
	for _, who := range [][]string{{group}, {"user:bob@contoso.com", "--group", "c7c7c7c7-0000-4000-8000-000000000007"}} {
		out, stderr, code := run(t, append(append([]string{"what-can"}, who...), append([]string{"-o", "json"}, f...)...)...)
		var ans access.WhatCanAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != ExitOK {
			t.Fatalf("what-can %v: %d %v\n%s", who, code, err, stderr)
		}
		got := map[string]bool{}
		for i, r := range ans.AzureReach {
			got[r.Step+" "+r.Workload.ServiceAccount] = true
			if i > 0 && r.Severity > ans.AzureReach[i-1].Severity {
				t.Errorf("what-can %v: reach not most severe first: %v", who, ans.AzureReach)
			}
			if len(r.Evidence) == 0 || len(r.Roles) == 0 {
				t.Errorf("what-can %v: a reach without its path or what the identity holds: %+v", who, r)
			}
		}
		if len(actAs) < 6 || !maps.Equal(got, actAs) {
			t.Errorf("what-can %v reaches %v; who-can act-as lists %v", who, got, actAs)
		}
		if ans.AzureReach[0].Severity != audit.Critical || !strings.Contains(ans.AzureReach[0].Workload.ServiceAccount, "orders") {
			t.Errorf("what-can %v: the Contributor on the subscription is not first and critical: %+v", who, ans.AzureReach[0])
		}
		table, _, _ := run(t, append(append([]string{"what-can"}, who...), f...)...)
		for _, w := range []string{"acts in Azure by a step in the cluster", "critical: managed identity id-orders (Contributor on subscription",
			"create pods in namespace shop that run as sa:shop:orders", "create sa:shop:ghost and a pod that runs as it"} {
			if !strings.Contains(table, w) {
				t.Errorf("what-can %v table lacks %q:\n%s", who, w, table)
			}
		}
		if member := strings.Contains(table, "(as a member of "+group+")"); member != (who[0] != group) {
			t.Errorf("what-can %v: says the group it acts through: %v, want %v:\n%s", who, member, who[0] != group, table)
		}
		csv, _, _ := run(t, append(append([]string{"what-can"}, who...), append([]string{"-o", "csv"}, f...)...)...)
		if !strings.Contains(csv, "create pods in namespace shop that run as sa:shop:orders -> acts as managed identity id-orders") {
			t.Errorf("what-can %v csv lacks the reach:\n%s", who, csv)
		}
	}
	out, _, _ := run(t, append([]string{"what-can", group, "-n", "default", "-o", "json"}, f...)...)
	var ans access.WhatCanAnswer
	if err := json.Unmarshal([]byte(out), &ans); err != nil || len(ans.AzureReach) != 0 {
		t.Errorf("what-can -n default: %v %+v", err, ans.AzureReach)
	}
}

// TestWhoCanActAsAddon: the Key Vault secrets provider add-on's identity,
// asked by its add-on's name or object id, is answered with what it holds
// and who can create a pod and a SecretProviderClass (the group, in shop),
// the same subjects as the addon-identity-secrets finding, with a warning
// that the instance metadata service serves it to any pod.
func TestWhoCanActAsAddon(t *testing.T) {
	f := []string{"-f", "../testdata/aks-identity"}
	for _, q := range []string{"azureKeyvaultSecretsProvider", "f8f8f8f8-0000-4000-8000-000000000008"} {
		out, stderr, code := run(t, append([]string{"who-can", "act-as", q, "-o", "json"}, f...)...)
		var ans access.ActAsAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != ExitOK {
			t.Fatalf("act-as %s: %d %v\n%s", q, code, err, stderr)
		}
		if ans.Addon != "azureKeyvaultSecretsProvider" || ans.Identity.PrincipalID != "f8f8f8f8-0000-4000-8000-000000000008" ||
			len(ans.RoleAssignments) != 1 || ans.RoleAssignments[0].RoleName != "Key Vault Secrets User" || len(ans.Subjects) != 1 ||
			ans.Subjects[0].Subject.String() != "group:c7c7c7c7-0000-4000-8000-000000000007" || ans.Subjects[0].Step != audit.StepSecretProviderClass ||
			ans.Subjects[0].Namespace != "shop" || strings.Contains(out, `"workloadIdentity"`) || !slices.ContainsFunc(ans.Warnings, func(w rbac.Warning) bool { return strings.Contains(w.Message, "instance metadata service") }) {
			t.Errorf("act-as %s: %+v\n%s", q, ans, stderr)
		}
	}
	out, _, _ := run(t, append([]string{"who-can", "act-as", "azureKeyvaultSecretsProvider"}, f...)...)
	for _, w := range []string{"Who can act as the azureKeyvaultSecretsProvider add-on's identity (object id f8f8f8f8-0000-4000-8000-000000000008)",
		"create a pod and a SecretProviderClass naming it in namespace shop"} {
		if !strings.Contains(out, w) {
			t.Errorf("act-as table lacks %q:\n%s", w, out)
		}
	}
	out, _, _ = run(t, append([]string{"audit", "-o", "json", "--only", "addon-identity-secrets"}, f...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Findings) != 1 || rep.Findings[0].Subjects[0].String() != "group:c7c7c7c7-0000-4000-8000-000000000007" {
		t.Errorf("the audit: %v %+v", err, rep.Findings)
	}
}

// TestWhoCanActAsKubelet: the kubelet identity (asked as "kubelet" or by
// its object id) is answered with who can create pods where new pods reach
// the instance metadata service, as kubelet-identity-reach decides it;
// with AKS's IMDS restriction on, nobody.
func TestWhoCanActAsKubelet(t *testing.T) {
	const kubelet = "e5e5e5e5-0000-4000-8000-000000000005"
	f := []string{"-f", "../testdata/aks-identity"}
	for _, q := range []string{"kubelet", kubelet} {
		out, stderr, code := run(t, append([]string{"who-can", "act-as", q, "-o", "json"}, f...)...)
		var ans access.ActAsAnswer
		if err := json.Unmarshal([]byte(out), &ans); err != nil || code != ExitOK {
			t.Fatalf("act-as %s: %d %v\n%s", q, code, err, stderr)
		}
		if !ans.Kubelet || ans.Identity.PrincipalID != kubelet || len(ans.Subjects) == 0 ||
			!slices.ContainsFunc(ans.Subjects, func(r audit.IdentityReach) bool {
				return r.Subject.String() == "group:c7c7c7c7-0000-4000-8000-000000000007" && r.Step == audit.StepIMDS && r.Namespace == "shop"
			}) || !slices.ContainsFunc(ans.RoleAssignments, func(a azurerbac.IdentityAssignment) bool { return a.RoleName == "AcrPull" }) {
			t.Errorf("act-as %s: %+v", q, ans)
		}
	}
	out, _, _ := run(t, append([]string{"who-can", "act-as", "kubelet"}, f...)...)
	if !strings.Contains(out, "Who can act as the kubelet identity (object id "+kubelet+")") || !strings.Contains(out, "create pods (which reach the instance metadata service) in namespace shop") {
		t.Errorf("act-as kubelet table:\n%s", out)
	}
	// AKS's IMDS restriction on: no pod reaches it.
	dir := t.TempDir()
	for _, name := range []string{"rbac.yaml", "identities.json", "federated-credentials.json", "assignments.json", "roles.json", "cluster.json"} {
		b, err := os.ReadFile(filepath.Join("../testdata/aks-identity", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "cluster.json" {
			var c map[string]any
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			np, _ := c["networkProfile"].(map[string]any)
			if np == nil {
				np = map[string]any{}
			}
			np["podLinkLocalAccess"] = "None"
			c["networkProfile"] = np
			b, _ = json.Marshal(c)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, _, _ = run(t, "who-can", "act-as", "kubelet", "-o", "json", "-f", dir)
	var ans access.ActAsAnswer
	if err := json.Unmarshal([]byte(out), &ans); err != nil || !ans.Kubelet || len(ans.Subjects) != 0 {
		t.Errorf("act-as kubelet with the IMDS restriction: %v %+v", err, ans.Subjects)
	}
}
