package source_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
