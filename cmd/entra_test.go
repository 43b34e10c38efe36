package cmd

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/testkit/entratest"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
)

// TestEntraSignIn signs in end to end as AKS clusters have it: an
// Entra-shaped issuer on loopback (HTTPS, v2.0 discovery, JWKS, a v2 token
// endpoint), an API server trusting it through a structured authentication
// configuration with AKS's claim mappings (username from upn, groups from
// groups, uid from oid, oid also as extra), and kubelogin's real code
// (built from its Go module) fetching the token as the exec plugin that
// --login sets up in memory. whoami shows the UPN, the oid and the group
// ids (with names from --group-names); a RoleBinding to one group grants
// exactly what `can` predicts, as kubectl, signed in the same way, finds;
// and no output carries the token.
func TestEntraSignIn(t *testing.T) {
	ctx := t.Context()
	const (
		tenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		audience = auth.AKSServerID
		appID    = "5a1d7c1e-0000-4000-8000-00000000a991"
		secret   = "entra-test-client-secret"
		oid      = "0b5a1a8c-1c3d-4e5f-9a8b-7c6d5e4f3a2b"
		teamA    = "6f1b2c3d-0000-4000-8000-00000000000a"
		teamB    = "6f1b2c3d-0000-4000-8000-00000000000b"
	)
	is, err := entratest.Start(tenant, audience, map[string]entratest.Client{
		appID: {Secret: secret, Identity: entratest.Identity{UPN: "alice@contoso.com", OID: oid, Groups: []string{teamA, teamB}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	// A second issuer for the in-process sign-in (kubelogin's Go package):
	// its public options cannot turn off MSAL's instance discovery, which
	// would ask login.microsoftonline.com about a loopback authority;
	// azidentity skips discovery for the tenant "adfs", so this issuer
	// serves that tenant.
	adfs, err := entratest.Start("adfs", audience, map[string]entratest.Client{
		appID: {Secret: secret, Identity: entratest.Identity{UPN: "bob@contoso.com", OID: "9c1d7c1e-0000-4000-8000-0000000000b0", Groups: []string{teamB}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer adfs.Close()

	dir := t.TempDir()
	c, caFile := entraCluster(t, dir, audience, is, adfs)
	defer c.Stop()
	bin, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"kubelogin", "kubectl"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			t.Fatalf("%s is not built: run make controlplane (%v)", b, err)
		}
	}
	// kubelogin is found on PATH, trusts the issuer through SSL_CERT_FILE,
	// reads the secret from its environment, and caches under HOME.
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("SSL_CERT_FILE", caFile)
	t.Setenv("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", secret)
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv("KUBECACHEDIR", filepath.Join(dir, "home", "cache"))

	login := []string{"--kubeconfig=" + c.Kubeconfig, "--login", "spn", "--server-id", audience, "--tenant-id", tenant,
		"--client-id", appID, "--authority-host", is.Authority(), "--login-exec"}
	names := filepath.Join(dir, "groups.json")
	if err := os.WriteFile(names, fmt.Appendf(nil, `[{"id": %q, "displayName": "Team A"}]`, teamA), 0o600); err != nil {
		t.Fatal(err)
	}
	var outputs []string
	js, errOut, code := run(t, append([]string{"whoami", "-o", "json", "--group-names", names}, login...)...)
	outputs = append(outputs, js, errOut)
	var who auth.WhoAmI
	if err := json.Unmarshal([]byte(js), &who); err != nil || code != ExitOK {
		t.Fatalf("whoami --login spn: code %d, %v\n%s\n%s\nissuer saw %v", code, err, js, errOut, is.Requests)
	}
	groups := map[string]string{}
	for _, g := range who.User.Groups {
		groups[g.ID] = g.Name
	}
	if who.User.Username != "alice@contoso.com" || who.User.UID != oid || !slices.Equal(who.User.Extra["kubectl-access.io/oid"], []string{oid}) ||
		groups[teamA] != "Team A" || len(groups) < 2 || who.Credential == nil || who.Credential.Method != identity.Kubelogin || who.Credential.Login != "spn" ||
		who.Token == nil || who.Token.Issuer != is.URL() {
		t.Errorf("whoami: %+v\ncredential %+v\ntoken %+v", who.User, who.Credential, who.Token)
	}
	if len(is.Issued()) == 0 {
		t.Fatal("the issuer issued no token: kubelogin did not sign in")
	}
	// Names from Graph, with a Graph token from the same kubelogin sign-in.
	is.GroupNames = map[string]string{teamB: "Team B"}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(is.CAPEM())
	graph := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	js, errOut, code = runWith(t, func(r *RootOptions) { r.HTTPClient = graph }, append([]string{"whoami", "-o", "json", "--resolve-groups", "--graph-url", is.Authority()}, login...)...)
	outputs = append(outputs, js, errOut)
	who = auth.WhoAmI{}
	if err := json.Unmarshal([]byte(js), &who); err != nil || code != ExitOK || !slices.ContainsFunc(who.User.Groups, func(g auth.Group) bool { return g.ID == teamB && g.Name == "Team B" }) {
		t.Errorf("whoami --resolve-groups: code %d %v\n%s\n%s", code, err, js, errOut)
	}
	if _, stderr, _ := run(t, "whoami", "--kubeconfig="+c.Kubeconfig, "--resolve-groups"); !strings.Contains(stderr, "--group-names") {
		t.Errorf("--resolve-groups without kubelogin: %q", stderr)
	}

	table, errOut, _ := run(t, append([]string{"whoami", "--group-names", names}, login...)...)
	outputs = append(outputs, table, errOut)
	if !strings.Contains(table, teamA+" (Team A)") || !strings.Contains(table, "kubelogin, login spn") {
		t.Errorf("whoami table:\n%s", table)
	}

	// In-process, through kubelogin's Go package, with no kubelogin on PATH.
	path := os.Getenv("PATH")
	t.Setenv("PATH", strings.TrimPrefix(path, bin+string(os.PathListSeparator)))
	js, errOut, code = run(t, "whoami", "-o", "json", "--kubeconfig="+c.Kubeconfig, "--login", "spn", "--server-id", audience,
		"--tenant-id", "adfs", "--client-id", appID, "--authority-host", adfs.Authority())
	outputs = append(outputs, js, errOut)
	who = auth.WhoAmI{}
	if err := json.Unmarshal([]byte(js), &who); err != nil || code != ExitOK || who.User.Username != "bob@contoso.com" ||
		who.Credential == nil || who.Credential.Command != "" || !strings.Contains(strings.Join(who.Credential.Notes, " "), "in-process") {
		t.Errorf("whoami --login spn in-process: code %d %v\n%s\n%s\nissuer saw %v", code, err, js, errOut, adfs.Requests)
	}
	if len(adfs.Issued()) == 0 {
		t.Error("the in-process sign-in got no token from the issuer")
	}
	t.Setenv("PATH", path)

	// A failed sign-in surfaces kubelogin's own message and exits 2. (An
	// unknown client: client-go reuses a credential an identical exec
	// config got earlier in the process.)
	bad := slices.Clone(login)
	bad[slices.Index(bad, appID)] = "00000000-0000-4000-8000-0000000000ff"
	stderr := captureStderr(t, func() {
		_, errOut, code = run(t, append([]string{"whoami"}, bad...)...)
	})
	if code != ExitError || !strings.Contains(stderr+errOut, "AADSTS7000215") || !strings.Contains(errOut, "kubelogin") {
		t.Errorf("a wrong client secret: code %d\nplugin stderr %q\nour stderr %q", code, stderr, errOut)
	}

	// A RoleBinding to team A's object id in namespace entra.
	admin := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "entra"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "team-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}, Verbs: []string{"get", "list", "watch"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("entra").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "team-a-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "team-reader"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: teamA}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The prediction, for the identity whoami showed, and kubectl signed in
	// the same way (an exec plugin in its kubeconfig, as --login makes it).
	kc := filepath.Join(dir, "entra-kubeconfig")
	raw, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	l := &auth.Login{Mode: "spn", ServerID: audience, TenantID: tenant, ClientID: appID, AuthorityHost: is.Authority()}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, u := range raw.AuthInfos {
		*u = *raw.AuthInfos[raw.Contexts[raw.CurrentContext].AuthInfo]
		u.ClientCertificateData, u.ClientKeyData, u.Exec = nil, nil, l.Exec()
	}
	if err := clientcmd.WriteToFile(*raw, kc); err != nil {
		t.Fatal(err)
	}
	who1 := []string{"user:alice@contoso.com", "--group", teamA, "--group", teamB, "--kubeconfig=" + c.Kubeconfig}
	for _, tc := range []struct {
		verb, resource, ns string
	}{
		{"list", "pods", "entra"}, {"get", "configmaps", "entra"}, {"list", "pods", "default"}, {"delete", "pods", "entra"}, {"list", "secrets", "entra"},
	} {
		out, _, code := run(t, append([]string{"can", who1[0], tc.verb, tc.resource, "-n", tc.ns}, who1[1:]...)...)
		predicted := code == ExitOK
		cmd := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig="+kc, "auth", "can-i", tc.verb, tc.resource, "-n", tc.ns)
		got, _ := cmd.CombinedOutput()
		outputs = append(outputs, out, string(got))
		actual := strings.TrimSpace(string(got)) == "yes"
		if want := tc.ns == "entra" && tc.verb != "delete" && tc.resource != "secrets"; actual != want {
			t.Errorf("%s %s -n %s: the server says %q, the RoleBinding to team A means %v", tc.verb, tc.resource, tc.ns, got, want)
		}
		if predicted != actual {
			t.Errorf("%s %s -n %s: can predicts %v, the server (as the Entra user) says %q", tc.verb, tc.resource, tc.ns, predicted, got)
		}
	}
	// kubectl also really lists pods in entra, signed in through kubelogin.
	if out, err := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig="+kc, "get", "pods", "-n", "entra").CombinedOutput(); err != nil {
		t.Errorf("kubectl get pods -n entra as alice: %v\n%s", err, out)
	}
	for _, tok := range append(is.Issued(), adfs.Issued()...) {
		for _, o := range outputs {
			if strings.Contains(o, tok) || strings.Contains(o, strings.Split(tok, ".")[2]) {
				t.Fatal("an output carries the token")
			}
		}
	}
}

// captureStderr runs f with the process's stderr (where an exec plugin's
// own messages go) read into a string.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	os.Stderr = old
	_ = w.Close() // a pipe: closing it ends the reader's ReadAll
	return <-done
}

// entraCluster starts an API server that trusts the issuers' tokens as
// AKS does (a structured authentication configuration: username from upn,
// groups from groups, uid from oid, oid also as extra), and writes the
// issuers' CA certificates to a file for kubelogin (SSL_CERT_FILE).
func entraCluster(t *testing.T, dir, audience string, issuers ...*entratest.Issuer) (*localcluster.Cluster, string) {
	t.Helper()
	caFile := filepath.Join(dir, "issuer-ca.pem")
	var cas []byte
	authn := "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n"
	for _, is := range issuers {
		cas = append(cas, is.CAPEM()...)
		ca, _ := json.Marshal(string(is.CAPEM()))
		authn += fmt.Sprintf(`- issuer:
    url: %s
    audiences: [%s]
    certificateAuthority: %s
  claimMappings:
    username: {claim: upn, prefix: ""}
    groups: {claim: groups, prefix: ""}
    uid: {claim: oid}
    extra:
    - key: kubectl-access.io/oid
      valueExpression: claims.oid
`, is.URL(), audience, ca)
	}
	if err := os.WriteFile(caFile, cas, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "authentication.yaml")
	if err := os.WriteFile(path, []byte(authn), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := localcluster.Start(t.Context(), localcluster.Options{Dir: filepath.Join(dir, "cluster"), NoControllerManager: true,
		ExtraAPIServerArgs: []string{"--authentication-config=" + path}})
	if err != nil {
		t.Fatal(err)
	}
	return c, caFile
}
