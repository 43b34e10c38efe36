package audit_test

import (
	"github.com/kubectl-access/kubectl-access/audit"

	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// credentialExpectations: the kubeconfig's context (as "Config CONTEXT")
// that each credentials rule must report, and one it must not.
var credentialExpectations = []expectation{
	{"static-admin-credential", "Config contoso-admin", "Config contoso"},
	{"legacy-azure-auth-provider", "Config legacy", "Config contoso"},
	{"token-in-kubeconfig", "Config lab", "Config contoso"},
	{"insecure-tls", "Config lab", "Config contoso"},
	{"kubeconfig-permissions", "Config contoso-admin", "Config legacy"},
}

// TestCredentialRules audits an empty cluster with each kubeconfig of
// package auth's test data, copied with the mode under test.
func TestCredentialRules(t *testing.T) {
	ix := rbac.NewIndex(rbac.NewSnapshot())
	rep := &audit.Report{}
	for _, tc := range []struct {
		file, context string
		mode          os.FileMode
	}{
		{"aks-admin.yaml", "contoso-admin", 0o644},
		{"aks-user.yaml", "contoso", 0o644}, // readable, but holds no secret: low, not the near miss's rule
		{"legacy-azure.yaml", "legacy", 0o600},
		{"static-token.yaml", "lab", 0o600},
	} {
		b, err := os.ReadFile(filepath.Join("..", "auth", "testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(p, b, tc.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		cfg, err := clientcmd.LoadFromFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// The test data names contexts after clusters; give each its own.
		if tc.context != cfg.CurrentContext {
			cfg.Contexts[tc.context] = cfg.Contexts[cfg.CurrentContext]
			cfg.CurrentContext = tc.context
		}
		cred, err := auth.Inspect(cfg, "", []string{p})
		if err != nil {
			t.Fatal(err)
		}
		r := audit.Run(ix, audit.Options{Credential: cred})
		rep.Findings = append(rep.Findings, r.Findings...)
	}
	expect(t, "credentials", rep, credentialExpectations)
	// aks-user.yaml is readable by others but holds no secret: reported,
	// at low.
	for _, f := range rep.Findings {
		if f.Rule == "kubeconfig-permissions" && names(&f, "Config contoso") && f.Severity != audit.Low {
			t.Errorf("a readable kubeconfig without a secret: %s, want low", f.Severity)
		}
	}
}
