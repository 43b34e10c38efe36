package audit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// TestWorkloadIdentityReach: the group bound to edit in shop can create
// pods there and mint shop/orders' tokens, so it acts as id-orders
// (Contributor on the subscription: critical), each step its own finding
// naming the chain; shop/reports (no matching credential) and shop/legacy
// (identity not read) are reached by nobody; with Contributor moved to a
// resource group the finding is high, and without the identity's
// assignments there is none.
func TestWorkloadIdentityReach(t *testing.T) {
	dir := "../testdata/aks-identity/"
	files := []string{dir + "rbac.yaml", dir + "cluster.json", dir + "identities.json", dir + "federated-credentials.json", dir + "assignments.json", dir + "roles.json"}
	res, err := source.Read(t.Context(), files, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run := func() []audit.Finding {
		t.Helper()
		return audit.Run(rbac.NewIndex(res.Snapshot), audit.Options{Only: []string{"workload-identity-reach"}}).Findings
	}
	fs := run()
	if len(fs) != 3 {
		t.Fatalf("%d findings: %+v", len(fs), fs)
	}
	// shop/batch is not annotated, but id-batch's credential names it:
	// reached too (Contributor on a resource group: high).
	if !strings.Contains(fs[0].Message, "managed identity id-batch (Contributor on resource group rg-shop) through sa:shop:batch") ||
		fs[2].Severity != audit.High || !strings.Contains(fs[2].Message, "can mint tokens for sa:shop:batch") {
		t.Errorf("batch: %q, %+v", fs[0].Message, fs[2])
	}
	if strings.Contains(fs[0].Message, "ghost") {
		t.Errorf("an account that does not exist reached by creating pods: %s", fs[0].Message)
	}
	for _, f := range fs[:2] {
		if f.Severity != audit.Critical || f.Category != audit.CategoryAzureIdentity || len(f.Subjects) < 2 ||
			f.Subjects[0].String() != "group:c7c7c7c7-0000-4000-8000-000000000007" || f.Subjects[1].String() != "sa:shop:orders" ||
			!strings.Contains(f.Message, "managed identity id-orders (Contributor on subscription 22222222-2222-4222-8222-222222222222") ||
			!strings.Contains(f.Message, "federated credential shop-orders") || len(f.Evidence) == 0 ||
			len(f.Objects) == 0 || !strings.HasSuffix(f.Objects[0].Name, "/userAssignedIdentities/id-orders") {
			t.Errorf("finding: %+v", f)
		}
		if strings.Contains(f.Message, "reports") || strings.Contains(f.Message, "legacy") {
			t.Errorf("an account that acts as no identity reached: %s", f.Message)
		}
	}
	if !strings.Contains(fs[0].Message, "can create pods in namespace shop") || !strings.Contains(fs[1].Message, "can mint tokens for sa:shop:orders in namespace shop") {
		t.Errorf("steps: %q, %q", fs[0].Message, fs[1].Message)
	}

	// shop/ghost does not exist: whoever can create it and a pod as it.
	un := audit.Run(rbac.NewIndex(res.Snapshot), audit.Options{Only: []string{"federated-credential-unclaimed"}}).Findings
	if len(un) != 1 || un[0].Severity != audit.High || len(un[0].Subjects) != 2 || un[0].Subjects[0].String() != "sa:shop:ghost" ||
		un[0].Subjects[1].String() != "group:c7c7c7c7-0000-4000-8000-000000000007" || !strings.Contains(un[0].Message, "federated credential shop-ghost of managed identity id-batch") {
		t.Errorf("unclaimed: %+v", un)
	}

	// The kubelet identity holds Contributor on the node resource group
	// beyond AcrPull (which alone is no finding).
	kl := audit.Run(rbac.NewIndex(res.Snapshot), audit.Options{Only: []string{"kubelet-identity-reach"}}).Findings
	if len(kl) != 1 || kl[0].Severity != audit.High || !strings.Contains(kl[0].Message, "Contributor on resource group MC_rg-aks_aks-prod_westeurope") ||
		strings.Contains(kl[0].Message, "AcrPull on") || !strings.Contains(kl[0].Message, "no NetworkPolicy was read") || !strings.Contains(kl[0].Message, "not checked: pods on the host's network") {
		t.Errorf("kubelet: %+v", kl)
	}

	// Contributor at a resource group: high.
	d := res.Snapshot.Azure
	saved := d.Assignments
	d.Assignments = nil
	for _, a := range saved {
		if a.Scope == "/subscriptions/22222222-2222-4222-8222-222222222222" {
			a.Scope += "/resourceGroups/rg-shop"
		}
		d.Assignments = append(d.Assignments, a)
	}
	res.Snapshot.Azure = d.Copy()
	if fs = run(); len(fs) != 3 || fs[0].Severity != audit.High {
		t.Errorf("at a resource group: %+v", fs)
	}
	// No assignment of the identities: nothing to reach; AcrPull alone
	// is all the kubelet identity needs.
	var acr []azurerbac.Assignment
	for _, a := range res.Snapshot.Azure.Assignments {
		if strings.HasSuffix(a.RoleDefinitionID, "/7f951dda-4ed3-4680-a7ca-43fe172d538d") {
			acr = append(acr, a)
		}
	}
	res.Snapshot.Azure.Assignments = acr
	res.Snapshot.Azure = res.Snapshot.Azure.Copy()
	if fs = run(); len(fs) != 0 {
		t.Errorf("without assignments: %+v", fs)
	}
	if kl := audit.Run(rbac.NewIndex(res.Snapshot), audit.Options{Only: []string{"kubelet-identity-reach"}}).Findings; len(acr) != 1 || len(kl) != 0 {
		t.Errorf("AcrPull alone: %d %+v", len(acr), kl)
	}
}

// TestIdentityReachByExec: whoever can exec into a pod that runs as an
// account acting as an identity acts as it (the account's token is in the
// pod): asked per pod by name, so a grant limited to another pod by
// resourceNames reaches nothing, and a finished pod runs nothing.
func TestIdentityReachByExec(t *testing.T) {
	dir := "../testdata/aks-identity/"
	extra := filepath.Join(t.TempDir(), "exec.yaml")
	const manifest = `apiVersion: v1
kind: Pod
metadata: {name: orders-7f9, namespace: shop}
spec: {serviceAccountName: orders, containers: [{name: app, image: app}]}
---
apiVersion: v1
kind: Pod
metadata: {name: orders-done, namespace: shop}
spec: {serviceAccountName: orders, containers: [{name: app, image: app}]}
status: {phase: Succeeded}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec-orders, namespace: shop}
rules: [{apiGroups: [""], resources: [pods/exec], verbs: [create], resourceNames: [orders-7f9]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec-done, namespace: shop}
rules: [{apiGroups: [""], resources: [pods/exec], verbs: [create], resourceNames: [orders-done, other]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: eve-exec, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec-orders}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: eve@contoso.com}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: mallory-exec, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec-done}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: mallory@contoso.com}]
`
	if err := os.WriteFile(extra, []byte(manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	files := []string{dir + "rbac.yaml", dir + "cluster.json", dir + "identities.json", dir + "federated-credentials.json", dir + "assignments.json", dir + "roles.json", extra}
	res, err := source.Read(t.Context(), files, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ix := rbac.NewIndex(res.Snapshot)
	var eve, mallory []audit.IdentityReach
	for _, r := range audit.IdentityReaches(ix) {
		switch r.Subject.Name {
		case "eve@contoso.com":
			eve = append(eve, r)
		case "mallory@contoso.com":
			mallory = append(mallory, r)
		}
	}
	if len(eve) != 1 || eve[0].Step != audit.StepPodExec || eve[0].Namespace != "shop" || eve[0].Workload.ServiceAccount != "sa:shop:orders" ||
		eve[0].StepText != "exec into pods that run as sa:shop:orders" || len(eve[0].Evidence) != 1 || eve[0].Evidence[0].Binding.Name != "eve-exec" {
		t.Errorf("eve: %+v", eve)
	}
	if len(mallory) != 0 {
		t.Errorf("mallory may exec only into a finished pod and one that does not exist: %+v", mallory)
	}
	var found bool
	for _, f := range audit.Run(ix, audit.Options{Only: []string{"workload-identity-reach"}}).Findings {
		if strings.HasPrefix(f.Message, "user:eve@contoso.com can exec into pods that run as sa:shop:orders in namespace shop, and so act as managed identity id-orders") {
			found = f.Severity == audit.Critical
		}
	}
	if !found {
		t.Error("the audit does not report eve's exec as a critical workload-identity-reach")
	}
}
