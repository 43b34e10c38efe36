package cmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
)

// TestEligibleAzureOffline: testdata/azure's ARM list of
// roleEligibilityScheduleInstances (dave eligible for RBAC Writer in
// namespace web until 2030-06-30, group sre-oncall at the cluster with no
// end, erin's expired) is answered apart from access: who-can --eligible
// lists the eligible principals with their dates and never among the
// subjects, can says eligible-not-active beside its no, what-can lists
// them, and a snapshot keeps them.
func TestEligibleAzureOffline(t *testing.T) {
	const (
		dave  = "a0000000-0000-4000-8000-000000000004"
		sre   = "b0000000-0000-4000-8000-000000000009"
		erin  = "a0000000-0000-4000-8000-000000000005"
		write = "Azure Kubernetes Service RBAC Writer"
	)
	f := []string{"-f", "../testdata/azure"}

	out, errOut, code := run(t, append([]string{"who-can", "delete", "secrets", "-n", "web", "--eligible", "-o", "json"}, f...)...)
	var wc access.WhoCanAnswer
	if err := json.Unmarshal([]byte(out), &wc); err != nil || code != ExitOK {
		t.Fatalf("who-can --eligible: code %d %v\n%s", code, err, errOut)
	}
	if len(wc.Eligible) != 2 {
		t.Fatalf("who-can --eligible: %d eligible, want dave's and sre-oncall's (erin's ended): %+v", len(wc.Eligible), wc.Eligible)
	}
	d, g := wc.Eligible[0], wc.Eligible[1] // by principal: user:dave@..., group:b000...
	if d.Principal.ID != dave || d.Principal.UserPrincipalName != "dave@contoso.com" || d.Azure == nil || d.Azure.RoleName != write ||
		!strings.HasSuffix(d.Azure.Scope, "/namespaces/web") || d.Azure.DataAction != "Microsoft.ContainerService/managedClusters/secrets/*" ||
		!strings.HasSuffix(d.Azure.Assignment, "/roleEligibilityScheduleInstances/e1000000-0000-4000-8000-000000000001") ||
		d.End.Format("2006-01-02") != "2030-06-30" || d.Group.ID != "" || len(d.Paths) != 1 || d.Paths[0].Azure == nil || d.Paths[0].Azure.Assignment != d.Azure.Assignment {
		t.Errorf("dave's eligibility: %+v %+v", d, d.Azure)
	}
	if g.Principal.ID != sre || g.Principal.Kind != "group" || g.Principal.DisplayName != "sre-oncall" || g.Azure == nil ||
		!strings.HasSuffix(g.Azure.Scope, "/managedClusters/aks-prod") || !g.End.IsZero() {
		t.Errorf("sre-oncall's eligibility: %+v %+v", g, g.Azure)
	}
	for _, s := range wc.Subjects {
		if s.Name == dave || s.Name == "dave@contoso.com" || s.Name == sre || s.Name == erin {
			t.Errorf("an eligible principal is listed as allowed: %+v", s)
		}
	}
	if !strings.Contains(out, `"eligible": [`) || !strings.Contains(out, `"azure": {`) || strings.Contains(out, `"group": {`) {
		t.Errorf("the JSON's eligible entries: want azure, no group:\n%s", out)
	}

	// The table: a section of its own, never a row of the subjects.
	out, _, code = run(t, append([]string{"who-can", "delete", "secrets", "-n", "web", "--eligible"}, f...)...)
	eligible := out[strings.Index(out, "Eligible through PIM"):]
	subjects := strings.TrimSuffix(out, eligible)
	if code != ExitOK || strings.Contains(subjects, "dave") || strings.Contains(subjects, sre) ||
		!strings.Contains(eligible, `user:dave@contoso.com`) || !strings.Contains(eligible, `role "`+write+`" at namespace web of cluster aks-prod (PIM for Azure resources)`) ||
		!strings.Contains(eligible, "2030-06-30") || !strings.Contains(eligible, "group:"+sre+" (sre-oncall)") || !strings.Contains(eligible, "with no end") || strings.Contains(out, "erin") {
		t.Errorf("who-can --eligible's table: code %d\n%s", code, out)
	}
	// Another namespace: dave's eligibility is web's only.
	out, _, _ = run(t, append([]string{"who-can", "delete", "secrets", "-n", "api", "--eligible"}, f...)...)
	if strings.Contains(out, "dave") || !strings.Contains(out, "group:"+sre) {
		t.Errorf("who-can --eligible in api: want sre-oncall only\n%s", out)
	}
	// CSV: a row per eligible principal, saying how.
	out, _, _ = run(t, append([]string{"who-can", "delete", "secrets", "-n", "web", "--eligible", "-o", "csv"}, f...)...)
	if !strings.Contains(out, `user:dave@contoso.com,"eligible (PIM for Azure resources): can activate role ""`+write+`"" at namespace web of cluster aks-prod until 2030-06-30, not active"`) {
		t.Errorf("who-can --eligible -o csv:\n%s", out)
	}

	// can: no (exit 1, complete), and eligible, not active.
	out, errOut, code = run(t, append([]string{"can", "user:dave@contoso.com", "delete", "secrets", "-n", "web"}, f...)...)
	if code != ExitDenied || !strings.HasPrefix(out, "no: ") ||
		!strings.Contains(out, `eligible (PIM for Azure resources), not active: user:dave@contoso.com may activate role "`+write+`" at namespace web of cluster aks-prod until 2030-06-30, which would allow it via Azure "`+write+`" at namespace web of cluster aks-prod`) {
		t.Errorf("can, eligible: code %d, want %d\n%s\n%s", code, ExitDenied, out, errOut)
	}
	// Through the eligible group, for a member given with --group.
	out, _, code = run(t, append([]string{"can", "user:zoe@contoso.com", "--oid", "a0000000-0000-4000-8000-0000000000ff", "--group", sre, "get", "pods", "-n", "api"}, f...)...)
	if code != ExitDenied || !strings.Contains(out, "group:"+sre+" (sre-oncall) may activate role") {
		t.Errorf("can, eligible through a group: code %d\n%s", code, out)
	}
	// Erin's eligibility ended: nothing eligible.
	out, _, code = run(t, append([]string{"can", "user:" + erin, "delete", "secrets", "-n", "web"}, f...)...)
	if code != ExitDenied || strings.Contains(out, "eligible") {
		t.Errorf("can, an ended eligibility: code %d\n%s", code, out)
	}

	// what-can: dave's eligible assignment, each dataAction into the cluster a path.
	out, errOut, code = run(t, append([]string{"what-can", "user:dave@contoso.com", "-o", "json"}, f...)...)
	var wh access.WhatCanAnswer
	if err := json.Unmarshal([]byte(out), &wh); err != nil || code != ExitOK {
		t.Fatalf("what-can: code %d %v\n%s", code, err, errOut)
	}
	if len(wh.Eligible) != 1 || wh.Eligible[0].Azure == nil || wh.Eligible[0].Principal.ID != dave || len(wh.Eligible[0].Paths) != 3 ||
		wh.Eligible[0].Paths[1].Azure.DataAction != "Microsoft.ContainerService/managedClusters/secrets/*" {
		t.Errorf("what-can's eligible: %+v", wh.Eligible)
	}
	for _, r := range wh.Rules {
		if r.Via[0].Azure != nil && strings.Contains(r.Via[0].Azure.Assignment, "roleEligibilityScheduleInstances") {
			t.Errorf("what-can holds an eligible assignment as a rule: %+v", r)
		}
	}

	// A snapshot keeps them: the same answer from it.
	snap, errOut, code := run(t, append([]string{"snapshot"}, f...)...)
	if code != ExitOK {
		t.Fatalf("snapshot: code %d\n%s", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "snap.yaml")
	if err := writeFile(file, snap); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "can", "user:dave@contoso.com", "delete", "secrets", "-n", "web", "-f", file)
	if code != ExitDenied || !strings.Contains(out, "eligible (PIM for Azure resources), not active: user:dave@contoso.com") {
		t.Errorf("can from the snapshot: code %d\n%s", code, out)
	}
}

// TestEligibleAzureDoor: an eligible assignment of a role that fetches the
// admin credential (testdata/aks: oncall eligible for the AKS Cluster
// Admin Role until 2030-03-01, local accounts on) is an eligible
// azure-credential door: who-can --eligible lists it with the credential
// identity's path, can says it beside its no, and the active doors do not
// list it.
func TestEligibleAzureDoor(t *testing.T) {
	f := []string{"-f", "../testdata/aks"}
	out, errOut, code := run(t, append([]string{"who-can", "delete", "namespaces", "--eligible", "-o", "json"}, f...)...)
	var wc access.WhoCanAnswer
	if err := json.Unmarshal([]byte(out), &wc); err != nil || code != ExitOK {
		t.Fatalf("who-can --eligible: code %d %v\n%s", code, err, errOut)
	}
	if len(wc.Eligible) != 1 {
		t.Fatalf("eligible: %+v", wc.Eligible)
	}
	e := wc.Eligible[0]
	if e.Principal.UserPrincipalName != "oncall@contoso.com" || e.Azure == nil || e.Azure.Door != "azure-credential" ||
		e.Azure.Action != "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action" || !e.Azure.BuiltinRole ||
		e.Azure.As == nil || e.Azure.As.User != "clusterAdmin" || e.End.Format("2006-01-02") != "2030-03-01" ||
		len(e.Paths) == 0 || e.Paths[0].Role.Name != "system:masters" {
		t.Errorf("oncall's eligible door: %+v %+v", e, e.Azure)
	}
	for _, d := range wc.AzureDoors {
		if d.Subject.Name == "oncall@contoso.com" || d.Subject.ObjectID == "11111111-0000-4000-8000-000000000009" {
			t.Errorf("an eligible door is listed as an active one: %+v", d)
		}
	}
	out, _, code = run(t, append([]string{"can", "user:oncall@contoso.com", "delete", "namespaces"}, f...)...)
	if code != ExitDenied || !strings.Contains(out, `eligible (PIM for Azure resources), not active: user:oncall@contoso.com may activate role "Azure Kubernetes Service Cluster Admin Role" at cluster aks-prod (azure-credential: fetches the admin credential`) ||
		!strings.Contains(out, "until 2030-03-01, which would allow it via (no binding: group system:masters)") {
		t.Errorf("can, an eligible door: code %d\n%s", code, out)
	}
}
