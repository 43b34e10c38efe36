package audit_test

import (
	"github.com/kubectl-access/kubectl-access/audit"

	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
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

	snap, err := cluster.Live(ctx, cs, source.Full)
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
	snap, err = cluster.Live(ctx, cs, source.Full)
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
