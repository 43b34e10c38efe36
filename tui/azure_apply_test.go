package tui

import (
	"bytes"
	"time"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// azureTestARM stands in for Azure Resource Manager (access.AzureARM) in
// the explorer's tests: the real ARM client against a loopback ARM is the
// differential test's (cmd); here only the explorer's flow is under test.
type azureTestARM struct {
	mu      sync.Mutex
	data    *azurerbac.Data
	deleted []string
	loads   int
	// cluster is the managed cluster as ARM's GET gives it (nil: not
	// served), etag its ETag, puts the bodies written.
	cluster map[string]any
	etag    int
	puts    []map[string]any
}

var _ access.AzureARM = (*azureTestARM)(nil)

func (z *azureTestARM) FindCluster(context.Context, string) (string, error) {
	return z.data.ClusterID, nil
}
func (z *azureTestARM) CheckCluster(context.Context, string, string) error { return nil }

func (z *azureTestARM) Load(context.Context, string, []string) (*azurerbac.Data, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.loads++
	b, err := json.Marshal(z.data)
	if err != nil {
		return nil, err
	}
	var d azurerbac.Data
	return &d, json.Unmarshal(b, &d)
}

func (z *azureTestARM) find(id string) int {
	return slices.IndexFunc(z.data.Assignments, func(a azurerbac.Assignment) bool { return strings.EqualFold(a.ID, id) })
}

func (z *azureTestARM) Assignment(_ context.Context, id string) (map[string]any, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	i := z.find(id)
	if i < 0 {
		return nil, nil
	}
	a := z.data.Assignments[i]
	return map[string]any{"id": a.ID, "name": a.ID[strings.LastIndex(a.ID, "/")+1:], "type": "Microsoft.Authorization/roleAssignments",
		"properties": map[string]any{"scope": a.Scope, "principalId": a.PrincipalID, "principalType": a.PrincipalType, "roleDefinitionId": a.RoleDefinitionID}}, nil
}

func (z *azureTestARM) DeleteAssignment(_ context.Context, id string) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if i := z.find(id); i >= 0 {
		z.data.Assignments = slices.Delete(z.data.Assignments, i, i+1)
		z.deleted = append(z.deleted, id)
	}
	return nil
}

func (z *azureTestARM) CreateAssignment(context.Context, string, string, string, string, string) error {
	return errors.New("not expected in this test")
}

func (z *azureTestARM) ManagedClusterResource(context.Context, string) (map[string]any, string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.cluster == nil {
		return nil, "", errors.New("not expected in this test")
	}
	return z.cluster, fmt.Sprint(z.etag), nil
}

// PutManagedCluster takes the body when etag is the current one; the
// next load reads the cluster's settings from it.
func (z *azureTestARM) PutManagedCluster(_ context.Context, _ string, body map[string]any, etag string) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.cluster == nil || etag != fmt.Sprint(z.etag) {
		return errors.New("not expected in this test")
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	mc, err := azurerbac.ParseManagedCluster(b)
	if err != nil {
		return err
	}
	z.puts = append(z.puts, body)
	z.cluster, z.data.Cluster = body, mc
	z.etag++
	return nil
}

// Identities reads none: this ARM holds no managed identity.
func (z *azureTestARM) Identities(context.Context, *azurerbac.Data, []string) error { return nil }

func (z *azureTestARM) Directory(context.Context, []string) (*azurerbac.Directory, error) {
	return nil, errors.New("Microsoft Graph is not served in this test")
}

// TestApplyAzureFlow: the explorer's a on an Azure finding builds the fix,
// checks it, reads the assignment through ARM as its dry run (ARM has
// none), says which Azure assignment it changes, applies it through ARM on
// Y, and the reload (which reads ARM again) drops the finding.
func TestApplyAzureFlow(t *testing.T) {
	res, err := source.Read(t.Context(), []string{"../testdata/azure"}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	arm := &azureTestARM{data: res.Snapshot.Azure}
	rbacOnly := *res.Snapshot
	rbacOnly.Azure = nil
	c := &testCluster{snap: &rbacOnly}
	a := offlineApp(t)
	a.Files, a.Cluster, a.Origin = nil, c, access.Origin{Context: "aks-prod", Server: "https://aks-prod.hcp.example"}
	a.Azure = &access.AzureSource{ARM: arm}
	const target = "9a1b2c3d-0000-4000-8000-000000000003" // the service principal's Writer in web
	f := start(t, a, 120, 40, Options{})
	f.keys("3", "/")
	f.typeText("c0000000-0000-4000-8000-000000000003")
	f.keys("<enter>", "a")
	f.wait(planMsg{})
	dry := f.wait(dryRunMsg{}).(dryRunMsg)
	if dry.err != nil || len(dry.diffs) != 1 || !strings.Contains(dry.diffs[0].Operation, target) {
		t.Fatalf("the dry run: %+v, want the read of assignment %s", dry, target)
	}
	// The confirmation says ARM has no dry run and where the change goes.
	teatest.WaitFor(t, f.tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("has no dry run")) && bytes.Contains(b, []byte(" Manager?"))
	}, teatest.WithDuration(5*time.Second))
	if len(arm.deleted) != 0 {
		t.Fatalf("deleted before the confirmation: %v", arm.deleted)
	}
	f.keys("Y")
	applied := f.wait(appliedMsg{}).(appliedMsg)
	f.loaded()
	m, screen := f.finish()
	if applied.err != nil || len(arm.deleted) != 1 || !strings.HasSuffix(arm.deleted[0], "/"+target) {
		t.Fatalf("applied %v (%v), want the assignment %s deleted through ARM", arm.deleted, applied.err, target)
	}
	if c.applied != 0 {
		t.Errorf("%d operations applied to the cluster: an Azure fix changes ARM only", c.applied)
	}
	if arm.loads != 2 {
		t.Errorf("ARM read %d times, want 2 (the load and the reload after the apply)", arm.loads)
	}
	fp := m.pages[2].(*findingsPage)
	for _, fi := range fp.report.Findings {
		if fi.ID == applied.id {
			t.Errorf("finding %s is still listed after the apply and reload", fi.ID)
		}
	}
	if !strings.Contains(plain(screen), "applied the fix for "+applied.id) {
		t.Errorf("no word of the apply on screen:\n%s", plain(screen))
	}
}

// TestApplyAKSFlow: the explorer's a on the local accounts finding reads
// the managed cluster through ARM as its dry run (one field changes),
// writes it back on Y with the ETag it read, and the reload drops the
// finding.
func TestApplyAKSFlow(t *testing.T) {
	res, err := source.Read(t.Context(), []string{"../testdata/aks/rbac.yaml", "../testdata/aks/cluster.json", "../testdata/aks/assignments.json"}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// az aks show's JSON, as ARM's GET shapes it (settings under properties).
	raw, err := os.ReadFile("../testdata/aks/cluster.json")
	if err != nil {
		t.Fatal(err)
	}
	var flat map[string]any
	if err := json.Unmarshal(raw, &flat); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"properties": map[string]any{}}
	for k, v := range flat {
		switch k {
		case "id", "name", "type", "location", "identity":
			body[k] = v
		default:
			body["properties"].(map[string]any)[k] = v
		}
	}
	arm := &azureTestARM{data: res.Snapshot.Azure, cluster: body, etag: 1}
	rbacOnly := *res.Snapshot
	rbacOnly.Azure = nil
	c := &testCluster{snap: &rbacOnly}
	a := offlineApp(t)
	a.Files, a.Cluster, a.Origin = nil, c, access.Origin{Context: "aks-prod", Server: "https://aks-prod.hcp.example"}
	a.Azure = &access.AzureSource{ARM: arm}
	f := start(t, a, 120, 40, Options{})
	f.keys("3", "/")
	f.typeText("local accounts are on")
	f.keys("<enter>", "a")
	f.wait(planMsg{})
	dry := f.wait(dryRunMsg{}).(dryRunMsg)
	if dry.err != nil || len(dry.diffs) != 1 || !strings.Contains(dry.diffs[0].Diff, "+   disableLocalAccounts: true") {
		t.Fatalf("the dry run: %+v, want the managed cluster read with the one field changed", dry)
	}
	if len(arm.puts) != 0 {
		t.Fatalf("written before the confirmation: %v", arm.puts)
	}
	f.keys("Y")
	applied := f.wait(appliedMsg{}).(appliedMsg)
	f.loaded()
	m, _ := f.finish()
	if applied.err != nil || len(arm.puts) != 1 || arm.puts[0]["properties"].(map[string]any)["disableLocalAccounts"] != true {
		t.Fatalf("applied: %v, %d PUTs", applied.err, len(arm.puts))
	}
	if c.applied != 0 {
		t.Errorf("%d operations applied to the cluster: an aks fix changes ARM only", c.applied)
	}
	for _, fi := range m.pages[2].(*findingsPage).report.Findings {
		if fi.ID == applied.id {
			t.Errorf("finding %s is still listed after the apply and reload", fi.ID)
		}
	}
}
