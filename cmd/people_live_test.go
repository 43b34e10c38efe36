package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/internal/testkit/entratest"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
)

// TestPeopleLive answers about people live, as on AKS: an Entra-shaped
// issuer on loopback whose tokens carry each user's transitive security
// groups (object ids), an API server trusting it, and the issuer's Graph
// (users, nested groups, a guest, PIM eligibility, paging) asked through
// the real HTTP client with a Graph token kubelogin fetches from the same
// sign-in. For every user and request, can with the groups Graph finds
// decides as the API server does for that user signed in (kubectl auth
// can-i through kubelogin); who-can --expand-groups and --eligible list
// the people; snapshot --entra's file answers the same offline; Graph's
// 403 and throttling make the answer incomplete, never "no".
func TestPeopleLive(t *testing.T) {
	ctx := t.Context()
	const (
		tenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		audience = auth.AKSServerID
		secret   = "people-test-client-secret"
		toolApp  = "5a1d7c1e-0000-4000-8000-0000000000f0"
		// Groups: platform holds nested, which holds alice; payments
		// holds carol (a guest) and dave; admins has heidi eligible only;
		// social is a Microsoft 365 group (not security) holding alice.
		platform = "6f1b2c3d-0000-4000-8000-0000000000a1"
		nested   = "6f1b2c3d-0000-4000-8000-0000000000a2"
		payments = "6f1b2c3d-0000-4000-8000-0000000000a3"
		admins   = "6f1b2c3d-0000-4000-8000-0000000000a4"
		social   = "6f1b2c3d-0000-4000-8000-0000000000a5"
	)
	type person struct{ app, oid, upn string }
	people := []person{
		{"5a1d7c1e-0000-4000-8000-0000000000f1", "0b5a1a8c-0000-4000-8000-0000000000b1", "alice@contoso.com"},
		{"5a1d7c1e-0000-4000-8000-0000000000f2", "0b5a1a8c-0000-4000-8000-0000000000b2", "carol_fabrikam.com#EXT#@contoso.onmicrosoft.com"},
		{"5a1d7c1e-0000-4000-8000-0000000000f3", "0b5a1a8c-0000-4000-8000-0000000000b3", "dave@contoso.com"},
		{"5a1d7c1e-0000-4000-8000-0000000000f4", "0b5a1a8c-0000-4000-8000-0000000000b4", "heidi@contoso.com"},
	}
	clients := map[string]entratest.Client{
		toolApp: {Secret: secret, Identity: entratest.Identity{UPN: "tool@contoso.com", OID: "0b5a1a8c-0000-4000-8000-0000000000bf"}},
	}
	for _, p := range people {
		clients[p.app] = entratest.Client{Secret: secret, Identity: entratest.Identity{UPN: p.upn, OID: p.oid, DirectoryGroups: true}}
	}
	is, err := entratest.Start(tenant, audience, clients)
	if err != nil {
		t.Fatal(err)
	}
	defer is.Close()
	is.PageSize = 2 // every list pages
	is.Directory = &entratest.Directory{
		Users: []entratest.User{
			{ID: people[0].oid, UPN: people[0].upn, DisplayName: "Alice"},
			{ID: people[1].oid, UPN: people[1].upn, DisplayName: "Carol (Fabrikam)", Guest: true},
			{ID: people[2].oid, UPN: people[2].upn, DisplayName: "Dave"},
			{ID: people[3].oid, UPN: people[3].upn, DisplayName: "Heidi"},
		},
		Groups: []entratest.Group{
			{ID: platform, DisplayName: "Platform", SecurityEnabled: true, Members: []string{nested}},
			{ID: nested, DisplayName: "Platform On-call", SecurityEnabled: true, Members: []string{people[0].oid}},
			{ID: payments, DisplayName: "Payments", SecurityEnabled: true, Members: []string{people[1].oid, people[2].oid}},
			{ID: admins, DisplayName: "Cluster Admins", SecurityEnabled: true},
			{ID: social, DisplayName: "Social", Members: []string{people[0].oid}},
		},
		Eligibility: []entratest.Schedule{{GroupID: admins, PrincipalID: people[3].oid, AccessID: "member", Start: time.Now().Add(-time.Hour), End: time.Now().Add(30 * 24 * time.Hour)}},
	}

	dir := t.TempDir()
	c, caFile := entraCluster(t, dir, audience, is)
	defer c.Stop()
	bin, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("SSL_CERT_FILE", caFile)
	t.Setenv("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", secret)
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv("KUBECACHEDIR", filepath.Join(dir, "home", "cache"))

	// The cluster: the tool's identity reads everything; RoleBindings to
	// the outer group Platform, to Payments and to Cluster Admins.
	admin := kubernetes.NewForConfigOrDie(c.Config)
	for _, ns := range []string{"platform", "payments"} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bind := func(ns, name, role, kind, subject string) {
		t.Helper()
		s := []rbacv1.Subject{{Kind: kind, APIGroup: rbacv1.GroupName, Name: subject}}
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}
		if ns == "" {
			_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: s}, metav1.CreateOptions{})
		} else {
			_, err = admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, RoleRef: ref, Subjects: s}, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// Roles of their own: no controller manager runs here to aggregate
	// edit and view.
	for name, rules := range map[string][]rbacv1.PolicyRule{
		"deployer":      {{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"create", "get"}}, {APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"get"}}},
		"reader":        {{APIGroups: []string{""}, Resources: []string{"pods", "configmaps"}, Verbs: []string{"get", "list"}}},
		"config-writer": {{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}}},
	} {
		if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	bind("", "tool-reads", "cluster-admin", "User", "tool@contoso.com")
	bind("platform", "platform-deployers", "deployer", "Group", platform)
	bind("payments", "payments-readers", "reader", "Group", payments)
	bind("", "cluster-admins", "cluster-admin", "Group", admins)
	bind("payments", "social-writers", "config-writer", "Group", social) // in no token: a Microsoft 365 group

	graph := is.HTTPClient()
	login := []string{"--kubeconfig=" + c.Kubeconfig, "--login", "spn", "--server-id", audience, "--tenant-id", tenant,
		"--client-id", toolApp, "--authority-host", is.Authority(), "--login-exec", "--graph-url", is.Authority()}
	runGraph := func(args ...string) (string, string, int) {
		t.Helper()
		return runWith(t, func(r *RootOptions) { r.HTTPClient = graph }, append(args, login...)...)
	}

	// what-can alice, no --group: her nested group's RoleBinding, with
	// the chain; the Microsoft 365 group is not hers in a token.
	out, stderr, code := runGraph("what-can", "user:alice@contoso.com", "-o", "json")
	var wc access.WhatCanAnswer
	if err := json.Unmarshal([]byte(out), &wc); err != nil || code != ExitOK {
		t.Fatalf("what-can: %d %v\n%s\n%s", code, err, out, stderr)
	}
	if wc.Memberships == nil {
		t.Fatalf("no memberships:\n%s\n%s", out, stderr)
	}
	var chain []string
	for _, g := range wc.Memberships.Groups {
		if g.Group.ID == platform {
			for _, v := range g.Via {
				chain = append(chain, v.DisplayName)
			}
		}
	}
	if wc.Memberships == nil {
		t.Fatalf("no memberships:\n%s\n%s", out, stderr)
	}
	if wc.MembershipsUnknown || !slices.Equal(chain, []string{"Platform On-call"}) || !holds(wc, "platform", "deployments", "create") || holds(wc, "payments", "configmaps", "create") {
		t.Errorf("what-can alice: unknown %v, chain %v, groups %+v", wc.MembershipsUnknown, chain, wc.Memberships)
	}
	table, _, _ := runGraph("what-can", "user:alice@contoso.com")
	if !strings.Contains(table, "Platform On-call") || !strings.Contains(table, "Microsoft Graph") {
		t.Errorf("what-can's table does not say where her group comes from:\n%s", table)
	}

	// The differential: for each person and request, can (groups from
	// Graph) against the API server deciding for that person signed in.
	raw, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	requests := [][]string{{"create", "deployments.apps", "platform"}, {"get", "secrets", "platform"}, {"list", "pods", "payments"},
		{"create", "configmaps", "payments"}, {"delete", "nodes", ""}, {"get", "pods", "default"}}
	asked := 0
	for _, p := range people {
		kc := filepath.Join(dir, p.app+".kubeconfig")
		l := &auth.Login{Mode: "spn", ServerID: audience, TenantID: tenant, ClientID: p.app, AuthorityHost: is.Authority()}
		if err := l.Validate(); err != nil {
			t.Fatal(err)
		}
		cfg := raw.DeepCopy()
		for _, u := range cfg.AuthInfos {
			*u = *raw.AuthInfos[raw.Contexts[raw.CurrentContext].AuthInfo]
			u.ClientCertificateData, u.ClientKeyData, u.Exec = nil, nil, l.Exec()
		}
		if err := clientcmd.WriteToFile(*cfg, kc); err != nil {
			t.Fatal(err)
		}
		for _, rq := range requests {
			args := []string{"can", "user:" + p.upn, rq[0], rq[1]}
			kargs := []string{"--kubeconfig=" + kc, "auth", "can-i", rq[0], rq[1]}
			if rq[2] != "" {
				args, kargs = append(args, "-n", rq[2]), append(kargs, "-n", rq[2])
			}
			_, errOut, rc := runGraph(args...)
			got, _ := exec.Command(filepath.Join(bin, "kubectl"), kargs...).Output()
			server := strings.TrimSpace(string(got))
			if server != "yes" && server != "no" {
				t.Fatalf("kubectl auth can-i as %s: %s", p.upn, got)
			}
			asked++
			if predicted := rc == ExitOK; predicted != (server == "yes") || rc != ExitOK && rc != ExitDenied {
				t.Errorf("%s %v: can exits %d, the API server says %s\n%s", p.upn, rq, rc, server, errOut)
			}
		}
	}
	if asked != len(people)*len(requests) {
		t.Fatalf("asked %d", asked)
	}

	// heidi may only activate Cluster Admins: no, and eligible apart.
	out, _, code = runGraph("can", "user:heidi@contoso.com", "delete", "nodes")
	if code != ExitDenied || !strings.Contains(out, "eligible (PIM), not active") || !strings.Contains(out, "Cluster Admins") {
		t.Errorf("heidi: exit %d\n%s", code, out)
	}

	// who-can --expand-groups --eligible.
	out, stderr, code = runGraph("who-can", "list", "pods", "-n", "payments", "--expand-groups", "--eligible", "-o", "json")
	var wh access.WhoCanAnswer
	if err := json.Unmarshal([]byte(out), &wh); err != nil || code != ExitOK {
		t.Fatalf("who-can: %d %v\n%s", code, err, stderr)
	}
	members := map[string]bool{}
	for _, g := range wh.Members {
		for _, m := range g.Members {
			members[m.Label()] = m.Guest
		}
	}
	eligible := []string{}
	for _, e := range wh.Eligible {
		eligible = append(eligible, e.Principal.Label())
	}
	if guest, ok := members[people[1].upn]; !ok || !guest || len(members) != 2 || !slices.Contains(slices.Collect(mapsKeys(members)), "dave@contoso.com") {
		t.Errorf("who-can --expand-groups members = %v", members)
	}
	if _, ok := members["heidi@contoso.com"]; ok || !slices.Equal(eligible, []string{"heidi@contoso.com"}) {
		t.Errorf("heidi is eligible only: members %v, eligible %v", members, eligible)
	}

	// snapshot --entra, then the same answers offline.
	snap, entra := filepath.Join(dir, "snap.json"), filepath.Join(dir, "entra.json")
	out, stderr, code = runGraph("snapshot", "-o", "json", "--entra", entra)
	if code != ExitOK {
		t.Fatalf("snapshot --entra: %d %s", code, stderr)
	}
	if err := os.WriteFile(snap, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(entra); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the directory file: %v %v", fi, err)
	}
	for _, p := range people {
		live, _, lc := runGraph("what-can", "user:"+p.upn, "-o", "json")
		off, offErr, oc := run(t, "what-can", "user:"+p.upn, "-f", snap, "--directory", entra, "-o", "json")
		var a, b access.WhatCanAnswer
		_ = json.Unmarshal([]byte(live), &a)
		_ = json.Unmarshal([]byte(off), &b)
		if lc != oc || fmt.Sprint(a.Rules) != fmt.Sprint(b.Rules) || fmt.Sprint(a.Memberships.Groups) != fmt.Sprint(b.Memberships.Groups) || len(a.Eligible) != len(b.Eligible) {
			t.Errorf("%s: live and offline differ (exit %d, %d)\nlive groups %+v\noffline groups %+v\n%s", p.upn, lc, oc, a.Memberships, b.Memberships, offErr)
		}
	}

	// Graph refuses group reads: an incomplete answer, never "no".
	is.Forbid("transitiveMemberOf")
	out, stderr, code = runGraph("can", "user:alice@contoso.com", "get", "secrets", "-n", "payments")
	if code != ExitError || !strings.HasPrefix(out, "unknown:") || !strings.Contains(stderr, "GroupMember.Read.All") {
		t.Errorf("a 403 on the groups: exit %d\n%s%s", code, out, stderr)
	}
	is.Forbid()
	is.ThrottleNext(1000, "0")
	out, stderr, code = runGraph("can", "user:alice@contoso.com", "get", "secrets", "-n", "payments")
	if code != ExitError || !strings.HasPrefix(out, "unknown:") || !strings.Contains(stderr, "429") {
		t.Errorf("throttled: exit %d\n%s%s", code, out, stderr)
	}
	is.ThrottleNext(0, "0")

	// --no-graph: back to the memberships unknown.
	out, _, _ = runGraph("what-can", "user:alice@contoso.com", "--no-graph", "-o", "json")
	wc = access.WhatCanAnswer{}
	_ = json.Unmarshal([]byte(out), &wc)
	if !wc.MembershipsUnknown || wc.Memberships != nil {
		t.Errorf("--no-graph: %+v", wc.Memberships)
	}
	// No output carries a token.
	for _, tok := range is.Issued() {
		if strings.Contains(out+table, strings.Split(tok, ".")[2]) {
			t.Fatal("an output carries a token")
		}
	}
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
