package azurerbac

import "strings"

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
	// KubeletIdentity is identityProfile.kubeletidentity's object id.
	KubeletIdentity string `json:"kubeletIdentityObjectId,omitempty"`
	// NodeResourceGroup holds the nodes' VMs; its restriction level
	// (nodeResourceGroupProfile.restrictionLevel: Unrestricted, ReadOnly).
	NodeResourceGroup            string `json:"nodeResourceGroup,omitempty"`
	NodeResourceGroupRestriction string `json:"nodeResourceGroupRestriction,omitempty"`
	OIDCIssuerURL                string `json:"oidcIssuerUrl,omitempty"`
	WorkloadIdentity             bool   `json:"workloadIdentity,omitempty"`
	Defender                     bool   `json:"defender,omitempty"`
	KMS                          bool   `json:"kms,omitempty"`
	// SSHKeys is how many SSH public keys the Linux nodes accept.
	SSHKeys               int  `json:"sshKeys,omitempty"`
	PodIdentity           bool `json:"podIdentity,omitempty"`
	PodIdentityExceptions int  `json:"podIdentityExceptions,omitempty"`
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
