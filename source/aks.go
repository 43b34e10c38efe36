package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// ParseManagedCluster reads one managed (or connected) cluster in either
// shape (azurerbac.ParseManagedCluster).
var ParseManagedCluster = azurerbac.ParseManagedCluster

// The managed cluster offline: the JSON of `az aks show` (its properties
// flattened to the top level) or of ARM's GET (under "properties"), and
// an Arc connected cluster's (`az connectedk8s show`, ARM's GET).

const (
	managedClusterType   = "microsoft.containerservice/managedclusters"
	connectedClusterType = "microsoft.kubernetes/connectedclusters"
	// provisionedInstanceType is AKS Arc's (az aksarc show), below its
	// connected cluster.
	provisionedInstanceType = "microsoft.hybridcontainerservice/provisionedclusterinstances"
)

// managedClusterJSON says whether data is one managed or connected
// cluster resource: a JSON object of that type with no apiVersion (a
// Kubernetes object has one).
func managedClusterJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	var probe struct {
		Type       string          `json:"type"`
		APIVersion json.RawMessage `json:"apiVersion"`
	}
	if json.Unmarshal(t, &probe) != nil || probe.APIVersion != nil {
		return false
	}
	typ := strings.ToLower(probe.Type)
	return typ == managedClusterType || typ == connectedClusterType || typ == provisionedInstanceType
}

// managedClusterFile reads one file holding a managed cluster.
func (l *loader) managedClusterFile(name string, data []byte) error {
	m, err := azurerbac.ParseManagedCluster(data)
	if err != nil {
		return fmt.Errorf("%s: not a managed cluster as az aks show or ARM give it: %v", name, err)
	}
	d := l.azure()
	if d.Cluster != nil && strings.EqualFold(d.Cluster.ID, m.ID) {
		// A connected cluster and its provisioned cluster instance.
		m.ProvisionedCluster = m.ProvisionedCluster || d.Cluster.ProvisionedCluster
	}
	if d.Cluster != nil && !strings.EqualFold(d.Cluster.ID, m.ID) {
		return fmt.Errorf("%s: a second managed cluster (%s, after %s): give one cluster's files at a time", name, m.ID, d.Cluster.ID)
	}
	d.Cluster = m
	l.azureFiles++
	l.clusterFiles++
	return nil
}

// finishCluster ties the managed cluster to the role assignments' cluster.
func (l *loader) finishCluster() {
	defer l.finishSecrets()
	d := l.snap.Azure
	if d == nil || d.Cluster == nil {
		return
	}
	if d.ClusterID == "" {
		d.ClusterID = d.Cluster.ID
	}
	if !strings.EqualFold(d.ClusterID, d.Cluster.ID) {
		l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "the managed cluster read (%s) is not the cluster the role assignments decide for (%s): its settings are not used", d.Cluster.ID, d.ClusterID))
		d.Cluster = nil
	}
}
