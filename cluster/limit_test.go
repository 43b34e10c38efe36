package cluster

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/loading"
)

// TestEndlessResponseIsAnError: a server (or a proxy before it) that
// streams a LIST body without end makes the load fail, naming the
// request and the bound, instead of growing until the process dies.
func TestEndlessResponseIsAnError(t *testing.T) {
	maxResponseBytes = 4 << 20
	t.Cleanup(func() { maxResponseBytes = MaxResponseBytes })
	chunk := bytes.Repeat([]byte(`{"metadata":{"name":"x"},"roleRef":{"kind":"ClusterRole","name":"x"}},`), 1024)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"ClusterRoleBindingList","apiVersion":"rbac.authorization.k8s.io/v1","items":[`))
		deadline := time.Now().Add(20 * time.Second) // bounded: the test fails, never the machine
		for time.Now().Before(deadline) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	cfg := ProtobufConfig(&rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 30 * time.Second})
	start := time.Now()
	_, err := Live(t.Context(), kubernetes.NewForConfigOrDie(cfg), loading.Scope{ClusterRBAC: true})
	var tooLarge *ResponseTooLargeError
	if !errors.As(err, &tooLarge) {
		t.Fatalf("Live against an endless body: %v; want the response bound's error", err)
	}
	if time.Since(start) > 15*time.Second {
		t.Errorf("the bound took %s to apply", time.Since(start))
	}
	t.Log(err)
}
