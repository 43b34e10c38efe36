package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func load(t *testing.T, path string) *identity.Credential {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Inspect(cfg, "", []string{path})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInspectKubeconfigShapes(t *testing.T) {
	for _, tc := range []struct {
		file   string
		method identity.Method
		login  string
		check  func(*identity.Credential) bool
		note   string
	}{
		{"aks-user.yaml", identity.Kubelogin, "devicecode", func(c *identity.Credential) bool {
			return c.ServerID == AKSServerID && c.TenantID == "72f988bf-86f1-41af-91ab-2d7cd011db47" && c.ClientID == "80faf920-1908-4b52-b5ef-a8e7bedfc67a" && !c.LocalAccount
		}, "Entra ID through kubelogin (login devicecode)"},
		{"converted-azurecli.yaml", identity.Kubelogin, "azurecli", nil, "login azurecli"},
		{"converted-spn.yaml", identity.Kubelogin, "spn", nil, "login spn"},
		{"converted-msi.yaml", identity.Kubelogin, "msi", nil, "login msi"},
		{"converted-workloadidentity.yaml", identity.Kubelogin, "workloadidentity", nil, "login workloadidentity"},
		{"converted-interactive.yaml", identity.Kubelogin, "interactive", nil, "login interactive"},
		{"converted-pop.yaml", identity.Kubelogin, "spn", func(c *identity.Credential) bool {
			return c.PoP && c.ClientID == "11111111-2222-3333-4444-555555555555"
		}, "login spn"},
		{"legacy-azure.yaml", identity.AzureAuthProvider, "", func(c *identity.Credential) bool { return c.ServerID == AKSServerID }, "kubelogin convert-kubeconfig"},
		{"aks-hybrid-ad.yaml", identity.ADSSO, "", func(c *identity.Credential) bool { return !c.LocalAccount && !c.HoldsSecret }, "Active Directory single sign-on (AKS hybrid, kubectl-adsso, Kerberos)"},
		{"static-token.yaml", identity.StaticToken, "", func(c *identity.Credential) bool { return c.LocalAccount && c.HoldsSecret && c.InsecureTLS }, "insecure-skip-tls-verify"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := load(t, filepath.Join("testdata", tc.file))
			if c.Method != tc.method || c.Login != tc.login {
				t.Errorf("method %s login %q, want %s %q", c.Method, c.Login, tc.method, tc.login)
			}
			if tc.check != nil && !tc.check(c) {
				t.Errorf("unexpected %+v", c)
			}
			if !strings.Contains(strings.Join(c.Notes, "\n"), tc.note) {
				t.Errorf("notes %q lack %q", c.Notes, tc.note)
			}
		})
	}
}

// writeCertKubeconfig writes an AKS-style client-certificate kubeconfig
// with the given user name and certificate organizations.
func writeCertKubeconfig(t *testing.T, user string, orgs []string, mode os.FileMode) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "masterclient", Organization: orgs},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(2 * 365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["aks"] = &clientcmdapi.Cluster{Server: "https://contoso.hcp.westeurope.azmk8s.io:443"}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{
		ClientCertificateData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		ClientKeyData:         pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
	}
	cfg.Contexts["aks-admin"] = &clientcmdapi.Context{Cluster: "aks", AuthInfo: user}
	cfg.CurrentContext = "aks-admin"
	p := filepath.Join(t.TempDir(), "config")
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInspectClientCertificates(t *testing.T) {
	admin := load(t, writeCertKubeconfig(t, "clusterAdmin_rg-contoso_contoso", []string{"system:masters"}, 0o644))
	if admin.Method != identity.ClientCertificate || !admin.BreakGlass || !admin.LocalAccount || !admin.HoldsSecret || admin.CertificateCN != "masterclient" {
		t.Errorf("AKS admin kubeconfig: %+v", admin)
	}
	if !admin.ReadableByOthers || admin.FileMode != "0644" {
		t.Errorf("mode 0644 not flagged: %+v", admin)
	}
	user := load(t, writeCertKubeconfig(t, "clusterUser_rg-contoso_contoso", []string{"system:authenticated"}, 0o600))
	if user.BreakGlass || !user.LocalAccount || user.ReadableByOthers {
		t.Errorf("AKS local user kubeconfig: %+v", user)
	}
	for _, c := range []*identity.Credential{admin, user} {
		for _, n := range c.Notes {
			if strings.Contains(n, "PRIVATE KEY") || strings.Contains(n, "BEGIN") {
				t.Errorf("a note carries key material: %q", n)
			}
		}
	}
}

func TestInspectErrors(t *testing.T) {
	cfg := clientcmdapi.NewConfig()
	if _, err := Inspect(cfg, "", nil); err == nil || !strings.Contains(err.Error(), "--context") {
		t.Errorf("no current context: %v", err)
	}
	if _, err := Inspect(cfg, "nope", nil); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown context: %v", err)
	}
}

// TestADSSO: an AKS hybrid AD kubeconfig is recognised whatever the
// plugin's path, case or .exe, and whoami's document says who the AD
// caller is (the SelfSubjectReview's answer is given here: no Kerberos in
// tests).
func TestADSSO(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "aks-hybrid-ad.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, command := range []string{`C:\adsso\Kubectl-adsso.exe`, "/usr/local/bin/kubectl-adsso", "kubectl-adsso"} {
		p := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), `C:\adsso\kubectl-adsso.exe`, command, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
		if c := load(t, p); c.Method != identity.ADSSO || c.Command != command {
			t.Errorf("%s: method %s, command %s", command, c.Method, c.Command)
		}
	}
	cred := load(t, filepath.Join("testdata", "aks-hybrid-ad.yaml"))
	const sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
	for _, tc := range []struct {
		name string
		user User
		cred *identity.Credential
		want *ADIdentity
	}{
		{"named", User{Username: `microsoft:activedirectory:CONTOSO\alice`, Groups: []Group{{ID: sid}, {ID: "system:authenticated"}}}, cred,
			&ADIdentity{Domain: "CONTOSO", Account: "alice", SignIn: true, SIDGroups: 1}},
		{"a SID", User{Username: "microsoft:activedirectory:" + sid}, nil, &ADIdentity{SID: sid}},
		{"kubectl-adsso, any name", User{Username: "alice"}, cred, &ADIdentity{SignIn: true}},
		{"Entra", User{Username: "alice@contoso.com", Groups: []Group{{ID: "0d1b1bd6-52b4-4d2c-9a0e-2d5b8f7c1a11"}}}, nil, nil},
	} {
		got := ActiveDirectoryOf(&tc.user, tc.cred)
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
