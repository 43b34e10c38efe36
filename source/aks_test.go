package source_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// TestManagedCluster reads the managed cluster as az aks show gives it
// (flattened) and as ARM's GET does (under properties), and an Arc
// connected cluster; the snapshot keeps it, and the role assignments'
// cluster is the one it names.
func TestManagedCluster(t *testing.T) {
	az, err := os.ReadFile("../testdata/aks/cluster.json")
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	if err := json.Unmarshal(az, &flat); err != nil {
		t.Fatal(err)
	}
	arm := map[string]any{"properties": map[string]any{}}
	for k, v := range flat {
		switch k {
		case "id", "name", "type", "location", "identity":
			arm[k] = v
		default:
			arm["properties"].(map[string]any)[k] = v
		}
	}
	armJSON, _ := json.Marshal(arm)
	for name, data := range map[string][]byte{"az aks show": az, "ARM": armJSON} {
		m, perr := source.ParseManagedCluster(data)
		if perr != nil {
			t.Fatalf("%s: %v", name, perr)
		}
		if !strings.HasSuffix(m.ID, "/managedClusters/aks-prod") || !m.LocalAccounts() || !m.Entra() || m.AzureRBAC() || !m.RBAC() ||
			len(m.AAD.AdminGroups) != 1 || m.IdentityType != "SystemAssigned" || m.KubeletIdentity != "e5e5e5e5-0000-4000-8000-000000000005" ||
			m.NodeResourceGroup != "MC_rg-aks_aks-prod_westeurope" || !m.WorkloadIdentity || m.SSHKeys != 1 || m.Defender || m.KMS ||
			!strings.HasPrefix(m.OIDCIssuerURL, "https://westeurope.oic.prod-aks.azure.com/") {
			t.Errorf("%s: %+v", name, m)
		}
	}
	arc := []byte(`{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/edge", "name": "edge",
		"type": "Microsoft.Kubernetes/connectedClusters", "properties": {"aadProfile": {"enableAzureRbac": true}}}`)
	if m, err := source.ParseManagedCluster(arc); err != nil || !m.Arc() || m.LocalAccounts() || !m.AzureRBAC() {
		t.Errorf("Arc: %+v %v", m, err)
	}
	if _, err := source.ParseManagedCluster([]byte(`{"id": "not-a-cluster", "type": "Microsoft.ContainerService/managedClusters"}`)); err == nil {
		t.Error("a managed cluster without a cluster's id was read")
	}

	// Read with the RBAC and the assignments, kept by a snapshot.
	res, err := source.Read(t.Context(), []string{"../testdata/aks/rbac.yaml", "../testdata/aks/cluster.json", "../testdata/aks/assignments.json"}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Snapshot.Azure
	if d == nil || d.Cluster == nil || !strings.EqualFold(d.ClusterID, d.Cluster.ID) || d.GuardDecides() {
		t.Fatalf("read: %+v", d)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w.Message, "namespace-scope Azure role assignment") {
			t.Errorf("a cluster without Azure RBAC is warned about guard's assignments: %s", w.Message)
		}
	}
	b, _ := json.Marshal(res.Snapshot)
	file := filepath.Join(t.TempDir(), "snap.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := source.Read(t.Context(), []string{file}, source.ReadOptions{})
	if err != nil || again.Snapshot.Azure == nil || again.Snapshot.Azure.Cluster == nil || again.Snapshot.Azure.Cluster.NodeResourceGroup != d.Cluster.NodeResourceGroup {
		t.Errorf("the snapshot lost the managed cluster: %v", err)
	}
	// A managed cluster of another cluster than the assignments' is not used.
	other := strings.ReplaceAll(string(az), "aks-prod", "aks-other")
	file2 := filepath.Join(t.TempDir(), "other.json")
	if err := os.WriteFile(file2, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err = source.Read(t.Context(), []string{"../testdata/aks/rbac.yaml", file2, "../testdata/aks/assignments.json"}, source.ReadOptions{})
	if err != nil || res.Snapshot.Azure.Cluster != nil || !hasWarning(res.Warnings, "is not the cluster the role assignments decide for") {
		t.Errorf("another cluster's settings: %v %+v", err, res.Warnings)
	}
}

func hasWarning(ws []rbac.Warning, part string) bool {
	for _, w := range ws {
		if strings.Contains(w.Message, part) {
			return true
		}
	}
	return false
}

// TestManagedIdentities reads az identity list (an array, flattened) and
// ARM's list of federated credentials ({"value": [...]}, under
// properties), links each credential to its identity whatever the case of
// its id, keeps the identities' assignments at unrelated scopes without
// their deciding the cluster, and a snapshot keeps it all.
func TestManagedIdentities(t *testing.T) {
	dir := "../testdata/aks-identity/"
	files := []string{dir + "rbac.yaml", dir + "cluster.json", dir + "identities.json", dir + "federated-credentials.json", dir + "assignments.json"}
	res, err := source.Read(t.Context(), files, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, d *azurerbac.Data) {
		t.Helper()
		if d == nil || len(d.Identities) != 3 || !strings.HasSuffix(d.ClusterID, "/managedClusters/aks-prod") {
			t.Fatalf("%s: %+v", what, d)
		}
		m := d.Identities[0]
		if m.Name != "id-orders" || m.ClientID != "0a0a0a0a-0000-4000-8000-00000000000a" || m.PrincipalID != "1a1a1a1a-0000-4000-8000-00000000001a" ||
			len(m.FederatedCredentials) != 1 || m.FederatedCredentials[0].Subject != "system:serviceaccount:shop:orders" ||
			len(m.FederatedCredentials[0].Audiences) != 1 {
			t.Errorf("%s: id-orders: %+v", what, m)
		}
		if len(d.Assignments) != 7 { // the add-on identity's on kv-shop too
			t.Errorf("%s: the identities' assignments elsewhere were not kept: %+v", what, d.Assignments)
		}
		if got := d.MatchWorkload(d.Cluster.OIDCIssuerURL, "shop", "orders", m.ClientID); got.Status != azurerbac.WorkloadMatched {
			t.Errorf("%s: shop/orders: %+v", what, got)
		}
		if got := d.MatchWorkload(d.Cluster.OIDCIssuerURL, "shop", "reports", d.Identities[1].ClientID); got.Status != azurerbac.WorkloadNoCredential {
			t.Errorf("%s: shop/reports (issuer without its trailing slash): %+v", what, got)
		}
	}
	check("read", res.Snapshot.Azure)
	b, _ := json.Marshal(res.Snapshot)
	file := filepath.Join(t.TempDir(), "snap.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := source.Read(t.Context(), []string{file}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check("snapshot", again.Snapshot.Azure)

	// The ARM shape of the identities, az's of the credentials, read in
	// the other order: the credential comes first and waits for its
	// identity.
	tmp := t.TempDir()
	armIDs := `{"value": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x", "name": "id-x",
		"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "properties": {"clientId": "c1", "principalId": "p1", "tenantId": "t"}}]}`
	azCreds := `[{"id": "/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x/federatedIdentityCredentials/fc",
		"name": "fc", "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", "issuer": "https://issuer/",
		"subject": "system:serviceaccount:a:b", "audiences": ["api://AzureADTokenExchange"], "resourceGroup": "rg"}]`
	for name, data := range map[string]string{"ids.json": armIDs, "creds.json": azCreds} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res, err = source.Read(t.Context(), []string{dir + "rbac.yaml", dir + "cluster.json", filepath.Join(tmp, "creds.json"), filepath.Join(tmp, "ids.json")}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Snapshot.Azure
	if len(d.Identities) != 1 || d.Identities[0].ClientID != "c1" || d.Identities[0].PrincipalID != "p1" || len(d.Identities[0].FederatedCredentials) != 1 ||
		d.Identities[0].FederatedCredentials[0].Issuer != "https://issuer/" {
		t.Errorf("ARM identities, az credentials: %+v", d.Identities)
	}
	if hasWarning(res.Warnings, "deny assignments") {
		t.Errorf("identities' files taken for guard's assignments: %+v", res.Warnings)
	}
	// Credentials without their identity are said, not matched.
	res, err = source.Read(t.Context(), []string{dir + "rbac.yaml", dir + "cluster.json", filepath.Join(tmp, "creds.json")}, source.ReadOptions{})
	if err != nil || !hasWarning(res.Warnings, "were read but not the identity") {
		t.Errorf("credentials alone: %v %+v", err, res.Warnings)
	}
	// Assignments naming two clusters are still refused.
	two := filepath.Join(tmp, "two.json")
	twoJSON := `[{"id": "/subscriptions/s/resourceGroups/a/providers/Microsoft.ContainerService/managedClusters/one/providers/Microsoft.Authorization/roleAssignments/1", "scope": "/subscriptions/s/resourceGroups/a/providers/Microsoft.ContainerService/managedClusters/one", "principalId": "p", "roleDefinitionId": "/r/b24988ac-6180-42a0-ab88-20f7382dd24c"},
		{"id": "/subscriptions/s/resourceGroups/b/providers/Microsoft.ContainerService/managedClusters/two/providers/Microsoft.Authorization/roleAssignments/2", "scope": "/subscriptions/s/resourceGroups/b/providers/Microsoft.ContainerService/managedClusters/two", "principalId": "p", "roleDefinitionId": "/r/b24988ac-6180-42a0-ab88-20f7382dd24c"}]`
	if err := os.WriteFile(two, []byte(twoJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := source.Read(t.Context(), []string{dir + "rbac.yaml", dir + "identities.json", dir + "assignments.json", two}, source.ReadOptions{}); err == nil || !strings.Contains(err.Error(), "name 2 clusters") {
		t.Errorf("two clusters: %v", err)
	}
}
