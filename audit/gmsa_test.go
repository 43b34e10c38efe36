package audit_test

import (
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

var gmsaExpectations = []expectation{
	{"gmsa-use-denied", "sa:gmsa-a:nouse", "sa:gmsa-a:webapp"},
	{"gmsa-spec-missing", "Pod gmsa-a/ghost", "Pod gmsa-a/web"},
	{"gmsa-use-broad", "sa:gmsa-a:broad", "sa:gmsa-a:webapp"},
	{"gmsa-use-broad", "group:system:serviceaccounts:gmsa-off", "sa:gmsa-off:app"},
	{"gmsa-spec-write", "user:u-gmsa-writer", "user:u-gmsa-reader"},
	{"gmsa-unchecked-container", "Pod gmsa-a/init-sneak", "Pod gmsa-a/web"},
	{"gmsa-linux-node", "Pod gmsa-a/on-linux", "Pod gmsa-a/web"},
	{"gmsa-namespace-opt-out", "Namespace gmsa-off", "Namespace gmsa-a"},
	{"gmsa-credential-secret-readable", "user:u-cred-reader", "user:u-other-secret"},
	{"gmsa-webhook-missing", "ValidatingWebhookConfiguration gmsa-validating", "MutatingWebhookConfiguration unrelated-mutating"},
}

// TestGMSARules loads the gMSA fixtures (the CRD, specs, pods, nodes, a
// webhook) into a real API server of its own and audits it live, then
// the same file offline. Before the fixtures, the server has no gMSA
// CRD: that is "gMSA not in use", neither a gap nor a finding.
func TestGMSARules(t *testing.T) {
	ctx := t.Context()
	c, err := localcluster.Start(ctx, localcluster.Options{Dir: t.TempDir(), NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	cs := kubernetes.NewForConfigOrDie(c.Config)

	snap, err := cluster.Live(ctx, cs, loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	if snap.GMSAInstalled || len(snap.Gaps) > 0 {
		t.Fatalf("no CRD: installed=%v, gaps %v", snap.GMSAInstalled, snap.Gaps)
	}
	for _, f := range audit.Run(rbac.NewIndex(snap), audit.Options{}).Findings {
		if f.Category == audit.CategoryGMSA {
			t.Errorf("gMSA not in use, yet: %s", f.Message)
		}
	}

	if err := localcluster.ApplyFiles(ctx, c.Config, "testdata/gmsa.yaml"); err != nil {
		t.Fatal(err)
	}
	snap, err = cluster.Live(ctx, cs, loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	if !snap.GMSAInstalled || len(snap.GMSACredentialSpecs) != 2 || len(snap.Gaps) > 0 {
		t.Fatalf("live: installed=%v, %d specs, gaps %v", snap.GMSAInstalled, len(snap.GMSACredentialSpecs), snap.Gaps)
	}
	live := audit.Run(rbac.NewIndex(snap), audit.Options{})
	expect(t, "live", live, gmsaExpectations)
	for _, f := range live.Findings {
		if f.Rule == "gmsa-webhook-missing" && names(&f, "ValidatingWebhookConfiguration gmsa-validating") && f.Severity != audit.High {
			t.Errorf("a missing service behind a failurePolicy Ignore webhook: %s, want high", f.Severity)
		}
	}

	// Issue 14, item 4: a view that could not read the credential specs,
	// or the RoleBindings, invents no finding about them.
	partial := func(user string, rules ...rbacv1.PolicyRule) *audit.Report {
		t.Helper()
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		bind(t, ctx, cs, user, user, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user})
		waitAllowed(t, ctx, cs, user, authorizationv1.ResourceAttributes{Verb: "list", Resource: "pods"})
		cfg := rest.CopyConfig(c.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
		snap, liveErr := cluster.Live(ctx, kubernetes.NewForConfigOrDie(cfg), loading.Full)
		if liveErr != nil {
			t.Fatal(liveErr)
		}
		return audit.Run(rbac.NewIndex(snap), audit.Options{})
	}
	readAll := func(groups ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: groups, Resources: []string{"*"}, Verbs: []string{"get", "list"}}
	}
	noSpecs := partial("gmsa-no-specs", readAll("", "rbac.authorization.k8s.io", "admissionregistration.k8s.io", "apps"))
	if !noSpecs.Incomplete || len(ruleOf(noSpecs, "gmsa-spec-missing")) > 0 {
		t.Errorf("credential specs unreadable: incomplete %v, yet gmsa-spec-missing says %v", noSpecs.Incomplete, ruleOf(noSpecs, "gmsa-spec-missing"))
	}
	noBindings := partial("gmsa-no-rolebindings", readAll("", "admissionregistration.k8s.io", "windows.k8s.io"),
		rbacv1.PolicyRule{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"roles", "clusterroles", "clusterrolebindings"}, Verbs: []string{"list"}})
	if !noBindings.Incomplete || len(ruleOf(noBindings, "gmsa-use-denied")) > 0 {
		t.Errorf("RoleBindings unreadable: incomplete %v, yet gmsa-use-denied says %v", noBindings.Incomplete, ruleOf(noBindings, "gmsa-use-denied"))
	}

	files, _, err := source.Files([]string{"testdata/gmsa.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	offline := audit.Run(rbac.NewIndex(files), audit.Options{})
	expect(t, "offline", offline, append(gmsaExpectations,
		expectation{"gmsa-use-denied", "Deployment gmsa-a/templated", "Pod gmsa-a/web"}))
	if len(live.Findings) == 0 {
		t.Fatal("no findings")
	}
}

func ruleOf(rep *audit.Report, rule string) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Rule == rule {
			out = append(out, f.Message)
		}
	}
	return out
}
