package cmd

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/internal/testkit/guardhook"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// The differential test's Azure fixture is guardhook's: the guard-like
// webhook decides from it with code of its own, so the engine is checked
// against an authorizer, not against itself.
type (
	fxPerm       = guardhook.Perm
	fxRole       = guardhook.Role
	fxAssignment = guardhook.Assignment
	fxDeny       = guardhook.Deny
	fxUser       = guardhook.User
	azureFixture = guardhook.Fixture
)

const fxPrefix = guardhook.Prefix

// fxGUID is a deterministic object id.
func fxGUID(kind byte, i int) string { return fmt.Sprintf("%c%07x-0000-4000-8000-%012x", kind, i, i) }

// newAzureFixture generates a universe: users in groups, built-in-like
// and custom roles (wildcards, notDataActions, pods/exec, non-resource
// URLs, several permissions), assignments at every scope (management
// group, subscription, resource group, the cluster, its namespaces, and
// scopes that do not reach it), deny assignments.
func newAzureFixture(rng *rand.Rand) *azureFixture {
	sub := "/subscriptions/5a5a5a5a-0000-4000-8000-00000000005a"
	rg := sub + "/resourceGroups/rg-prod"
	f := &azureFixture{Cluster: rg + "/providers/" + fxPrefix + "/aks-prod", Namespaces: []string{"web", "api", "payments", "ops"}}
	for i := range 5 {
		f.Groups = append(f.Groups, fxGUID('b', i))
	}
	for i := range 10 {
		u := fxUser{UPN: fmt.Sprintf("user%d@contoso.com", i), OID: fxGUID('a', i)}
		for _, g := range f.Groups {
			if rng.IntN(3) == 0 {
				u.Groups = append(u.Groups, g)
			}
		}
		f.Users = append(f.Users, u)
	}
	p := func(s ...string) []string {
		out := make([]string, len(s))
		for i, x := range s {
			out[i] = fxPrefix + "/" + x
		}
		return out
	}
	f.Roles = []fxRole{
		{ID: "/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", Name: "Azure Kubernetes Service RBAC Cluster Admin", Perms: []fxPerm{{DataActions: p("*")}}},
		{ID: sub + "/providers/Microsoft.Authorization/roleDefinitions/7f6c6a51-bcf8-42ba-9220-52d62157d7db", Name: "Azure Kubernetes Service RBAC Reader",
			Perms: []fxPerm{{DataActions: p("*/read"), NotDataActions: p("secrets/*", "rbac.authorization.k8s.io/*")}}},
		{ID: sub + "/providers/Microsoft.Authorization/roleDefinitions/a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", Name: "Azure Kubernetes Service RBAC Writer",
			Perms: []fxPerm{{DataActions: p("pods/*", "secrets/*", "configmaps/*", "apps/deployments/*")}, {DataActions: p("namespaces/read")}}},
		{ID: sub + "/providers/Microsoft.Authorization/roleDefinitions/0c0c0c0c-0000-4000-8000-00000000000c", Name: "pod debugger",
			Perms: []fxPerm{{DataActions: p("pods/exec/action", "pods/read")}, {DataActions: p("*"), NotDataActions: p("*")}}},
		{ID: sub + "/providers/Microsoft.Authorization/roleDefinitions/0d0d0d0d-0000-4000-8000-00000000000d", Name: "metrics and deletes",
			Perms: []fxPerm{{DataActions: p("metrics/read", "logs/*", "*/delete"), NotDataActions: p("namespaces/delete")}}},
		{ID: sub + "/providers/Microsoft.Authorization/roleDefinitions/0e0e0e0e-0000-4000-8000-00000000000e", Name: "rbac admin",
			Perms: []fxPerm{{DataActions: p("rbac.authorization.k8s.io/*", "*/impersonate/action")}}},
	}
	scopes := []string{"/providers/Microsoft.Management/managementGroups/contoso", sub, rg, f.Cluster, f.Cluster, f.Cluster,
		sub + "/resourceGroups/rg-dev", rg + "/providers/" + fxPrefix + "/aks-dev"}
	for _, ns := range f.Namespaces {
		scopes = append(scopes, f.Cluster+"/namespaces/"+ns, f.Cluster+"/namespaces/"+ns)
	}
	for i := range 45 {
		a := fxAssignment{ID: fmt.Sprintf("%s/providers/Microsoft.Authorization/roleAssignments/%s", sub, fxGUID('e', i)),
			Scope: scopes[rng.IntN(len(scopes))], RoleID: f.Roles[rng.IntN(len(f.Roles))].ID}
		switch k := rng.IntN(5); {
		case k < 2:
			g := rng.IntN(len(f.Groups))
			a.PrincipalID, a.PrincipalType, a.PrincipalName = f.Groups[g], "Group", fmt.Sprintf("team-%d", g)
		case k < 4:
			u := f.Users[rng.IntN(len(f.Users))]
			a.PrincipalID, a.PrincipalType, a.PrincipalName = u.OID, "User", u.UPN
		default:
			a.PrincipalID, a.PrincipalType = fxGUID('c', rng.IntN(3)), "ServicePrincipal"
		}
		f.Assignments = append(f.Assignments, a)
	}
	f.Denies = []fxDeny{
		{ID: "deny-payments-secrets", Scope: f.Cluster + "/namespaces/payments", Principals: []string{guardhook.Everyone}, Exclude: []string{f.Users[0].OID},
			Perm: fxPerm{DataActions: p("secrets/*")}},
		{ID: "deny-group-exec", Scope: f.Cluster, Principals: []string{f.Groups[1]}, Perm: fxPerm{DataActions: p("pods/exec/action", "*/delete"), NotDataActions: p("pods/delete")}},
		{ID: "deny-user-cluster-only", Scope: f.Cluster, NoChildren: true, Principals: []string{f.Users[2].OID, f.Users[3].OID}, Perm: fxPerm{DataActions: p("*")}},
	}
	return f
}

// azJSON writes the fixture as the az and ARM JSON -f reads.
func azJSON(t *testing.T, f *azureFixture, dir string) []string {
	files, err := f.WriteAzJSON(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fxRequest is one generated request.
type fxRequest struct {
	attrs rbac.Attributes
}

func (r fxRequest) spec() (*authorizationv1.ResourceAttributes, *authorizationv1.NonResourceAttributes) {
	a := r.attrs
	if a.Path != "" {
		return nil, &authorizationv1.NonResourceAttributes{Verb: a.Verb, Path: a.Path}
	}
	return &authorizationv1.ResourceAttributes{Verb: a.Verb, Group: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Namespace: a.Namespace, Name: a.Name}, nil
}

func fxRequests(rng *rand.Rand, f *azureFixture, n int) []fxRequest {
	verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "bind", "escalate", "impersonate", "use"}
	type res struct{ group, resource, sub string }
	resources := []res{{"", "pods", ""}, {"", "pods", "log"}, {"", "pods", "exec"}, {"", "secrets", ""}, {"", "configmaps", ""}, {"apps", "deployments", ""},
		{"apps", "deployments", "scale"}, {"rbac.authorization.k8s.io", "clusterroles", ""}, {"rbac.authorization.k8s.io", "rolebindings", ""},
		{"", "namespaces", ""}, {"", "nodes", ""}, {"", "users", ""}, {"policy", "podsecuritypolicies", ""}}
	urls := []string{"/healthz", "/metrics", "/apis", "/logs", "/version", "/readyz"}
	var out []fxRequest
	for range n {
		var a rbac.Attributes
		if rng.IntN(8) == 0 {
			a = rbac.Attributes{Verb: []string{"get", "post", "get"}[rng.IntN(3)], Path: urls[rng.IntN(len(urls))]}
		} else {
			r := resources[rng.IntN(len(resources))]
			a = rbac.Attributes{Verb: verbs[rng.IntN(len(verbs))], APIGroup: r.group, Resource: r.resource, Subresource: r.sub}
			if rng.IntN(4) > 0 {
				a.Namespace = f.Namespaces[rng.IntN(len(f.Namespaces))]
			}
		}
		out = append(out, fxRequest{attrs: a})
	}
	return out
}

// fxIdentity is one generated requester: the SubjectAccessReview's user,
// groups and extra.oid, and the engine's identity.
type fxIdentity struct {
	user   string
	groups []string
	oid    string
}

func (x fxIdentity) identity() rbac.Identity {
	return rbac.Identity{Name: x.user, Groups: x.groups, ObjectID: x.oid}
}

func fxIdentities(f *azureFixture) []fxIdentity {
	var out []fxIdentity
	for _, u := range f.Users {
		out = append(out, fxIdentity{user: u.UPN, groups: append([]string{rbac.GroupAuthenticated}, u.Groups...), oid: u.OID})
	}
	for i := range 3 { // service principals: their user name is their object id
		out = append(out, fxIdentity{user: fxGUID('c', i), groups: []string{rbac.GroupAuthenticated}, oid: fxGUID('c', i)})
	}
	out = append(out,
		// Azure ignores these: system: users, and a certificate user without an oid.
		fxIdentity{user: "system:serviceaccount:web:app", groups: []string{"system:serviceaccounts", "system:serviceaccounts:web", rbac.GroupAuthenticated, f.Groups[0]}},
		fxIdentity{user: "system:anonymous", groups: []string{rbac.GroupUnauthenticated, f.Groups[0]}},
		fxIdentity{user: "cert-admin", groups: []string{rbac.GroupAuthenticated, f.Groups[2]}},
		// A guest, in two groups.
		fxIdentity{user: "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", groups: []string{rbac.GroupAuthenticated, f.Groups[1], f.Groups[3]}, oid: fxGUID('f', 1)},
	)
	return out
}

// TestAzureRBACDifferential: the engine's decisions with the Azure data
// agree with a real API server whose chain is Node, RBAC and a guard-like
// webhook deciding from the same Azure fixture, on generated decisions
// (namespace and inherited scopes, group assignments, deny assignments,
// notDataActions, wildcards, pods/log and pods/exec, non-resource URLs,
// service accounts and system: users that Azure ignores), with RBAC read
// live and with everything read offline (a snapshot and az's JSON through
// -f); who-can's Azure principals are each allowed by the server and the
// principals it leaves out are denied; what-can lists the Azure grant of
// every request Azure alone allows.
func TestAzureRBACDifferential(t *testing.T) {
	clustertest.Require(t)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(16, 2026))
	fx := newAzureFixture(rng)
	hook := sarWebhook(t, fx.Decide)
	defer hook.Close()
	dir := t.TempDir()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw})
	authz, err := localcluster.WriteWebhookAuthorization(dir, hook.URL, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := clustertest.Start(t, localcluster.Options{AuthorizationConfig: authz, NoControllerManager: true, NoMetricsServer: true})
	admin := kubernetes.NewForConfigOrDie(c.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Kubernetes RBAC decides first: a few grants that overlap Azure's.
	for _, ns := range fx.Namespaces {
		must(admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}))
	}
	must(admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "fx-pods"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods", "pods/log"}}}}, metav1.CreateOptions{}))
	must(admin.RbacV1().RoleBindings("web").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "fx-pods"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "fx-pods"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: fx.Users[4].UPN}, {Kind: "Group", APIGroup: rbacv1.GroupName, Name: fx.Groups[4]},
			{Kind: "ServiceAccount", Name: "app", Namespace: "web"}}}, metav1.CreateOptions{}))
	must(admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "fx-cert-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "cert-admin"}}}, metav1.CreateOptions{}))

	kc := "--kubeconfig=" + c.Kubeconfig
	snapJSON, errOut, code := run(t, "snapshot", kc, "-o", "json")
	if code != ExitOK {
		t.Fatalf("snapshot: %d\n%s", code, errOut)
	}
	var live rbac.Snapshot
	if err := json.Unmarshal([]byte(snapJSON), &live); err != nil {
		t.Fatal(err)
	}
	if live.AzureRBAC == nil || live.AzureRBAC.State != rbac.ProbeActive {
		t.Fatalf("the probe did not find the guard-like webhook: %+v", live.AzureRBAC)
	}
	snapFile := filepath.Join(dir, "snapshot.json")
	if err := os.WriteFile(snapFile, []byte(snapJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	azFiles := azJSON(t, fx, dir)
	// The fixture also assigns roles on another cluster (aks-dev), so which
	// one the view is of must be said.
	if _, err := source.Read(ctx, append([]string{snapFile}, azFiles...), source.ReadOptions{}); err == nil || !strings.Contains(err.Error(), "give --azure-cluster-id") {
		t.Errorf("assignments naming two clusters read without --azure-cluster-id: %v", err)
	}
	offline, err := source.Read(ctx, append([]string{snapFile}, azFiles...), source.ReadOptions{AzureClusterID: fx.Cluster})
	if err != nil {
		t.Fatal(err)
	}
	if offline.Snapshot.Azure == nil || offline.Snapshot.Azure.ClusterID != fx.Cluster {
		t.Fatalf("offline Azure data: %+v", offline.Snapshot.Azure)
	}
	// Live with the Azure data from files (--azure-rbac-from): RBAC read
	// from the cluster, Azure from the same az and ARM JSON -f read.
	liveJSON, errOut, code := run(t, "snapshot", kc, "--azure-rbac-from", strings.Join(azFiles, ","), "--azure-cluster-id", fx.Cluster, "-o", "json")
	var withFiles rbac.Snapshot
	if err := json.Unmarshal([]byte(liveJSON), &withFiles); err != nil || code != ExitOK || withFiles.Azure == nil || len(withFiles.Azure.Assignments) != len(offline.Snapshot.Azure.Assignments) {
		t.Fatalf("snapshot --azure-rbac-from: code %d %v\n%s", code, err, errOut)
	}
	if !strings.Contains(errOut, "not checked against the API server") {
		t.Errorf("snapshot --azure-rbac-from does not say the files' cluster is unchecked:\n%s", errOut)
	}
	for _, bad := range [][]string{{"-f", snapFile}, {"--azure-rbac"}} {
		if _, stderr, exit := run(t, append([]string{"who-can", "get", "pods", kc, "--azure-rbac-from", azFiles[0]}, bad...)...); exit != ExitError || !strings.Contains(stderr, "--azure-rbac") {
			t.Errorf("--azure-rbac-from with %v: code %d\n%s", bad, exit, stderr)
		}
	}
	// The files are read while the cluster loads; a malformed one still
	// ends the command with its error, and no answer.
	badAz := filepath.Join(dir, "bad-az.json")
	if err := os.WriteFile(badAz, []byte(`[{"id": "x", "type": "Microsoft.Authorization/roleAssignments", "scope": 7}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, exit := run(t, "who-can", "get", "secrets", "-n", "web", kc, "--azure-rbac-from", badAz); exit != ExitError || stdout != "" || !strings.Contains(stderr, "--azure-rbac-from: ") || !strings.Contains(stderr, "bad-az.json") {
		t.Errorf("who-can --azure-rbac-from a malformed file: code %d\n%s\n%s", exit, stdout, stderr)
	}
	// From stdin (read once signed in, as a credential plugin may prompt
	// on the terminal first), beside files.
	assignments, err := os.ReadFile(azFiles[0])
	if err != nil {
		t.Fatal(err)
	}
	stdin := func(r *RootOptions) { r.In = strings.NewReader(string(assignments)) }
	if stdout, stderr, exit := runWith(t, stdin, "who-can", "get", "secrets", "-n", "web", kc, "-o", "wide", "--azure-cluster-id", fx.Cluster,
		"--azure-rbac-from", strings.Join(append([]string{"-"}, azFiles[1:]...), ",")); exit != ExitOK || !strings.Contains(stdout, "Azure \"") {
		t.Errorf("who-can --azure-rbac-from - (assignments on stdin): code %d\n%s\n%s", exit, stdout, stderr)
	}
	views := map[string]*rbac.Index{"live": rbac.NewIndex(&withFiles), "offline": rbac.NewIndex(offline.Snapshot)}

	// Live through ARM: --azure-rbac reads the fixture from a loopback ARM
	// with the real armauthorization client, signed in at the loopback
	// Entra issuer; the snapshot keeps it.
	armSrv := newFxARM(t, fx, c.Config.Host)
	withARM := func(r *RootOptions) { r.azureOptions = armSrv.options(t) }
	armJSON, errOut, code := runWith(t, withARM, "snapshot", kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster, "-o", "json")
	var fromARM rbac.Snapshot
	if err := json.Unmarshal([]byte(armJSON), &fromARM); err != nil || code != ExitOK || fromARM.Azure == nil {
		t.Fatalf("snapshot --azure-rbac: code %d %v\n%s", code, err, errOut)
	}
	if d := fromARM.Azure; len(d.Gaps) > 0 || len(d.Roles) != len(fx.Roles) || len(d.Denies) != len(fx.Denies) || !strings.EqualFold(d.ClusterID, fx.Cluster) {
		t.Errorf("ARM's data: %d roles, %d denies, gaps %v, cluster %s", len(d.Roles), len(d.Denies), d.Gaps, d.ClusterID)
	}
	reaching := 0
	for _, x := range fx.Assignments {
		if fx.Reaches(x.Scope) {
			reaching++
		}
	}
	if len(fromARM.Azure.Assignments) != reaching {
		t.Errorf("ARM's data: %d assignments, want the %d that reach the cluster", len(fromARM.Azure.Assignments), reaching)
	}
	views["live ARM"] = rbac.NewIndex(&fromARM)
	// ARM names no principal: Microsoft Graph (the issuer's, asked with
	// the same sign-in) names users by UPN, groups and service principals
	// by display name, and knows which principal is deleted.
	if dir := fromARM.Azure.Directory; dir == nil || !dir.Gone(fxGoneSP) || len(dir.NotFound) != 1 {
		t.Errorf("Graph's directory in the snapshot: %+v, want only %s not found", dir, fxGoneSP)
	}
	upn := map[string]string{}
	for _, u := range fx.Users {
		upn[u.OID] = u.UPN
	}
	for _, a := range fromARM.Azure.Assignments {
		want := upn[a.PrincipalID]
		switch {
		case a.PrincipalType == "Group":
			want = fmt.Sprintf("team-%d", slices.Index(fx.Groups, a.PrincipalID))
		case a.PrincipalType == "ServicePrincipal" && a.PrincipalID != fxGoneSP:
			want = "sp-" + a.PrincipalID[7:8]
		}
		if a.PrincipalName != want {
			t.Errorf("assignment %s of %s %s is named %q, want %q", a.ID, a.PrincipalType, a.PrincipalID, a.PrincipalName, want)
		}
	}
	// PIM for Azure resources, live: an eligible assignment of the
	// Cluster Admin role is read from ARM's roleEligibilityScheduleInstances
	// and listed apart, never as access; a 403 on that list is a warning
	// of the eligible list only, the active answer as whole as before.
	const eligibleOID = "e1e1e1e1-0000-4000-8000-0000000000e1"
	armSrv.fx.Lock()
	armSrv.eligible = []map[string]any{eligibleInstance(fx.Cluster, "e1000000-0000-4000-8000-0000000000e1", eligibleOID, "User", fx.Roles[0].ID, "2031-01-01T00:00:00Z")}
	armSrv.fx.Unlock()
	canEligible := []string{"can", "user:" + eligibleOID, "delete", "namespaces", kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster}
	out, errOut, code := runWith(t, withARM, canEligible...)
	if code != ExitDenied || !strings.Contains(out, `eligible (PIM for Azure resources), not active: user:`+eligibleOID+` may activate role "Azure Kubernetes Service RBAC Cluster Admin" at cluster aks-prod until 2031-01-01, which would allow it via Azure`) {
		t.Errorf("can, eligible through PIM for Azure resources: code %d, want %d (no)\n%s\n%s", code, ExitDenied, out, errOut)
	}
	wjs, errOut, code := runWith(t, withARM, "who-can", "delete", "namespaces", kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster, "--eligible", "-o", "json")
	var wc access.WhoCanAnswer
	if err := json.Unmarshal([]byte(wjs), &wc); err != nil || code != ExitOK {
		t.Fatalf("who-can --eligible --azure-rbac: code %d %v\n%s", code, err, errOut)
	}
	if len(wc.Eligible) != 1 || wc.Eligible[0].Azure == nil || wc.Eligible[0].Principal.ID != eligibleOID || wc.Eligible[0].End.Format("2006-01-02") != "2031-01-01" ||
		wc.Eligible[0].Azure.RoleName != "Azure Kubernetes Service RBAC Cluster Admin" || wc.Eligible[0].Azure.DataAction != "Microsoft.ContainerService/managedClusters/*" {
		t.Errorf("who-can --eligible --azure-rbac: eligible %+v", wc.Eligible)
	}
	for _, s := range wc.Subjects {
		if s.Name == eligibleOID {
			t.Errorf("the eligible principal is listed as allowed: %+v", s)
		}
	}
	armSrv.forbidEligible.Store(true)
	fjs, errOut, code := runWith(t, withARM, "snapshot", kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster, "-o", "json")
	var forbidden rbac.Snapshot
	if err := json.Unmarshal([]byte(fjs), &forbidden); err != nil || code != ExitOK || forbidden.Azure == nil {
		t.Fatalf("snapshot --azure-rbac, PIM's list forbidden: code %d %v\n%s", code, err, errOut)
	}
	if d := forbidden.Azure; len(d.Gaps) != 0 || len(d.Eligible) != 0 || len(d.EligibleGaps) == 0 ||
		!strings.Contains(d.EligibleGaps[0], "eligible role assignments (PIM) at "+fx.Cluster+": forbidden") {
		t.Errorf("PIM's list forbidden: gaps %q, eligible gaps %q, %d eligible", d.Gaps, d.EligibleGaps, len(d.Eligible))
	}
	out, errOut, code = runWith(t, withARM, canEligible...)
	if code != ExitDenied || strings.Contains(out, "eligible (PIM") || !strings.Contains(errOut, "eligible Azure role assignments (PIM for Azure resources) could not all be read") {
		t.Errorf("can with PIM's list forbidden: code %d, want %d (a denial, complete) and a warning\n%s\n%s", code, ExitDenied, out, errOut)
	}
	armSrv.forbidEligible.Store(false)

	// A fleet: --azure-rbac signs in to Azure once and each context finds
	// its own AKS cluster by its server (both contexts here are the same
	// cluster), so every member's who-can lists the Azure principals.
	fkc, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cur := fkc.Contexts[fkc.CurrentContext]
	fkc.Contexts = map[string]*clientcmdapi.Context{"aks-east": cur, "aks-west": cur}
	fkc.CurrentContext = "aks-east"
	fleetKC := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*fkc, fleetKC); err != nil {
		t.Fatal(err)
	}
	fout, ferr, fcode := runWith(t, withARM, "who-can", "get", "secrets", "-n", "web", "--contexts", "aks-*", "--azure-rbac", "-o", "wide", "--kubeconfig="+fleetKC)
	sections := strings.Split(fout, "== aks-")
	if fcode != ExitOK || len(sections) != 3 || strings.Contains(ferr, "Azure role assignments could not be read") {
		t.Errorf("fleet who-can --azure-rbac: code %d, %d sections\n%s\n%s", fcode, len(sections)-1, fout, ferr)
	}
	// What makes these answers incomplete is Azure's (deny assignments
	// naming principals), and the mark says so.
	if !strings.Contains(ferr, "[aks-east] INCOMPLETE: Azure RBAC could change it (see the warnings)") {
		t.Errorf("the incomplete mark does not name Azure as its cause:\n%s", ferr)
	}
	for _, sec := range sections[1:] {
		if !strings.Contains(sec, "Azure \"Azure Kubernetes Service RBAC") {
			t.Errorf("a fleet member's who-can lists no Azure grant:\n%s", sec)
		}
	}
	if _, ferr, fcode := runWith(t, withARM, "who-can", "get", "secrets", "-n", "web", "--contexts", "aks-*", "--azure-rbac", "--azure-cluster-id", fx.Cluster, "--kubeconfig="+fleetKC); fcode != ExitError || !strings.Contains(ferr, "names one cluster") {
		t.Errorf("a fleet with --azure-cluster-id: code %d\n%s", fcode, ferr)
	}

	// With Graph's answers the audit finds the broad group (500 members)
	// and the deleted service principal, live.
	js, errOut, code := runWith(t, withARM, "audit", kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster, "--only", "azure-broad-group,azure-orphaned-assignment", "-o", "json")
	var found audit.Report
	if err := json.Unmarshal([]byte(js), &found); err != nil || code != ExitOK {
		t.Fatalf("audit --azure-rbac: code %d %v\n%s", code, err, errOut)
	}
	broadSeen, goneSeen := false, false
	for _, f := range found.Findings {
		z := f.Evidence[0].Azure
		switch {
		case f.Rule == "azure-broad-group" && z.PrincipalID == fx.Groups[fxBroadGroup] && strings.Contains(f.Message, "500 members"):
			broadSeen = true
		case f.Rule == "azure-orphaned-assignment" && z.PrincipalID == fxGoneSP:
			goneSeen = true
		default:
			t.Errorf("unexpected finding %s: %s", f.Rule, f.Message)
		}
	}
	if !broadSeen || !goneSeen {
		t.Errorf("audit --azure-rbac: broad group found %v, deleted service principal found %v: %d findings", broadSeen, goneSeen, len(found.Findings))
	}
	// A cluster id that is not the kubeconfig's cluster is refused, and the
	// answer is incomplete rather than decided by another cluster's data.
	other := strings.Replace(fx.Cluster, "aks-prod", "aks-dev", 1)
	out, errOut, code = runWith(t, withARM, "can", "user:"+fx.Users[5].UPN, "--oid", fx.Users[5].OID, "escalate", "clusterroles.rbac.authorization.k8s.io", kc, "--azure-rbac", "--azure-cluster-id", other)
	if code != ExitError || !strings.Contains(errOut, "Azure role assignments could not be read") {
		t.Errorf("can --azure-cluster-id of another cluster: code %d, want %d\n%s\n%s", code, ExitError, out, errOut)
	}

	ask := func(x fxIdentity, r fxRequest) authorizationv1.SubjectAccessReviewStatus {
		t.Helper()
		ra, nra := r.spec()
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: x.user, Groups: x.groups, ResourceAttributes: ra, NonResourceAttributes: nra}}
		if x.oid != "" {
			sar.Spec.Extra = map[string]authorizationv1.ExtraValue{"oid": {x.oid}}
		}
		got, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return got.Status
	}

	ids := fxIdentities(fx)
	reqs := fxRequests(rng, fx, 80)
	decisions, allowedByAzure, disagreements := 0, 0, 0
	type azureOnly struct {
		id fxIdentity
		r  fxRequest
	}
	var azureAllowed []azureOnly
	for _, x := range ids {
		for _, r := range reqs {
			server := ask(x, r)
			if server.Allowed && strings.HasPrefix(server.Reason, "Access allowed by Azure RBAC") {
				allowedByAzure++
			}
			for name, ix := range views {
				res := ix.Can(x.identity(), r.attrs)
				if res.Allowed != server.Allowed || res.Incomplete {
					disagreements++
					if disagreements < 20 {
						t.Errorf("%s: %s %s (groups %v, oid %q): ours allowed=%v incomplete=%v %v, the server's %v (%s)", name, x.user, r.attrs.String()+" -n "+r.attrs.Namespace,
							x.groups, x.oid, res.Allowed, res.Incomplete, res.Via, server.Allowed, server.Reason)
					}
				}
				if name == "live" && res.Allowed && len(res.Via) > 0 && res.Via[0].Azure != nil {
					azureAllowed = append(azureAllowed, azureOnly{x, r})
				}
			}
			decisions++
		}
	}
	if decisions < 1000 {
		t.Errorf("only %d decisions", decisions)
	}
	// The universe must exercise Azure both ways, or agreeing proves little.
	if allowedByAzure < 100 || decisions-allowedByAzure < 100 {
		t.Errorf("the fixture is lopsided: %d of %d decisions allowed by Azure", allowedByAzure, decisions)
	}
	t.Logf("%d decisions (%d allowed by Azure RBAC) in %d views, %d disagreements", decisions, allowedByAzure, len(views), disagreements)

	// The CLI offline on a sample: exit codes and the path's kind.
	for i, ar := range azureAllowed {
		if i%25 != 0 {
			continue
		}
		a := ar.r.attrs
		args := []string{"can", "user:" + ar.id.user, "--oid", ar.id.oid, a.Verb}
		for _, g := range ar.id.groups {
			if g != rbac.GroupAuthenticated {
				args = append(args, "--group", g)
			}
		}
		if a.Path != "" {
			args = append(args, a.Path)
		} else {
			res := a.Resource
			if a.APIGroup != "" {
				res += "." + a.APIGroup
			}
			if a.Subresource != "" {
				res += "/" + a.Subresource
			}
			args = append(args, res)
			if a.Namespace != "" {
				args = append(args, "-n", a.Namespace)
			}
		}
		args = append(args, "-o", "json", "--azure-cluster-id", fx.Cluster, "-f", snapFile)
		for _, f := range azFiles {
			args = append(args, "-f", f)
		}
		canJSON, stderr, exit := run(t, args...)
		var ans access.CanAnswer
		if err := json.Unmarshal([]byte(canJSON), &ans); err != nil || exit != ExitOK || !ans.Allowed || !strings.Contains(canJSON, `"azure": {`) {
			t.Errorf("%v: code %d %v\n%s\n%s", args, exit, err, canJSON, stderr)
		}
	}

	// who-can: every Azure principal listed is allowed by the server (a
	// group as a member of it), and every user left out is denied.
	for _, r := range reqs[:30] {
		for name, ix := range views {
			w := ix.WhoCan(r.attrs, false)
			listed := map[string]bool{}
			for _, g := range w.Subjects {
				listed[g.Kind+":"+g.Name] = true
				if g.ObjectID == "" {
					continue
				}
				var x fxIdentity
				switch g.Kind {
				case rbac.GroupKind:
					x = fxIdentity{user: "member@contoso.com", oid: fxGUID('9', 9), groups: []string{rbac.GroupAuthenticated, g.Name}}
				default:
					x = fxIdentity{user: g.Subject().Name, oid: g.ObjectID, groups: []string{rbac.GroupAuthenticated}}
				}
				if s := ask(x, r); !s.Allowed {
					t.Errorf("%s who-can %s -n %s lists %s:%s, which the server denies (%s)", name, r.attrs.String(), r.attrs.Namespace, g.Kind, g.Name, s.Reason)
				}
			}
			if listed["Group:"+rbac.GroupAuthenticated] {
				continue
			}
			for _, u := range fx.Users {
				// ARM's assignments name no principal: a user is listed by
				// its object id there, by its UPN where az gave one.
				if listed["User:"+u.UPN] || listed["User:"+u.OID] {
					continue
				}
				x := fxIdentity{user: u.UPN, oid: u.OID, groups: []string{rbac.GroupAuthenticated}}
				if s := ask(x, r); s.Allowed {
					t.Errorf("%s who-can %s -n %s leaves out %s, whom the server allows (%s)", name, r.attrs.String(), r.attrs.Namespace, u.UPN, s.Reason)
				}
			}
		}
	}

	// what-can: each request Azure alone allows has an Azure grant listed
	// whose dataAction covers it at the request's namespace or cluster-wide.
	ix := views["live"]
	for _, ar := range azureAllowed {
		if ar.r.attrs.Path != "" && azurerbac.DiscoveryAllowed(azurerbac.Request{Verb: ar.r.attrs.Verb, Path: ar.r.attrs.Path}) {
			continue // guard's own allowance, not a role's
		}
		action := guardhook.Action(&authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: func() *authorizationv1.ResourceAttributes { ra, _ := ar.r.spec(); return ra }(),
			NonResourceAttributes: func() *authorizationv1.NonResourceAttributes { _, n := ar.r.spec(); return n }()})
		found := false
		for _, rule := range ix.WhatCan(ar.id.identity(), "").Rules {
			if len(rule.DataActions) == 0 || rule.Namespace != "" && rule.Namespace != ar.r.attrs.Namespace {
				continue
			}
			if (fxPerm{DataActions: rule.DataActions, NotDataActions: rule.NotDataActions}).Allows(action) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("what-can %s lacks the Azure grant of %s -n %s (%s)", ar.id.user, ar.r.attrs.String(), ar.r.attrs.Namespace, action)
		}
	}

	// fix --apply through ARM: an azure-secrets-read finding of a user's
	// assignment is fixed by deleting it (read, guard checked, deleted),
	// after which the server and the engine agree the user lost it there.
	js, errOut, code = runWith(t, withARM, "audit", kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster, "--only", "azure-secrets-read", "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code != ExitOK {
		t.Fatalf("audit --azure-rbac: code %d %v\n%s", code, err, errOut)
	}
	var f *audit.Finding
	for i := range rep.Findings {
		if z := rep.Findings[i].Evidence[0].Azure; z != nil && z.PrincipalType == "User" && rep.Findings[i].Fixable {
			f = &rep.Findings[i]
			break
		}
	}
	if f == nil {
		t.Fatalf("no fixable azure-secrets-read finding of a user: %d findings", len(rep.Findings))
	}
	z := f.Evidence[0].Azure
	var who fxUser
	for _, u := range fx.Users {
		if u.OID == z.PrincipalID {
			who = u
		}
	}
	ns := (&rbac.AzurePath{Scope: z.Scope}).AzureNamespace()
	if ns == "" {
		ns = "ops"
	}
	secrets := fxRequest{attrs: rbac.Attributes{Verb: "get", Resource: "secrets", Namespace: ns}}
	me := fxIdentity{user: who.UPN, oid: who.OID, groups: append([]string{rbac.GroupAuthenticated}, who.Groups...)}
	restoreDir := t.TempDir()
	out, errOut, code = runWith(t, withARM, "fix", f.ID, kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster, "--apply", "--yes", "--restore-dir", restoreDir)
	if code != ExitOK || armSrv.writes.Load() != 1 || !strings.Contains(out+errOut, "az role assignment delete --ids") {
		t.Fatalf("fix --apply: code %d, %d ARM writes\n%s\n%s", code, armSrv.writes.Load(), out, errOut)
	}
	// The restore script creates the assignment again, as it was.
	scripts, _ := filepath.Glob(filepath.Join(restoreDir, "restore-"+f.ID+"-*.sh"))
	if len(scripts) != 1 || !strings.Contains(errOut, "To put it back: sh ") {
		t.Fatalf("restore scripts %v\n%s", scripts, errOut)
	}
	script, _ := os.ReadFile(scripts[0])
	if st, _ := os.Stat(scripts[0]); st.Mode().Perm() != 0o600 || !strings.Contains(string(script), "az role assignment create --assignee-object-id '"+z.PrincipalID+"'") || !strings.Contains(string(script), z.Scope) {
		t.Errorf("the restore script (%v):\n%s", st.Mode(), script)
	}
	fx.RLock()
	gone := !slices.ContainsFunc(fx.Assignments, func(x fxAssignment) bool { return strings.EqualFold(x.ID, z.Assignment) })
	fx.RUnlock()
	if !gone {
		t.Errorf("fix --apply: assignment %s still there", z.Assignment)
	}
	again, _, _ := runWith(t, withARM, "snapshot", kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster, "-o", "json")
	var after rbac.Snapshot
	if err := json.Unmarshal([]byte(again), &after); err != nil {
		t.Fatal(err)
	}
	server := ask(me, secrets)
	if ours := rbac.NewIndex(&after).Can(me.identity(), secrets.attrs); ours.Allowed != server.Allowed {
		t.Errorf("after the fix: ours %v, the server's %v (%s)", ours.Allowed, server.Allowed, server.Reason)
	}
	if _, _, code := runWith(t, withARM, "fix", f.ID, kc, "--azure-rbac", "--azure-cluster-id", fx.Cluster, "--apply", "--yes"); code == ExitOK || armSrv.writes.Load() != 1 {
		t.Errorf("a fixed finding applied again: code %d, %d writes", code, armSrv.writes.Load())
	}
}
