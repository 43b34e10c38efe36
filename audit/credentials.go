package audit

import (
	"fmt"

	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The credentials family: the kubeconfig the audit runs with, inspected by
// package auth. Checked on live audits only (offline input has no
// kubeconfig of its own).

func init() {
	register(
		Rule{Name: "static-admin-credential", Category: CategoryCredentials, Severity: Critical,
			Title: "The kubeconfig signs in with a local account that bypasses Entra ID",
			Why: "A client certificate or static token is checked by the API server alone: Conditional Access, MFA and Entra group changes do not apply, " +
				"and a certificate in system:masters (AKS clusterAdmin_ users) holds every right until the cluster CA is rotated.",
			Fix:   "None as a manifest: sign in with Entra ID (az aks get-credentials without --admin, kubelogin) and disable local accounts (az aks update --disable-local-accounts).",
			check: checkLocalAccount},
		Rule{Name: "legacy-azure-auth-provider", Category: CategoryCredentials, Severity: High,
			Title: "The kubeconfig uses the azure auth-provider removed in Kubernetes 1.26",
			Why:   "kubectl and client-go 1.26+ cannot use it: sign-in fails, and older clients keep long-lived refresh tokens in the kubeconfig.",
			Fix:   "None as a manifest: run kubelogin convert-kubeconfig -l azurecli (or the login mode you use).",
			check: checkLegacyAzure},
		Rule{Name: "token-in-kubeconfig", Category: CategoryCredentials, Severity: High,
			Title: "A bearer token or password is written in the kubeconfig",
			Why:   "Whoever reads the file (a backup, a shared home, a CI log) holds the credential until it is revoked.",
			Fix:   "None as a manifest: use an exec plugin that fetches short-lived tokens (kubelogin) and revoke the written one.",
			check: checkTokenInKubeconfig},
		Rule{Name: "insecure-tls", Category: CategoryCredentials, Severity: High,
			Title: "The kubeconfig skips TLS verification of the API server",
			Why:   "With insecure-skip-tls-verify anyone on the network path can pose as the API server and receive the credential.",
			Fix:   "None as a manifest: set certificate-authority-data to the cluster's CA and remove insecure-skip-tls-verify.",
			check: checkInsecureTLS},
		Rule{Name: "kubeconfig-permissions", Category: CategoryCredentials, Severity: High,
			Title: "The kubeconfig file is readable by other users",
			Why:   "A kubeconfig that holds a key or token gives it to every user who can read the file.",
			Fix:   "None as a manifest: chmod 600 the file.",
			check: checkKubeconfigPermissions},
	)
}

func (c *checker) credentialFinding(sev Severity, msg string) {
	cr := c.opts.Credential
	c.add(Finding{Severity: sev, Objects: []rbac.ObjectRef{{APIVersion: "v1", Kind: "Config", Name: cr.Context}},
		Message: fmt.Sprintf("context %s (user %s, %s): %s", cr.Context, cr.User, cr.Kubeconfig, msg)})
}

func checkLocalAccount(c *checker) {
	cr := c.opts.Credential
	switch {
	case cr == nil || !cr.LocalAccount:
	case cr.BreakGlass:
		c.credentialFinding(Critical, fmt.Sprintf("a client certificate for %s in group system:masters: every right, no RBAC, no revocation short of rotating the CA", cr.CertificateCN))
	case len(cr.User) > len("clusterAdmin_") && cr.User[:len("clusterAdmin_")] == "clusterAdmin_":
		c.credentialFinding(Critical, "the AKS local admin account (az aks get-credentials --admin)")
	default:
		c.credentialFinding(Medium, fmt.Sprintf("a local account (%s) outside Entra ID", cr.Method))
	}
}

func checkLegacyAzure(c *checker) {
	if cr := c.opts.Credential; cr != nil && cr.Method == identity.AzureAuthProvider {
		c.credentialFinding(High, "the azure auth-provider, removed in Kubernetes 1.26: run `kubelogin convert-kubeconfig -l azurecli`")
	}
}

func checkTokenInKubeconfig(c *checker) {
	if cr := c.opts.Credential; cr != nil && cr.HoldsSecret && (cr.Method == identity.StaticToken || cr.Method == identity.BasicAuth) {
		c.credentialFinding(High, fmt.Sprintf("a %s is written in the file", map[identity.Method]string{identity.StaticToken: "bearer token", identity.BasicAuth: "password"}[cr.Method]))
	}
}

func checkInsecureTLS(c *checker) {
	if cr := c.opts.Credential; cr != nil && cr.InsecureTLS {
		c.credentialFinding(High, "insecure-skip-tls-verify: the API server's certificate is not checked")
	}
}

func checkKubeconfigPermissions(c *checker) {
	cr := c.opts.Credential
	if cr == nil || !cr.ReadableByOthers {
		return
	}
	if cr.HoldsSecret {
		c.credentialFinding(High, fmt.Sprintf("the file holds a secret and is readable by others (mode %s): chmod 600 %s", cr.FileMode, cr.Kubeconfig))
	} else {
		c.credentialFinding(Low, fmt.Sprintf("the file is readable by others (mode %s): chmod 600 %s", cr.FileMode, cr.Kubeconfig))
	}
}
