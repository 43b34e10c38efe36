package azurearm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// aksWrites serves managed clusters as ARM does for az aks update: a GET
// with the resource's ETag (header and eTag), a PUT of the whole resource
// that needs If-Match to be the current ETag (HTTP 412 otherwise) and
// starts a long-running operation (Azure-AsyncOperation, InProgress for
// polls polls, then Succeeded or fail's status), after which the cluster
// is the PUT's body, its provisioningState Succeeded and a new ETag.
type aksWrites struct {
	mu       sync.Mutex
	base     string // the server's URL, for the operation's
	clusters map[string]map[string]any
	etags    map[string]int
	polls    int
	fail     string // the operation's final status when not Succeeded
	puts     []map[string]any
	polled   int
	ops      map[string]*aksOp
	// foreign makes the operation's URL another host's.
	foreign bool
}

type aksOp struct {
	cluster string
	left    int
}

func newAKSWrites(base string, clusters ...map[string]any) *aksWrites {
	w := &aksWrites{base: base, clusters: map[string]map[string]any{}, etags: map[string]int{}, ops: map[string]*aksOp{}}
	for _, c := range clusters {
		id := strings.ToLower(c["id"].(string))
		w.clusters[id] = c
		w.etags[id] = 1
	}
	return w
}

func (w *aksWrites) etag(id string) string { return fmt.Sprintf(`W/"etag-%d"`, w.etags[id]) }

func (w *aksWrites) serve(rw http.ResponseWriter, r *http.Request, p string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	write := func(v any) {
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(v)
	}
	if op, ok := w.ops[p]; ok {
		w.polled++
		if op.left > 0 {
			op.left--
			write(map[string]any{"name": "op", "status": "InProgress"})
			return true
		}
		c := w.clusters[op.cluster]
		if w.fail != "" {
			c["properties"].(map[string]any)["provisioningState"] = w.fail
			write(map[string]any{"name": "op", "status": w.fail, "error": map[string]any{"code": "ReconcileError", "message": "the update failed"}})
			return true
		}
		c["properties"].(map[string]any)["provisioningState"] = "Succeeded"
		write(map[string]any{"name": "op", "status": "Succeeded"})
		return true
	}
	c, ok := w.clusters[p]
	if !ok {
		return false
	}
	if r.URL.Query().Get("api-version") != managedClustersWriteAPI {
		writeARMError(rw, http.StatusBadRequest, "InvalidApiVersionParameter", "the test server writes at "+managedClustersWriteAPI)
		return true
	}
	switch r.Method {
	case http.MethodGet:
		c["eTag"] = w.etag(p)
		rw.Header().Set("ETag", w.etag(p))
		write(c)
	case http.MethodPut:
		if m := r.Header.Get("If-Match"); m != w.etag(p) {
			writeARMError(rw, http.StatusPreconditionFailed, "PreconditionFailed", fmt.Sprintf("Operation is not allowed: the If-Match %s does not match the resource's %s.", m, w.etag(p)))
			return true
		}
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			writeARMError(rw, http.StatusBadRequest, "InvalidRequestContent", err.Error())
			return true
		}
		w.puts = append(w.puts, body)
		var next map[string]any
		_ = json.Unmarshal(raw, &next)
		w.etags[p]++
		next["eTag"] = w.etag(p)
		next["properties"].(map[string]any)["provisioningState"] = "Updating"
		w.clusters[p] = next
		opPath := fmt.Sprintf("/subscriptions/sub/providers/microsoft.containerservice/locations/westeurope/operations/op-%d", len(w.puts))
		w.ops[opPath] = &aksOp{cluster: p, left: w.polls}
		base := w.base
		if w.foreign {
			base = "https://elsewhere.example"
		}
		rw.Header().Set("Azure-AsyncOperation", base+opPath+"?api-version="+managedClustersWriteAPI)
		write(next)
	default:
		rw.WriteHeader(http.StatusMethodNotAllowed)
	}
	return true
}

func aksResource() map[string]any {
	var m map[string]any
	_ = json.Unmarshal([]byte(`{
  "id": "/subscriptions/3f2c8e1a-6b4d-4c2e-9a1f-7d8e9f0a1b2c/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-prod",
  "name": "aks-prod", "type": "Microsoft.ContainerService/ManagedClusters", "location": "westeurope",
  "sku": {"name": "Base", "tier": "Standard"},
  "identity": {"type": "SystemAssigned", "principalId": "c3c3c3c3-0000-4000-8000-000000000003"},
  "properties": {
    "provisioningState": "Succeeded", "kubernetesVersion": "1.33.2", "fqdn": "aks-prod.hcp.westeurope.azmk8s.io",
    "enableRBAC": true, "disableLocalAccounts": false,
    "aadProfile": {"managed": true, "adminGroupObjectIDs": ["a1a1a1a1-0000-4000-8000-000000000001"]},
    "apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.0/24"]},
    "agentPoolProfiles": [{"name": "system", "count": 3, "vmSize": "Standard_D4s_v5", "mode": "System"}],
    "servicePrincipalProfile": {"clientId": "msi"},
    "nodeResourceGroup": "MC_rg-aks_aks-prod_westeurope"
  }
}`), &m)
	return m
}

// TestPutManagedCluster: the managed cluster is read with its ETag and
// written back whole with If-Match, the long-running operation followed to
// its end; a change made in between fails the PUT (nothing written); a
// failed operation, a wait cut short and an operation URL on another host
// are each said.
func TestPutManagedCluster(t *testing.T) {
	a := newFakeARM(t, fixture{})
	mc := aksResource()
	id := mc["id"].(string)
	a.aks = newAKSWrites(a.srv.URL, mc)
	a.aks.polls = 2
	o := a.options(t, appSecret)
	o.PollFrequency = 5 * time.Millisecond
	ctx := t.Context()

	body, etag, err := ManagedClusterResource(ctx, id, o)
	if err != nil || etag != `W/"etag-1"` {
		t.Fatalf("read: %q %v", etag, err)
	}
	body["properties"].(map[string]any)["disableLocalAccounts"] = true
	if err := PutManagedCluster(ctx, id, body, etag, o); err != nil {
		t.Fatalf("put: %v", err)
	}
	a.aks.mu.Lock()
	if len(a.aks.puts) != 1 || !reflect.DeepEqual(a.aks.puts[0], body) || a.aks.polled != 3 {
		t.Errorf("ARM got %d PUTs (%v), polled %d times, want the body sent and 3 polls", len(a.aks.puts), a.aks.puts, a.aks.polled)
	}
	a.aks.mu.Unlock()
	after, etag2, err := ManagedClusterResource(ctx, id, o)
	if err != nil || etag2 == etag || after["properties"].(map[string]any)["provisioningState"] != "Succeeded" || after["properties"].(map[string]any)["disableLocalAccounts"] != true {
		t.Errorf("after: %q %v %v", etag2, err, after["properties"])
	}

	// The old ETag: 412, said as a change, and nothing written.
	err = PutManagedCluster(ctx, id, body, etag, o)
	var ch *ChangedError
	if !errors.As(err, &ch) || !ch.Changed() || !strings.Contains(err.Error(), "changed since it was read") {
		t.Errorf("a stale ETag: %v", err)
	}
	a.aks.mu.Lock()
	if len(a.aks.puts) != 1 {
		t.Errorf("a stale ETag wrote: %d PUTs", len(a.aks.puts))
	}
	a.aks.mu.Unlock()
	if err := PutManagedCluster(ctx, id, body, "", o); err == nil || !strings.Contains(err.Error(), "without an ETag") {
		t.Errorf("no ETag: %v", err)
	}

	// A failed operation.
	a.aks.mu.Lock()
	a.aks.fail = "Failed"
	a.aks.mu.Unlock()
	_, etag, _ = ManagedClusterResource(ctx, id, o)
	if err := PutManagedCluster(ctx, id, after, etag, o); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Errorf("a failed update: %v", err)
	}
	// The wait cut short: the update goes on in Azure, and the error says so.
	a.aks.mu.Lock()
	a.aks.fail, a.aks.polls = "", 1000
	a.aks.mu.Unlock()
	_, etag, _ = ManagedClusterResource(ctx, id, o)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := PutManagedCluster(short, id, after, etag, o); err == nil || !strings.Contains(err.Error(), "goes on in Azure") {
		t.Errorf("a wait cut short: %v", err)
	}

	// An operation to poll on another host is not followed with the token.
	a.aks.mu.Lock()
	a.aks.polls, a.aks.foreign = 0, true
	a.aks.mu.Unlock()
	_, etag, _ = ManagedClusterResource(ctx, id, o)
	if err := PutManagedCluster(ctx, id, after, etag, o); err == nil || !strings.Contains(err.Error(), "leaves") {
		t.Errorf("a foreign operation URL: %v", err)
	}
}
