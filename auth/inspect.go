// Package auth knows how the kubeconfig signs in: it inspects the
// credential of the context in use (kubelogin and other exec plugins, the
// legacy azure auth-provider, client certificates, static tokens), asks the
// API server who it sees (SelfSubjectReview), and turns Entra group object
// ids into names. It never prints or logs a token or a key.
package auth

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// AKSServerID is the Entra application id of the AKS API server (the
// audience kubelogin asks tokens for).
const AKSServerID = "6dae42f8-4368-4678-94ff-3960e28e3630"

// Inspect describes the credential of context (the current one when
// empty) in cfg. files are the kubeconfig files cfg was merged from, for
// the permission check.
func Inspect(cfg *clientcmdapi.Config, context string, files []string) (*identity.Credential, error) {
	if context == "" {
		context = cfg.CurrentContext
	}
	ctx, ok := cfg.Contexts[context]
	if !ok {
		if context == "" {
			return nil, fmt.Errorf("the kubeconfig has no current context: pass --context")
		}
		return nil, fmt.Errorf("context %q is not in the kubeconfig", context)
	}
	c := &identity.Credential{Context: context, Cluster: ctx.Cluster, User: ctx.AuthInfo}
	if cl := cfg.Clusters[ctx.Cluster]; cl != nil {
		c.Server, c.InsecureTLS = cl.Server, cl.InsecureSkipTLSVerify
		if c.InsecureTLS {
			c.Notes = append(c.Notes, "insecure-skip-tls-verify is set: the server's certificate is not checked, so anyone on the path can impersonate it and read the credential")
		}
	}
	u := cfg.AuthInfos[ctx.AuthInfo]
	if u == nil {
		u = &clientcmdapi.AuthInfo{}
	}
	c.Kubeconfig = u.LocationOfOrigin
	if c.Kubeconfig == "" && len(files) == 1 {
		c.Kubeconfig = files[0]
	}
	inspectUser(c, u)
	if strings.HasPrefix(c.User, "clusterAdmin_") || strings.HasPrefix(c.User, "clusterUser_") {
		if c.Method == identity.ClientCertificate || c.Method == identity.StaticToken {
			c.LocalAccount = true
			if strings.HasPrefix(c.User, "clusterAdmin_") {
				c.Notes = append(c.Notes, "an AKS local admin account (az aks get-credentials --admin): it bypasses Entra ID, and only disabling local accounts on the cluster revokes it")
			}
		}
	}
	checkFile(c)
	return c, nil
}

func inspectUser(c *identity.Credential, u *clientcmdapi.AuthInfo) {
	switch {
	case u.Exec != nil:
		c.Method, c.Command = identity.ExecPlugin, u.Exec.Command
		base := strings.TrimSuffix(strings.ToLower(filepath.Base(strings.ReplaceAll(u.Exec.Command, `\`, "/"))), ".exe")
		if isKubelogin(u.Exec.Command) {
			c.Method = identity.Kubelogin
			c.Login = "devicecode" // kubelogin's default
			c.ServerID, c.TenantID, c.ClientID = flag(u.Exec.Args, "--server-id"), flag(u.Exec.Args, "--tenant-id"), flag(u.Exec.Args, "--client-id")
			if l := flag(u.Exec.Args, "--login", "-l"); l != "" {
				c.Login = l
			}
			c.PoP = slices.Contains(u.Exec.Args, "--pop-enabled")
			for _, e := range u.Exec.Env {
				if e.Name == "AAD_LOGIN_METHOD" && c.Login == "devicecode" && flag(u.Exec.Args, "--login", "-l") == "" {
					c.Login = e.Value
				}
			}
			c.Notes = append(c.Notes, fmt.Sprintf("Entra ID through kubelogin (login %s)", c.Login))
		} else if base == "kubectl-adsso" {
			// Get-AksHciCredential -adAuth writes it; the plugin (Kubectl-adsso.exe,
			// from $env:ProgramFiles\AksHci) hands kubectl the Windows sign-in's
			// Kerberos ticket (https://learn.microsoft.com/azure/aks/hybrid/ad-sso).
			c.Method = identity.ADSSO
			c.Notes = append(c.Notes, ADSSONote+": the kubeconfig holds no secret; AD users and groups reach RBAC as microsoft:activedirectory:DOMAIN\\name or SIDs")
		} else {
			c.Notes = append(c.Notes, fmt.Sprintf("exec plugin %s signs in (its own prompts and errors are shown as it prints them)", base))
		}
	case u.AuthProvider != nil && u.AuthProvider.Name == "azure":
		c.Method = identity.AzureAuthProvider
		cfg := u.AuthProvider.Config
		c.ServerID, c.TenantID, c.ClientID = cfg["apiserver-id"], cfg["tenant-id"], cfg["client-id"]
		c.Notes = append(c.Notes, "the azure auth-provider was removed from kubectl and client-go in 1.26: convert the kubeconfig to kubelogin with `kubelogin convert-kubeconfig -l azurecli` (or the login mode you use)")
	case u.AuthProvider != nil && u.AuthProvider.Name == "oidc":
		c.Method = identity.OIDCAuthProvider
		c.ClientID = u.AuthProvider.Config["client-id"]
		c.Notes = append(c.Notes, "the oidc auth-provider is deprecated in client-go: use an exec plugin such as kubelogin (int128/kubelogin for generic OIDC)")
	case len(u.ClientCertificateData) > 0 || u.ClientCertificate != "":
		c.Method, c.LocalAccount, c.HoldsSecret = identity.ClientCertificate, true, len(u.ClientKeyData) > 0
		data := u.ClientCertificateData
		if len(data) == 0 {
			data, _ = os.ReadFile(u.ClientCertificate)
		}
		if cert := parseCert(data); cert != nil {
			c.CertificateCN, c.CertificateOrgs, c.CertificateNotAfter = cert.Subject.CommonName, cert.Subject.Organization, cert.NotAfter
			if slices.Contains(cert.Subject.Organization, "system:masters") {
				c.BreakGlass = true
				c.Notes = append(c.Notes, fmt.Sprintf("a client certificate in group system:masters (valid until %s): it holds every right, bypasses RBAC, and cannot be revoked short of rotating the cluster CA", cert.NotAfter.Format(time.DateOnly)))
			} else {
				c.Notes = append(c.Notes, fmt.Sprintf("a client certificate for %s (valid until %s): a local account outside Entra ID", cert.Subject.CommonName, cert.NotAfter.Format(time.DateOnly)))
			}
		}
	case u.Token != "" || u.TokenFile != "":
		c.Method, c.LocalAccount, c.HoldsSecret = identity.StaticToken, true, u.Token != ""
		if u.Token != "" {
			c.Notes = append(c.Notes, "a bearer token is written in the kubeconfig: whoever reads the file holds it until it expires or is revoked")
		} else {
			c.Notes = append(c.Notes, "a bearer token is read from "+u.TokenFile)
		}
	case u.Username != "" || u.Password != "":
		c.Method, c.LocalAccount, c.HoldsSecret = identity.BasicAuth, true, u.Password != ""
		c.Notes = append(c.Notes, "basic authentication (removed from Kubernetes in 1.19): the password is written in the kubeconfig")
	default:
		c.Method = identity.Anonymous
	}
}

// flag returns the value of a flag in args (--f v or --f=v).
func flag(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v
			}
		}
	}
	return ""
}

func parseCert(data []byte) *x509.Certificate {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil
	}
	return cert
}

// checkFile records the kubeconfig's permissions: a file readable by
// group or others shares whatever credential it holds.
func checkFile(c *identity.Credential) {
	if c.Kubeconfig == "" {
		return
	}
	st, err := os.Stat(c.Kubeconfig)
	if err != nil {
		return
	}
	c.FileMode = fmt.Sprintf("%04o", st.Mode().Perm())
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o044 != 0 {
		c.ReadableByOthers = true
		if c.HoldsSecret {
			c.Notes = append(c.Notes, fmt.Sprintf("%s holds a secret and is readable by others (mode %s): chmod 600 %s", c.Kubeconfig, c.FileMode, c.Kubeconfig))
		} else {
			c.Notes = append(c.Notes, fmt.Sprintf("%s is readable by others (mode %s): chmod 600 %s", c.Kubeconfig, c.FileMode, c.Kubeconfig))
		}
	}
}

// isKubelogin says whether an exec plugin command is kubelogin.
func isKubelogin(command string) bool {
	base := strings.TrimSuffix(filepath.Base(strings.ReplaceAll(command, `\`, "/")), ".exe")
	return base == "kubelogin" || base == "kubectl-kubelogin"
}
