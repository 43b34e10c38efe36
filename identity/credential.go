package identity

import "time"

// Method is how a kubeconfig user signs in.
type Method string

const (
	Kubelogin         Method = "kubelogin"           // the Entra ID exec plugin
	ADSSO             Method = "ad-sso"              // AKS hybrid's Active Directory single sign-on: kubectl-adsso, Kerberos
	ExecPlugin        Method = "exec"                // another exec plugin (cloud CLIs)
	AzureAuthProvider Method = "azure-auth-provider" // removed from kubectl in 1.26
	OIDCAuthProvider  Method = "oidc-auth-provider"
	ClientCertificate Method = "client-certificate"
	StaticToken       Method = "token"
	BasicAuth         Method = "basic-auth"
	Anonymous         Method = "none"
)

// Credential is what the kubeconfig's current context signs in with. No
// field holds a secret.
type Credential struct {
	Kubeconfig string `json:"kubeconfig,omitempty"` // the file the user comes from
	Context    string `json:"context"`
	Cluster    string `json:"cluster"`
	User       string `json:"user"`
	Server     string `json:"server,omitempty"`
	Method     Method `json:"method"`

	// Exec plugins: the command; for kubelogin its login mode and ids.
	Command  string `json:"command,omitempty"`
	Login    string `json:"login,omitempty"`
	ServerID string `json:"serverId,omitempty"`
	TenantID string `json:"tenantId,omitempty"`
	ClientID string `json:"clientId,omitempty"`
	PoP      bool   `json:"pop,omitempty"`

	// Client certificates: who the certificate says it is.
	CertificateCN       string    `json:"certificateCommonName,omitempty"`
	CertificateOrgs     []string  `json:"certificateOrganizations,omitempty"`
	CertificateNotAfter time.Time `json:"certificateNotAfter,omitzero"`

	// LocalAccount: the credential bypasses Entra/AD (an AKS
	// clusterAdmin_/clusterUser_ user, a client certificate, a static
	// token). BreakGlass: it carries system:masters, which no RBAC change
	// can revoke.
	LocalAccount bool `json:"localAccount,omitempty"`
	BreakGlass   bool `json:"breakGlass,omitempty"`

	// HoldsSecret: the kubeconfig itself holds the secret (a client key,
	// a token, a password), so reading the file is holding the credential.
	HoldsSecret bool `json:"holdsSecret,omitempty"`

	InsecureTLS bool `json:"insecureSkipTLSVerify,omitempty"`
	// FileMode is the kubeconfig file's permission bits; ReadableByOthers
	// says group or others may read it.
	FileMode         string `json:"fileMode,omitempty"`
	ReadableByOthers bool   `json:"readableByOthers,omitempty"`

	// Notes explain what was found, in words, with the fix where there is
	// one.
	Notes []string `json:"notes,omitempty"`
}
