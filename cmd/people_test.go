package cmd

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/auth"
)

const (
	demoCluster   = "../testdata/demo/cluster.yaml"
	demoDirectory = "../testdata/demo/entra-directory.json"
)

// TestPeopleOffline answers about people from a directory file: a user's
// groups found (nested ones with their chain) count in what-can and can;
// who-can --expand-groups lists who is in each group, guests marked, and
// --eligible the PIM-eligible apart; without the directory the same user's
// memberships are said to be unknown.
func TestPeopleOffline(t *testing.T) {
	// dave is in Payments Developers through Payments Contractors.
	out, stderr, code := run(t, "what-can", "user:dave@contoso.com", "-f", demoCluster, "--directory", demoDirectory, "-o", "json")
	if code != 0 {
		t.Fatalf("what-can: %d %s", code, stderr)
	}
	var wc access.WhatCanAnswer
	if err := json.Unmarshal([]byte(out), &wc); err != nil {
		t.Fatal(err)
	}
	if wc.MembershipsUnknown || wc.Memberships == nil || !wc.Memberships.Found {
		t.Fatalf("memberships = %+v (unknown %v)", wc.Memberships, wc.MembershipsUnknown)
	}
	chain := ""
	for _, g := range wc.Memberships.Groups {
		if g.Group.DisplayName == "Payments Developers" && len(g.Via) == 1 {
			chain = g.Via[0].DisplayName
		}
	}
	if chain != "Payments Contractors" || !slices.Contains(wc.Memberships.Named, "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02") {
		t.Errorf("dave's Payments Developers chain = %q, named %v", chain, wc.Memberships.Named)
	}
	if !holds(wc, "payments", "secrets", "get") {
		t.Errorf("dave's nested group's RoleBinding is not in what-can")
	}
	// Without the directory: not found, and said.
	out, _, _ = run(t, "what-can", "user:dave@contoso.com", "-f", demoCluster, "-o", "json")
	wc = access.WhatCanAnswer{}
	_ = json.Unmarshal([]byte(out), &wc)
	if !wc.MembershipsUnknown || holds(wc, "payments", "secrets", "get") {
		t.Errorf("without --directory: unknown %v, holds %v", wc.MembershipsUnknown, holds(wc, "payments", "secrets", "get"))
	}

	// can: yes through the nested group, with the chain; no without it.
	out, stderr, code = run(t, "can", "user:dave@contoso.com", "get", "secrets", "-n", "payments", "-f", demoCluster, "--directory", demoDirectory)
	if code != 0 || !strings.Contains(out, "yes:") || !strings.Contains(out, "Payments Developers): via Payments Contractors") {
		t.Errorf("can with the directory: %d\n%s%s", code, out, stderr)
	}
	if _, _, code = run(t, "can", "user:dave@contoso.com", "get", "secrets", "-n", "payments", "-f", demoCluster); code != ExitDenied {
		t.Errorf("can without the directory: exit %d, want %d", code, ExitDenied)
	}
	// The same decision as naming the groups by hand.
	_, _, byHand := run(t, "can", "user:dave@contoso.com", "--group", "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02", "--group", "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e0b", "get", "secrets", "-n", "payments", "-f", demoCluster)
	if byHand != 0 {
		t.Errorf("can --group: exit %d", byHand)
	}
	// alice is not in SRE On-call, only eligible: no, and the eligible way
	// said apart.
	out, _, code = run(t, "can", "user:alice@contoso.com", "list", "secrets", "-n", "default", "-f", demoCluster, "--directory", demoDirectory)
	if code != ExitDenied || !strings.Contains(out, "eligible (PIM), not active") || !strings.Contains(out, "SRE On-call") {
		t.Errorf("alice, eligible only: exit %d\n%s", code, out)
	}
	out, _, _ = run(t, "can", "user:alice@contoso.com", "list", "secrets", "-n", "default", "-f", demoCluster, "--directory", demoDirectory, "-o", "json")
	var ca access.CanAnswer
	_ = json.Unmarshal([]byte(out), &ca)
	if ca.Allowed || len(ca.Eligible) != 1 || ca.Eligible[0].Group.ID != "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e04" || len(ca.Eligible[0].Paths) == 0 {
		t.Errorf("alice's eligible grant = %+v (allowed %v)", ca.Eligible, ca.Allowed)
	}

	// A directory that holds a group without its members says the user
	// may be in more: incomplete, never a complete "no".
	raw, err := os.ReadFile(demoDirectory)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	for _, o := range doc["objects"].([]any) {
		if obj := o.(map[string]any); obj["id"] == "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e0b" { // Payments Contractors
			delete(obj, "members")
			delete(obj, "membersRead")
		}
	}
	partialDir := filepath.Join(t.TempDir(), "partial.json")
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(partialDir, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = run(t, "can", "user:dave@contoso.com", "get", "secrets", "-n", "payments", "-f", demoCluster, "--directory", partialDir)
	if code != ExitError || !strings.HasPrefix(out, "unknown:") || !strings.Contains(stderr, "members were not read") {
		t.Errorf("a directory read in part: exit %d\n%s%s", code, out, stderr)
	}

	// A service principal's groups count as a person's do.
	out, _, code = run(t, "can", "serviceprincipal:7d2e3f40-0000-4000-8000-0000000000b1", "list", "secrets", "-n", "default", "-f", demoCluster, "--directory", demoDirectory)
	if code != 0 || !strings.Contains(out, "SRE On-call") {
		t.Errorf("the service principal in SRE On-call: exit %d\n%s", code, out)
	}

	// who-can --expand-groups --eligible.
	out, stderr, code = run(t, "who-can", "get", "secrets", "-n", "payments", "-f", demoCluster, "--directory", demoDirectory, "--expand-groups", "--eligible", "-o", "json")
	if code != 0 {
		t.Fatalf("who-can: %d %s", code, stderr)
	}
	var wh access.WhoCanAnswer
	if err := json.Unmarshal([]byte(out), &wh); err != nil {
		t.Fatal(err)
	}
	members := map[string]string{} // label -> group
	guests := map[string]bool{}
	for _, g := range wh.Members {
		for _, m := range g.Members {
			members[m.Label()] = g.Group.DisplayName
			guests[m.Label()] = m.Guest
		}
	}
	if members["alice@contoso.com"] != "Payments Developers" || !guests["carol_fabrikam.com#EXT#@contoso.onmicrosoft.com"] || members["grace@contoso.com"] != "AKS Cluster Admins" {
		t.Errorf("members = %v, guests %v", members, guests)
	}
	if _, ok := members["heidi@contoso.com"]; ok {
		t.Errorf("heidi is eligible only, listed as a member")
	}
	eligible := ""
	for _, e := range wh.Eligible {
		if e.Principal.UserPrincipalName == "heidi@contoso.com" {
			eligible = e.Group.DisplayName + " " + e.Until()
		}
	}
	if eligible != "AKS Cluster Admins until 2099-06-30" {
		t.Errorf("heidi's eligibility = %q", eligible)
	}
	// The table and CSV say the same.
	out, _, _ = run(t, "who-can", "get", "secrets", "-n", "payments", "-f", demoCluster, "--directory", demoDirectory, "--expand-groups", "--eligible")
	for _, want := range []string{"Members of the groups", "carol_fabrikam.com#EXT#@contoso.onmicrosoft.com (guest)", "dave@contoso.com via Payments Contractors", "Eligible through PIM", "user:heidi@contoso.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = run(t, "who-can", "get", "secrets", "-n", "payments", "-f", demoCluster, "--directory", demoDirectory, "--expand-groups", "--eligible", "-o", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, r := range recs {
		rows[r[0]] = r[1]
	}
	if !strings.HasPrefix(rows["user:dave@contoso.com"], "member of group:") || !strings.Contains(rows["user:heidi@contoso.com"], "eligible (PIM)") {
		t.Errorf("csv rows = %v", rows)
	}

	// The audit counts the people in each group finding, on every surface.
	out, _, _ = run(t, "audit", "-f", demoCluster, "--directory", demoDirectory, "-o", "json")
	var rep struct {
		Findings []struct {
			Rule, Message string
			People        []struct {
				Group          string
				People, Guests int
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	counted := ""
	for _, f := range rep.Findings {
		if f.Rule == "impersonate" && len(f.People) == 1 && f.People[0].Group == "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02" {
			counted = fmt.Sprintf("%d/%d %s", f.People[0].People, f.People[0].Guests, f.Message)
		}
	}
	if !strings.HasPrefix(counted, "3/1 ") || !strings.Contains(counted, "3 people (1 guest)") {
		t.Errorf("Payments Developers' finding counts %q", counted)
	}
	out, _, _ = run(t, "audit", "-f", demoCluster, "--directory", demoDirectory, "-o", "sarif")
	if !strings.Contains(out, "3 people (1 guest)") {
		t.Error("SARIF does not count the group's people")
	}

	// Without a directory, --expand-groups says it cannot, and the answer
	// is incomplete.
	out, stderr, _ = run(t, "who-can", "get", "secrets", "-n", "web", "-f", demoCluster, "--expand-groups", "-o", "json")
	wh = access.WhoCanAnswer{}
	_ = json.Unmarshal([]byte(out), &wh)
	if !wh.Incomplete || !strings.Contains(out, "no directory to ask") {
		t.Errorf("--expand-groups without a directory: incomplete %v\n%s", wh.Incomplete, stderr)
	}
}

// holds says whether a what-can answer has verb on resource in namespace.
func holds(ans access.WhatCanAnswer, namespace, resource, verb string) bool {
	for _, r := range ans.Rules {
		if r.Namespace == namespace && (slices.Contains(r.Resources, resource) || slices.Contains(r.Resources, "*")) && (slices.Contains(r.Verbs, verb) || slices.Contains(r.Verbs, "*")) {
			return true
		}
	}
	return false
}

// TestGraphSignInBeforeTheScreen: the explorer's Graph sign-in runs
// before the screen is taken; a failed one leaves the people unknown with
// a warning, never a prompt behind the explorer later.
func TestGraphSignInBeforeTheScreen(t *testing.T) {
	calls := 0
	ok := &auth.GraphPeople{G: &auth.Graph{BaseURL: "https://graph.invalid", Token: func(context.Context) (string, error) { calls++; return "t", nil }}}
	app := &access.App{People: ok}
	var out bytes.Buffer
	graphSignIn(t.Context(), app, &out)
	if app.People == nil || calls != 1 || !strings.Contains(out.String(), "Signing in to Microsoft Graph") {
		t.Errorf("a working sign-in: people %v, %d calls, %q", app.People, calls, out.String())
	}
	bad := &auth.GraphPeople{G: &auth.Graph{BaseURL: "https://graph.invalid", Token: func(context.Context) (string, error) { return "", errors.New("AADSTS50058: no account signed in") }}}
	app = &access.App{People: bad}
	graphSignIn(t.Context(), app, &out)
	if app.People != nil || len(app.Warnings) != 1 || !strings.Contains(app.Warnings[0].Message, "AADSTS50058") {
		t.Errorf("a failed sign-in: people %v, warnings %+v", app.People, app.Warnings)
	}
}

// TestWhatCanPeopleRows: what-can's CSV and Markdown carry what its table
// says beside the rules: the groups a user is in (with the chain) and what
// it may activate through PIM, never as a rule it holds.
func TestWhatCanPeopleRows(t *testing.T) {
	for _, format := range []string{"csv", "markdown"} {
		out, stderr, code := run(t, "what-can", "user:dave@contoso.com", "-f", demoCluster, "--directory", demoDirectory, "-o", format)
		if code != 0 || !strings.Contains(out, "member of group:6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02 (Payments Developers): via Payments Contractors") {
			t.Errorf("what-can dave -o %s: %d %s\n%s", format, code, stderr, out)
		}
		out, _, _ = run(t, "what-can", "user:alice@contoso.com", "-f", demoCluster, "--directory", demoDirectory, "-o", format)
		if !strings.Contains(out, "eligible (PIM) for member of group:6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e04 (SRE On-call) until 2099-03-31, not active") {
			t.Errorf("what-can alice -o %s lacks her eligibility:\n%s", format, out)
		}
		out, _, _ = run(t, "what-can", "user:dave@contoso.com", "-f", "../testdata/azure", "-o", format)
		var rows int
		for _, ln := range strings.Split(out, "\n") {
			if strings.Contains(ln, "eligible (PIM for Azure resources): can activate") {
				rows++
				if !strings.Contains(ln, "e1000000-0000-4000-8000-000000000001") || !strings.Contains(ln, "dataAction Microsoft.ContainerService/managedClusters/") {
					t.Errorf("what-can dave (azure) -o %s: an eligible row without its assignment or dataAction: %s", format, ln)
				}
			}
		}
		if rows == 0 {
			t.Errorf("what-can dave (azure) -o %s: no eligible rows:\n%s", format, out)
		}
	}
}
