package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

// fxAKS is the loopback ARM's managed cluster as az aks update meets it:
// GET gives the whole resource with its ETag (header and eTag); PUT needs
// If-Match to be the current ETag (412 otherwise), takes the body as the
// new resource and starts a long-running operation (Azure-AsyncOperation:
// InProgress for polls polls, then Succeeded). concurrent makes the next
// PUT meet a change made after the GET.
type fxAKS struct {
	mu         sync.Mutex
	id         string
	resource   map[string]any
	etag       int
	lastGet    map[string]any
	puts       []map[string]any
	read       []map[string]any // the GET before each PUT taken
	polls      int
	polled     int
	left       int
	concurrent bool
}

const fxAKSOperation = "/subscriptions/s/providers/microsoft.containerservice/locations/westeurope/operations/op-1"

func (k *fxAKS) tag() string { return fmt.Sprintf(`W/"%d"`, k.etag) }

func (k *fxAKS) serve(w http.ResponseWriter, r *http.Request, write func(any)) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case strings.EqualFold(r.URL.Path, fxAKSOperation):
		k.polled++
		if k.left > 0 {
			k.left--
			write(map[string]any{"status": "InProgress"})
			return true
		}
		k.resource["properties"].(map[string]any)["provisioningState"] = "Succeeded"
		write(map[string]any{"status": "Succeeded"})
		return true
	case !strings.EqualFold(r.URL.Path, k.id):
		return false
	}
	// As ARM: the reads' version (2024-05-01) has no eTag; the write's
	// (2025-02-01, from 2024-09-01 on) has, and only it is written with.
	version := r.URL.Query().Get("api-version")
	if version != "2024-05-01" && version != "2025-02-01" || r.Method == http.MethodPut && version != "2025-02-01" {
		w.WriteHeader(http.StatusBadRequest)
		return true
	}
	switch r.Method {
	case http.MethodGet:
		if version == "2024-05-01" {
			delete(k.resource, "eTag")
			write(k.resource)
			return true
		}
		k.resource["eTag"] = k.tag()
		b, _ := json.Marshal(k.resource)
		k.lastGet = nil
		_ = json.Unmarshal(b, &k.lastGet)
		write(k.resource)
	case http.MethodPut:
		if k.concurrent {
			// Someone else's update lands first.
			k.concurrent = false
			k.etag++
			k.resource["tags"] = map[string]any{"changed": "by someone else"}
		}
		if r.Header.Get("If-Match") != k.tag() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusPreconditionFailed)
			fmt.Fprint(w, `{"error":{"code":"PreconditionFailed","message":"The ETag given in If-Match does not match the resource's."}}`)
			return true
		}
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return true
		}
		k.puts = append(k.puts, body)
		k.read = append(k.read, k.lastGet)
		_ = json.Unmarshal(raw, &k.resource)
		k.etag++
		k.resource["properties"].(map[string]any)["provisioningState"] = "Updating"
		k.left = k.polls
		w.Header().Set("Azure-AsyncOperation", "https://"+r.Host+fxAKSOperation+"?api-version=2025-02-01")
		write(k.resource)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
	return true
}

// TestAKSApply: against a real API server and the loopback ARM, fix
// --apply of the local accounts finding asks first (off a terminal and
// without --yes nothing is written); a change made to the cluster between
// the GET and the PUT fails the PUT (412) and writes nothing; with --yes
// it PUTs the resource it read with disableLocalAccounts alone changed,
// follows the long-running operation to its end, saves a restore script
// that turns local accounts back on, and the audit run again finds the
// check passed.
func TestAKSApply(t *testing.T) {
	c := clustertest.Get(t)
	kc := "--kubeconfig=" + c.Kubeconfig
	const (
		sub         = "/subscriptions/7c7c7c7c-0000-4000-8000-00000000007c"
		contributor = "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
		owner       = "7a7a0001-0000-4000-8000-000000000001"
	)
	id := sub + "/resourceGroups/rg-apply/providers/" + fxPrefix + "/aks-apply"
	fx := &azureFixture{Cluster: id, Roles: []fxRole{{ID: contributor, Name: "Contributor"}},
		Assignments: []fxAssignment{{ID: sub + "/resourceGroups/rg-apply/providers/Microsoft.Authorization/roleAssignments/7b7b0001-0000-4000-8000-000000000001",
			Scope: sub + "/resourceGroups/rg-apply", PrincipalID: owner, PrincipalType: "User", RoleID: sub + contributor}}}
	armSrv := newFxARM(t, fx, c.Config.Host)
	var resource map[string]any
	if err := json.Unmarshal(fmt.Appendf(nil, `{"id": %q, "name": "aks-apply", "type": "Microsoft.ContainerService/ManagedClusters", "location": "westeurope",
  "sku": {"name": "Base", "tier": "Standard"}, "identity": {"type": "SystemAssigned", "principalId": "7d7d0001-0000-4000-8000-000000000001"},
  "properties": {"provisioningState": "Succeeded", "kubernetesVersion": "1.33.2", "fqdn": %q, "enableRBAC": true, "disableLocalAccounts": false,
    "aadProfile": {"managed": true, "enableAzureRBAC": false, "adminGroupObjectIDs": ["7e7e0001-0000-4000-8000-000000000001"]},
    "agentPoolProfiles": [{"name": "system", "count": 3, "vmSize": "Standard_D4s_v5", "mode": "System"}],
    "servicePrincipalProfile": {"clientId": "msi"}, "nodeResourceGroup": "MC_rg-apply_aks-apply_westeurope",
    "nodeResourceGroupProfile": {"restrictionLevel": "ReadOnly"}}}`, id, armSrv.host), &resource); err != nil {
		t.Fatal(err)
	}
	aks := &fxAKS{id: id, resource: resource, etag: 1, polls: 2}
	armSrv.aks = aks
	withARM := func(r *RootOptions) {
		r.azureOptions = armSrv.options(t)
		r.azureOptions.PollFrequency = 10 * time.Millisecond
	}
	live := []string{kc, "--azure-rbac", "--azure-cluster-id", id}
	check := func() (string, audit.CheckStatus) {
		t.Helper()
		js, errOut, code := runWith(t, withARM, append([]string{"audit", "--only", "aks-local-accounts", "-o", "json"}, live...)...)
		var rep audit.Report
		if err := json.Unmarshal([]byte(js), &rep); err != nil || code != ExitOK {
			t.Fatalf("audit: code %d %v\n%s", code, err, errOut)
		}
		var status audit.CheckStatus
		for _, ch := range rep.Checks {
			if ch.Rule == "aks-local-accounts" {
				status = ch.Status
			}
		}
		for _, f := range rep.Findings {
			if f.Rule == "aks-local-accounts" {
				return f.ID, status
			}
		}
		return "", status
	}
	fid, status := check()
	if fid == "" || status != audit.CheckFailed {
		t.Fatalf("local accounts on: finding %q, check %q", fid, status)
	}
	puts := func() int {
		aks.mu.Lock()
		defer aks.mu.Unlock()
		return len(aks.puts)
	}

	// Asked first: off a terminal, without --yes, nothing is written.
	out, errOut, code := runWith(t, withARM, append([]string{"fix", fid, "--apply"}, live...)...)
	if code != ExitError || !strings.Contains(errOut, "not applied") || puts() != 0 {
		t.Fatalf("fix --apply without --yes: code %d, %d PUTs\n%s\n%s", code, puts(), out, errOut)
	}
	if !strings.Contains(errOut, "disableLocalAccounts: true") {
		t.Errorf("the dry run shows no diff of the field:\n%s", errOut)
	}

	// A change between the GET and the PUT: refused by ARM, said, nothing written.
	aks.mu.Lock()
	aks.concurrent = true
	aks.mu.Unlock()
	restoreDir := t.TempDir()
	_, errOut, code = runWith(t, withARM, append([]string{"fix", fid, "--apply", "--yes", "--restore-dir", restoreDir}, live...)...)
	if code == ExitOK || !strings.Contains(errOut, "changed since it was read") || puts() != 0 {
		t.Errorf("a concurrent change: code %d, %d PUTs\n%s", code, puts(), errOut)
	}
	if aks.resource["properties"].(map[string]any)["disableLocalAccounts"] != false {
		t.Error("the concurrent change was overwritten")
	}
	if scripts, _ := filepath.Glob(filepath.Join(restoreDir, "*")); len(scripts) != 0 {
		t.Errorf("a restore script of nothing applied: %v", scripts)
	}

	// Applied: the PUT is the GET but for the one field, the operation is
	// followed to its end, the previous value saved.
	_, errOut, code = runWith(t, withARM, append([]string{"fix", fid, "--apply", "--yes", "--restore-dir", restoreDir}, live...)...)
	aks.mu.Lock()
	if code != ExitOK || len(aks.puts) != 1 || aks.polled != 3 {
		aks.mu.Unlock()
		t.Fatalf("fix --apply --yes: code %d, %d PUTs, %d polls\n%s", code, len(aks.puts), aks.polled, errOut)
	}
	if !strings.Contains(errOut, "Dry run (Azure Resource Manager has none") || !strings.Contains(errOut, "waiting for it") {
		t.Errorf("fix --apply does not say how it changes Azure:\n%s", errOut)
	}
	put, got := aks.puts[0], aks.read[0]
	aks.mu.Unlock()
	if put["properties"].(map[string]any)["disableLocalAccounts"] != true {
		t.Errorf("the PUT does not turn local accounts off: %v", put["properties"])
	}
	put["properties"].(map[string]any)["disableLocalAccounts"] = false
	if !reflect.DeepEqual(put, got) {
		t.Errorf("the PUT changes more than disableLocalAccounts:\nPUT %v\nGET %v", put, got)
	}
	scripts, _ := filepath.Glob(filepath.Join(restoreDir, "restore-"+fid+"-*.sh"))
	if len(scripts) != 1 || !strings.Contains(errOut, "To put it back: sh ") {
		t.Fatalf("restore scripts %v\n%s", scripts, errOut)
	}
	script, _ := os.ReadFile(scripts[0])
	if st, _ := os.Stat(scripts[0]); st.Mode().Perm() != 0o600 || !strings.Contains(string(script), "az aks update --ids '"+id+"' --enable-local-accounts") {
		t.Errorf("the restore script (%v):\n%s", st.Mode(), script)
	}
	if _, status := check(); status != audit.CheckPassed {
		t.Errorf("after the fix the check is %q, want passed", status)
	}
	// Fixed: applying it again finds no such finding and writes nothing.
	if _, _, code := runWith(t, withARM, append([]string{"fix", fid, "--apply", "--yes"}, live...)...); code == ExitOK || puts() != 1 {
		t.Errorf("a fixed finding applied again: code %d, %d PUTs", code, puts())
	}
}
