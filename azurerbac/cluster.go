package azurerbac

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ManagedCluster is what the tool reads of an AKS managed cluster (ARM's
// Microsoft.ContainerService/managedClusters, az aks show) or an Azure
// Arc connected cluster (Microsoft.Kubernetes/connectedClusters): the
// settings that decide who gets in through Azure's control plane.
type ManagedCluster struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Location string `json:"location,omitempty"`
	// DisableLocalAccounts: the admin (and, without Entra, user)
	// credentials with client certificates are refused.
	DisableLocalAccounts bool `json:"disableLocalAccounts"`
	// EnableRBAC is Kubernetes RBAC (nil: not said, on by default).
	EnableRBAC *bool       `json:"enableRbac,omitempty"`
	AAD        *AADProfile `json:"aadProfile,omitempty"`
	// APIServer: who can reach the API server.
	APIServer           *APIServerAccess `json:"apiServerAccessProfile,omitempty"`
	PublicNetworkAccess string           `json:"publicNetworkAccess,omitempty"`
	// IdentityType is the cluster identity's: SystemAssigned,
	// UserAssigned, or "" with a service principal (ServicePrincipal
	// names its client id, "msi" with a managed identity).
	IdentityType     string `json:"identityType,omitempty"`
	ServicePrincipal string `json:"servicePrincipalClientId,omitempty"`
	// ServicePrincipalSecrets is what was read of the service principal's
	// password credentials (Microsoft Graph, or az ad app credential
	// list): nil when they were not asked for.
	ServicePrincipalSecrets *AppSecrets `json:"servicePrincipalSecrets,omitempty"`
	// KubeletIdentity is identityProfile.kubeletidentity's object id.
	KubeletIdentity string `json:"kubeletIdentityObjectId,omitempty"`
	// AddonIdentities are the object ids of the enabled add-ons'
	// identities (addonProfiles.NAME.identity: the Key Vault secrets
	// provider's, Application Gateway ingress's, ...), by add-on.
	AddonIdentities map[string]string `json:"addonIdentityObjectIds,omitempty"`
	// NodeResourceGroup holds the nodes' VMs; its restriction level
	// (nodeResourceGroupProfile.restrictionLevel: Unrestricted, ReadOnly).
	NodeResourceGroup            string `json:"nodeResourceGroup,omitempty"`
	NodeResourceGroupRestriction string `json:"nodeResourceGroupRestriction,omitempty"`
	OIDCIssuerURL                string `json:"oidcIssuerUrl,omitempty"`
	WorkloadIdentity             bool   `json:"workloadIdentity,omitempty"`
	Defender                     bool   `json:"defender,omitempty"`
	KMS                          bool   `json:"kms,omitempty"`
	// SSHKeys is how many SSH public keys the Linux nodes accept.
	SSHKeys int `json:"sshKeys,omitempty"`
	// ProvisionedCluster: an Arc connected cluster that AKS Arc
	// provisioned (kind ProvisionedCluster, or its
	// provisionedClusterInstances resource): it has an admin kubeconfig.
	ProvisionedCluster    bool `json:"provisionedCluster,omitempty"`
	PodIdentity           bool `json:"podIdentity,omitempty"`
	PodIdentityExceptions int  `json:"podIdentityExceptions,omitempty"`
	// PodIdentityExceptionList are podIdentityProfile's
	// userAssignedIdentityExceptions: the pods they label bypass AAD pod
	// identity's NMI and reach the instance metadata service directly.
	PodIdentityExceptionList []PodIdentityException `json:"podIdentityExceptionList,omitempty"`
	// NetworkPolicy is networkProfile.networkPolicy (azure, calico,
	// cilium, none or ""): whether NetworkPolicies are enforced at all.
	NetworkPolicy string `json:"networkPolicy,omitempty"`
	// PodLinkLocalAccess is networkProfile.podLinkLocalAccess: "None"
	// is AKS's IMDS restriction (pods without hostNetwork cannot reach
	// 169.254.169.254); "IMDS" or "" (the default) lets them.
	PodLinkLocalAccess string `json:"podLinkLocalAccess,omitempty"`
}

// PodIdentityException is one AAD pod identity exception: the pods of
// Namespace with all of PodLabels bypass NMI (the managed cluster's
// userAssignedIdentityExceptions, or an AzurePodIdentityException
// resource).
type PodIdentityException struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	PodLabels map[string]string `json:"podLabels"`
}

// AppSecrets are an app registration's password credentials as far as
// they were read: when each expires, never a value.
type AppSecrets struct {
	AppID   string      `json:"appId"`
	Secrets []AppSecret `json:"secrets,omitempty"`
	// From says where they were read (Microsoft Graph, or a file).
	From string `json:"from,omitempty"`
	// Unread says why they could not be read, naming what would read
	// them ("" when read).
	Unread string `json:"unread,omitempty"`
}

// AppSecret is one password credential: its id, name and end, never its
// value (nor Graph's hint of it).
type AppSecret struct {
	KeyID       string     `json:"keyId"`
	DisplayName string     `json:"displayName,omitempty"`
	End         *time.Time `json:"endDateTime,omitempty"`
}

// UsesServicePrincipal says whether the cluster identity is a service
// principal with a secret (servicePrincipalProfile.clientId, not "msi",
// and no managed identity).
func (c *ManagedCluster) UsesServicePrincipal() bool {
	return c.IdentityType == "" && c.ServicePrincipal != "" && !strings.EqualFold(c.ServicePrincipal, "msi")
}

// AADProfile is the cluster's Entra integration.
type AADProfile struct {
	Managed         bool     `json:"managed"`
	EnableAzureRBAC bool     `json:"enableAzureRbac"`
	AdminGroups     []string `json:"adminGroupObjectIDs,omitempty"`
	TenantID        string   `json:"tenantId,omitempty"`
}

// APIServerAccess is apiServerAccessProfile.
type APIServerAccess struct {
	AuthorizedIPRanges []string `json:"authorizedIpRanges,omitempty"`
	PrivateCluster     bool     `json:"enablePrivateCluster,omitempty"`
	DisableRunCommand  bool     `json:"disableRunCommand,omitempty"`
}

// ProvisionedInstance is the scope of an AKS Arc cluster's provisioned
// cluster instance (where listAdminKubeconfig is granted), below its
// connected cluster.
func (c *ManagedCluster) ProvisionedInstance() string {
	return c.ID + "/providers/Microsoft.HybridContainerService/provisionedClusterInstances/default"
}

// Arc says whether the cluster is an Azure Arc connected cluster (AKS
// hybrid's, or any Kubernetes connected to Azure).
func (c *ManagedCluster) Arc() bool {
	return strings.EqualFold(c.Type, "Microsoft.Kubernetes/connectedClusters")
}

// Entra says whether users sign in with Entra ID (aadProfile present).
func (c *ManagedCluster) Entra() bool { return c.AAD != nil }

// LocalAccounts says whether the local accounts (client certificates)
// are on: AKS's default, unless disableLocalAccounts.
func (c *ManagedCluster) LocalAccounts() bool { return !c.DisableLocalAccounts }

// RBAC says whether Kubernetes RBAC is on (the default).
func (c *ManagedCluster) RBAC() bool { return c.EnableRBAC == nil || *c.EnableRBAC }

// AzureRBAC says whether Azure RBAC for Kubernetes authorization (guard)
// decides after Kubernetes RBAC.
func (c *ManagedCluster) AzureRBAC() bool { return c.AAD != nil && c.AAD.EnableAzureRBAC }

// provisionedInstanceType is AKS Arc's provisioned cluster instance.
const provisionedInstanceType = "Microsoft.HybridContainerService/provisionedClusterInstances"

// clusterJSON is both shapes' fields.
type clusterJSON struct {
	Kind       string       `json:"kind"`
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Type       string       `json:"type"`
	Location   string       `json:"location"`
	Properties *clusterJSON `json:"properties"`
	Identity   *struct {
		Type string `json:"type"`
	} `json:"identity"`

	DisableLocalAccounts *bool            `json:"disableLocalAccounts"`
	EnableRBAC           *bool            `json:"enableRbac"`
	AADProfile           *AADProfile      `json:"aadProfile"`
	APIServer            *APIServerAccess `json:"apiServerAccessProfile"`
	PublicNetworkAccess  string           `json:"publicNetworkAccess"`
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
	AddonProfiles map[string]struct {
		Enabled  bool `json:"enabled"`
		Identity *struct {
			ObjectID string `json:"objectId"`
		} `json:"identity"`
	} `json:"addonProfiles"`
	PodIdentity *struct {
		Enabled    bool                   `json:"enabled"`
		Exceptions []PodIdentityException `json:"userAssignedIdentityExceptions"`
	} `json:"podIdentityProfile"`
	NetworkProfile *struct {
		NetworkPolicy      string `json:"networkPolicy"`
		PodLinkLocalAccess string `json:"podLinkLocalAccess"`
	} `json:"networkProfile"`
}

// ParseManagedCluster reads one managed (or connected) cluster as az aks
// show gives it (flattened) or as ARM's GET does (under properties).
func ParseManagedCluster(data []byte) (*ManagedCluster, error) {
	var c clusterJSON
	if err := json.Unmarshal(bytes.TrimLeft(data, "\ufeff"), &c); err != nil {
		return nil, err
	}
	if p := c.Properties; p != nil {
		// ARM's shape: the settings under properties.
		p.ID, p.Name, p.Type, p.Location, p.Identity, p.Kind = c.ID, c.Name, c.Type, c.Location, c.Identity, c.Kind
		c = *p
	}
	provisioned := strings.EqualFold(c.Kind, "ProvisionedCluster")
	if strings.EqualFold(c.Type, provisionedInstanceType) {
		// AKS Arc's provisioned cluster instance (az aksarc show): its
		// connected cluster is the cluster, the resource it extends.
		i := strings.Index(strings.ToLower(c.ID), "/providers/microsoft.hybridcontainerservice/")
		if i < 0 {
			return nil, fmt.Errorf("the provisioned cluster instance's id %q names no connected cluster", c.ID)
		}
		c.ID, c.Type, provisioned = c.ID[:i], "Microsoft.Kubernetes/connectedClusters", true
		c.Name = c.ID[strings.LastIndexByte(c.ID, '/')+1:]
	}
	if l := strings.ToLower(c.ID); !strings.HasPrefix(l, "/subscriptions/") ||
		!strings.Contains(l, "/providers/microsoft.containerservice/managedclusters/") && !strings.Contains(l, "/providers/microsoft.kubernetes/connectedclusters/") {
		return nil, fmt.Errorf("the cluster's id %q is not a cluster's resource id", c.ID)
	}
	m := &ManagedCluster{ID: strings.TrimSuffix(c.ID, "/"), Name: c.Name, Type: c.Type, Location: c.Location,
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
	for name, a := range c.AddonProfiles {
		if a.Enabled && a.Identity != nil && a.Identity.ObjectID != "" {
			if m.AddonIdentities == nil {
				m.AddonIdentities = map[string]string{}
			}
			m.AddonIdentities[name] = a.Identity.ObjectID
		}
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
		m.PodIdentityExceptionList = pi.Exceptions
	}
	if np := c.NetworkProfile; np != nil {
		m.NetworkPolicy, m.PodLinkLocalAccess = np.NetworkPolicy, np.PodLinkLocalAccess
	}
	m.ProvisionedCluster = provisioned && m.Arc()
	if m.Arc() {
		// A connected cluster has no local accounts of AKS's kind: its
		// credentials are listClusterUserCredential's (Entra or a token).
		m.DisableLocalAccounts = true
	}
	return m, nil
}
