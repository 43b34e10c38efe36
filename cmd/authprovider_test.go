package cmd

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestAuthProviders: a kubeconfig whose user has the oidc auth-provider
// signs in with its id-token, as kubectl does (client-go's plugin), rather
// than failing with `no Auth Provider found for name "oidc"`; the removed
// gcp provider gets kubectl's guidance. The server here (TLS: client-go
// reads a user's credentials only for one) records the credential and
// answers 403, so the answer itself is an error.
func TestAuthProviders(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"forbidden"}`))
	}))
	defer srv.Close()
	// An id-token the plugin takes as valid: a JWT whose exp is far off
	// (the plugin reads the expiry; the server verifies the signature).
	enc := base64.RawURLEncoding.EncodeToString
	idToken := enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(`{"iss":"https://issuer.invalid","exp":4102444800}`)) + ".c2ln"
	kubeconfig := func(provider string) string {
		f := filepath.Join(t.TempDir(), "config")
		cfg := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "` + srv.URL + `", insecure-skip-tls-verify: true}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
users:
- name: u
  user:
    auth-provider:
      name: ` + provider + `
      config: {id-token: ` + idToken + `, client-id: kubectl, idp-issuer-url: "https://issuer.invalid"}
`
		if err := os.WriteFile(f, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	_, errOut, _ := run(t, "who-can", "get", "pods", "--kubeconfig", kubeconfig("oidc"), "--request-timeout", "5s")
	if strings.Contains(errOut, "no Auth Provider found") {
		t.Errorf("oidc auth-provider not read:\n%s", errOut)
	}
	mu.Lock()
	got := strings.Join(seen, ",")
	mu.Unlock()
	if !strings.Contains(got, "Bearer "+idToken) {
		t.Errorf("the server saw credentials %q, want the oidc id-token", got)
	}
	if strings.Contains(errOut, idToken) {
		t.Errorf("the token was printed:\n%s", errOut)
	}
	_, errOut, code := run(t, "who-can", "get", "pods", "--kubeconfig", kubeconfig("gcp"), "--request-timeout", "5s")
	if code != ExitError || !strings.Contains(errOut, "gke-gcloud-auth-plugin") {
		t.Errorf("gcp auth-provider: exit %d, want kubectl's guidance:\n%s", code, errOut)
	}
}
