package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The managed cluster offline: the JSON of `az aks show` (its properties
// flattened to the top level) or of ARM's GET (under "properties"), and
// an Arc connected cluster's (`az connectedk8s show`, ARM's GET).

const (
	managedClusterType   = "microsoft.containerservice/managedclusters"
	connectedClusterType = "microsoft.kubernetes/connectedclusters"
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
	return typ == managedClusterType || typ == connectedClusterType
}

// clusterJSON is both shapes' fields.
type clusterJSON struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Type       string       `json:"type"`
	Location   string       `json:"location"`
	Properties *clusterJSON `json:"properties"`
	Identity   *struct {
		Type string `json:"type"`
	} `json:"identity"`

	DisableLocalAccounts *bool                      `json:"disableLocalAccounts"`
	EnableRBAC           *bool                      `json:"enableRbac"`
	AADProfile           *azurerbac.AADProfile      `json:"aadProfile"`
	APIServer            *azurerbac.APIServerAccess `json:"apiServerAccessProfile"`
	PublicNetworkAccess  string                     `json:"publicNetworkAccess"`
	ServicePrincipal     *struct {
		ClientID string `json:"clientId"`
	} `json:"servicePrincipalProfile"`
	IdentityProfile map[string]struct {
		ObjectID string `json:"objectId"`
	} `json:"identityProfile"`
	NodeResourceGroup        string `json:"nodeResourceGroup"`
	NodeResourceGroupProfile *struct {
		RestrictionLevel string `json:"restrictionLevel"`
	} `json:"nodeResourceGroupProfile"`
	OIDCIssuer *struct {
		IssuerURL string `json:"issuerUrl"`
	} `json:"oidcIssuerProfile"`
	SecurityProfile *struct {
		Defender *struct {
			SecurityMonitoring *struct {
				Enabled bool `json:"enabled"`
			} `json:"securityMonitoring"`
		} `json:"defender"`
		WorkloadIdentity *struct {
			Enabled bool `json:"enabled"`
		} `json:"workloadIdentity"`
		KMS *struct {
			Enabled bool `json:"enabled"`
		} `json:"azureKeyVaultKms"`
	} `json:"securityProfile"`
	LinuxProfile *struct {
		SSH *struct {
			PublicKeys []json.RawMessage `json:"publicKeys"`
		} `json:"ssh"`
	} `json:"linuxProfile"`
	PodIdentity *struct {
		Enabled    bool              `json:"enabled"`
		Exceptions []json.RawMessage `json:"userAssignedIdentityExceptions"`
	} `json:"podIdentityProfile"`
}

// ParseManagedCluster reads one managed (or connected) cluster in either
// shape.
func ParseManagedCluster(data []byte) (*azurerbac.ManagedCluster, error) {
	var c clusterJSON
	if err := json.Unmarshal(bytes.TrimLeft(data, "\ufeff"), &c); err != nil {
		return nil, err
	}
	if p := c.Properties; p != nil {
		// ARM's shape: the settings under properties.
		p.ID, p.Name, p.Type, p.Location, p.Identity = c.ID, c.Name, c.Type, c.Location, c.Identity
		c = *p
	}
	if !clusterIDPattern.MatchString(c.ID) {
		return nil, fmt.Errorf("the cluster's id %q is not a cluster's resource id", c.ID)
	}
	m := &azurerbac.ManagedCluster{ID: strings.TrimSuffix(c.ID, "/"), Name: c.Name, Type: c.Type, Location: c.Location,
		DisableLocalAccounts: c.DisableLocalAccounts != nil && *c.DisableLocalAccounts, EnableRBAC: c.EnableRBAC,
		AAD: c.AADProfile, APIServer: c.APIServer, PublicNetworkAccess: c.PublicNetworkAccess,
		NodeResourceGroup: c.NodeResourceGroup}
	if c.Identity != nil {
		m.IdentityType = c.Identity.Type
	}
	if c.ServicePrincipal != nil {
		m.ServicePrincipal = c.ServicePrincipal.ClientID
	}
	if k, ok := c.IdentityProfile["kubeletidentity"]; ok {
		m.KubeletIdentity = k.ObjectID
	}
	if c.NodeResourceGroupProfile != nil {
		m.NodeResourceGroupRestriction = c.NodeResourceGroupProfile.RestrictionLevel
	}
	if c.OIDCIssuer != nil {
		m.OIDCIssuerURL = c.OIDCIssuer.IssuerURL
	}
	if sp := c.SecurityProfile; sp != nil {
		m.Defender = sp.Defender != nil && sp.Defender.SecurityMonitoring != nil && sp.Defender.SecurityMonitoring.Enabled
		m.WorkloadIdentity = sp.WorkloadIdentity != nil && sp.WorkloadIdentity.Enabled
		m.KMS = sp.KMS != nil && sp.KMS.Enabled
	}
	if lp := c.LinuxProfile; lp != nil && lp.SSH != nil {
		m.SSHKeys = len(lp.SSH.PublicKeys)
	}
	if pi := c.PodIdentity; pi != nil {
		m.PodIdentity, m.PodIdentityExceptions = pi.Enabled, len(pi.Exceptions)
	}
	if m.Arc() {
		// A connected cluster has no local accounts of AKS's kind: its
		// credentials are listClusterUserCredential's (Entra or a token).
		m.DisableLocalAccounts = true
	}
	return m, nil
}

// managedClusterFile reads one file holding a managed cluster.
func (l *loader) managedClusterFile(name string, data []byte) error {
	m, err := ParseManagedCluster(data)
	if err != nil {
		return fmt.Errorf("%s: not a managed cluster as az aks show or ARM give it: %v", name, err)
	}
	d := l.azure()
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
