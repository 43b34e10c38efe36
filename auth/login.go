package auth

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// AKSClientID is the public client the Azure CLI and kubelogin use to sign
// users in to AKS.
const AKSClientID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"

// LoginModes are kubelogin's login modes --login accepts.
var LoginModes = []string{"devicecode", "interactive", "azurecli", "spn", "msi", "workloadidentity"}

// Login is --login and its companions: sign in to the cluster with
// kubelogin without converting the kubeconfig on disk.
type Login struct {
	Mode          string
	ServerID      string
	TenantID      string
	ClientID      string
	AuthorityHost string
	// UseExec forces the kubelogin exec plugin for the modes that can run
	// in-process.
	UseExec bool
	// Timeout bounds each in-process sign-in (--timeout).
	Timeout time.Duration
}

// Validate checks the mode and fills in AKS's defaults: the AKS server
// id, and the AKS public client for user logins.
func (l *Login) Validate() error {
	if !slices.Contains(LoginModes, l.Mode) {
		return fmt.Errorf("--login %q: use one of %s", l.Mode, strings.Join(LoginModes, ", "))
	}
	if l.ServerID == "" {
		l.ServerID = AKSServerID
	}
	switch l.Mode {
	case "devicecode", "interactive":
		if l.ClientID == "" {
			l.ClientID = AKSClientID
		}
		if l.TenantID == "" {
			return fmt.Errorf("--login %s needs --tenant-id (your Entra tenant)", l.Mode)
		}
	case "spn":
		if l.ClientID == "" || l.TenantID == "" {
			return fmt.Errorf("--login spn needs --client-id and --tenant-id (the secret comes from AAD_SERVICE_PRINCIPAL_CLIENT_SECRET or AZURE_CLIENT_SECRET)")
		}
	}
	if l.AuthorityHost != "" && !strings.HasPrefix(l.AuthorityHost, "https://") {
		return fmt.Errorf("--authority-host %q: must be an https URL", l.AuthorityHost)
	}
	return nil
}

// Exec is the exec plugin `kubelogin convert-kubeconfig -l MODE` would
// write for this login (with --authority-host, also
// --disable-instance-discovery, as a sovereign or private authority
// needs). Secrets never go into it: kubelogin reads them from its
// environment variables.
func (l *Login) Exec() *clientcmdapi.ExecConfig {
	args := []string{"get-token", "--login", l.Mode, "--server-id", l.ServerID}
	if l.ClientID != "" {
		args = append(args, "--client-id", l.ClientID)
	}
	if l.TenantID != "" {
		args = append(args, "--tenant-id", l.TenantID)
	}
	if l.AuthorityHost != "" {
		args = append(args, "--authority-host", strings.TrimSuffix(l.AuthorityHost, "/")+"/", "--disable-instance-discovery")
	}
	mode := clientcmdapi.NeverExecInteractiveMode
	if l.Mode == "devicecode" || l.Mode == "interactive" {
		mode = clientcmdapi.IfAvailableExecInteractiveMode
	}
	return &clientcmdapi.ExecConfig{
		APIVersion:      "client.authentication.k8s.io/v1beta1",
		Command:         "kubelogin",
		Args:            args,
		InteractiveMode: mode,
		InstallHint: "\nkubelogin is not installed; it signs in to Entra ID clusters (--login " + l.Mode + ").\n" +
			"Install it with `az aks install-cli`, `brew install Azure/kubelogin/kubelogin` or from https://azure.github.io/kubelogin/\n",
	}
}

// Apply makes cfg sign in with this login instead of the kubeconfig
// user's credentials: the cluster (server, CA) stays, every other
// credential goes. The non-interactive modes (spn, msi, workloadidentity)
// run kubelogin's Go package in-process, so no kubelogin binary is needed;
// the others run the kubelogin exec plugin.
func (l *Login) Apply(cfg *rest.Config) *rest.Config {
	if c, ok := l.applyInProcess(cfg); ok {
		return c
	}
	c := rest.AnonymousClientConfig(cfg)
	c.ExecProvider = l.Exec()
	c.Impersonate = cfg.Impersonate
	return c
}

// Describe updates an inspected credential for the in-memory login.
func (l *Login) Describe(c *identity.Credential) {
	*c = identity.Credential{Kubeconfig: c.Kubeconfig, Context: c.Context, Cluster: c.Cluster, Server: c.Server, User: c.User,
		InsecureTLS: c.InsecureTLS, FileMode: c.FileMode, ReadableByOthers: c.ReadableByOthers,
		Method: identity.Kubelogin, Command: "kubelogin", Login: l.Mode, ServerID: l.ServerID, TenantID: l.TenantID, ClientID: l.ClientID}
	how := "the kubelogin exec plugin"
	if l.InProcess() {
		c.Command = ""
		how = "kubelogin's Go package, in-process (no kubelogin binary needed)"
	}
	c.Notes = append(c.Notes, fmt.Sprintf("Entra ID (login %s) through %s, from --login: the kubeconfig on disk is unchanged", l.Mode, how))
}
