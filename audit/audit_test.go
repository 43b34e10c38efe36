package audit_test

import (
	"github.com/kubectl-access/kubectl-access/audit"

	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// expectation: the rule must report trigger (a subject, or an object for
// the rules about objects) and must not report nearMiss.
type expectation struct {
	rule, trigger, nearMiss string
}

var expectations = []expectation{
	{"cluster-admin-equivalent", "user:u-admin", "user:u-ns-admin"},
	{"secrets-read", "user:u-secrets", "user:u-configmaps"},
	{"impersonate", "user:u-imp", "user:u-get-groups"},
	{"escalate-or-bind", "user:u-bind", "user:u-rbac-read"},
	{"rbac-write", "user:u-rbac-writer", "user:u-rbac-read"},
	{"pod-exec", "user:u-exec", "user:u-logs"},
	{"workload-create", "user:u-deployer", "user:u-scaler"},
	{"nodes-proxy", "user:u-nodeproxy", "user:u-nodes"},
	{"serviceaccount-token-create", "user:u-tokens", "user:u-sa-reader"},
	{"csr-approve", "user:u-approver", "user:u-csr-reader"},
	{"webhook-config-write", "user:u-webhooks", "user:u-webhook-reader"},
	{"persistentvolume-create", "user:u-pv", "user:u-pvc"},
	{"wildcard-grant", "user:u-wild", "user:u-configmaps"},
	{"anonymous-access", "ClusterRoleBinding audit-anonymous", "ClusterRoleBinding system:public-info-viewer"},
	{"broad-group-grant", "group:system:serviceaccounts:audit-a", "ClusterRoleBinding audit-self-review"},
	{"system-masters-binding", "ClusterRoleBinding audit-masters", "ClusterRoleBinding audit-not-masters"},
	{"default-serviceaccount-grant", "sa:audit-a:default", "sa:audit-a:app"},
	{"dangling-binding", "RoleBinding audit-a/dangling-role", "RoleBinding audit-a/ok-binding"},
	{"dangling-binding", "RoleBinding audit-a/ghost-sa", "RoleBinding audit-a/app-sa"},
	{"unused-role", "Role audit-a/orphan", "Role audit-a/logs"},
	{"aggregation-latent-grant", "ClusterRole audit-view-secrets", "ClusterRole audit-view-widgets"},
	{"aggregation-latent-grant", "ClusterRole audit-edit-nodes", "ClusterRole audit-view-widgets"},
	{"escalation-path", "user:u-deployer", "user:u-deployer-b"},
	{"node-write", "user:u-node-writer", "user:u-nodes"},
	{"workload-identity-admin", "sa:audit-w:robot", "sa:audit-w:idle-admin"},
	// Nodes' own grants are node-group-binding's, not the rbac rules'.
	{"node-group-binding", "ClusterRoleBinding audit-legacy-nodes", "ClusterRoleBinding audit-not-nodes"},
	{"secrets-read", "user:u-secrets", "group:system:nodes"},
	{"node-write", "user:u-node-writer", "group:system:nodes"},
}

// probed are the rules decided by the live probes: TestNodeProbes covers
// them.
var probed = []string{"node-authorizer-active", "node-restriction-active"}

// names says whether a finding is about x: a subject or an object. Findings
// on Kubernetes' default policy never count as reported.
func names(f *audit.Finding, x string) bool {
	if f.Default {
		return false
	}
	for _, s := range f.Subjects {
		if s.String() == x {
			return true
		}
	}
	for _, o := range f.Objects {
		if o.String() == x {
			return true
		}
	}
	return false
}

func check(t *testing.T, label string, rep *audit.Report) {
	t.Helper()
	expect(t, label, rep, expectations)
	// Every rule in the catalogue is exercised by some expectation.
	for _, r := range audit.Catalogue() {
		all := slices.Concat(expectations, gmsaExpectations, credentialExpectations, adExpectations)
		if r.Category == audit.CategoryAzure || r.Category == audit.CategoryAKS || r.Category == audit.CategoryAzureIdentity {
			continue // TestAzureRules, TestAKSRules and TestWorkloadIdentityReach cover every one
		}
		if !slices.Contains(probed, r.Name) && !slices.ContainsFunc(all, func(e expectation) bool { return e.rule == r.Name }) {
			t.Errorf("rule %s has no fixture", r.Name)
		}
	}
}

// expect checks each expectation's trigger and near miss, and that every
// finding is well formed.
func expect(t *testing.T, label string, rep *audit.Report, exps []expectation) {
	t.Helper()
	for _, e := range exps {
		var got, near []string
		for i := range rep.Findings {
			f := &rep.Findings[i]
			if f.Rule != e.rule {
				continue
			}
			if names(f, e.trigger) {
				got = append(got, f.Message)
			}
			if names(f, e.nearMiss) {
				near = append(near, f.Message)
			}
		}
		if len(got) == 0 {
			t.Errorf("%s: %s does not report %s", label, e.rule, e.trigger)
		}
		if len(near) > 0 {
			t.Errorf("%s: %s reports the near miss %s: %v", label, e.rule, e.nearMiss, near)
		}
	}
	for _, f := range rep.Findings {
		if f.ID == "" || !strings.HasPrefix(f.ID, f.Rule+"-") || f.Message == "" || f.Title == "" {
			t.Errorf("%s: malformed finding %+v", label, f)
		}
		if f.Category == audit.CategoryRBAC && len(f.Evidence) == 0 && len(f.Objects) == 0 {
			t.Errorf("%s: finding %s says neither through which path nor on which object", label, f.ID)
		}
	}
}

// TestRulesOnTheRealServer loads the fixtures into the real API server and
// audits the live cluster (where the aggregation controller, not our
// engine, fills the aggregated roles); then the same files offline.
func TestRulesOnTheRealServer(t *testing.T) {
	c := clustertest.Get(t)
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)

	// A fresh cluster's high and critical findings are all on Kubernetes'
	// default policy, exactly as pinned, and keep their severity.
	fresh := live(t, ctx, cs)
	defaults := 0
	for _, f := range fresh.Findings {
		if f.Default {
			defaults++
		}
		if f.Severity >= audit.High && !f.Default {
			t.Errorf("fresh cluster: %s finding %s not on the default policy: %s", f.Severity, f.Rule, f.Message)
		}
	}
	if defaults == 0 {
		t.Error("fresh cluster: no finding is marked as Kubernetes' default policy")
	}

	snap, _, err := source.Files([]string{"testdata/fixtures.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := localcluster.Load(ctx, cs, snap); err != nil {
		t.Fatal(err)
	}
	// dangling.yaml's binding names a Role the cluster lacks: read as a
	// file alone it would be a gap, loaded it is truly dangling.
	if err := localcluster.ApplyFiles(ctx, c.Config, "testdata/workloads.yaml", "testdata/dangling.yaml"); err != nil {
		t.Fatal(err)
	}
	// The aggregation controller adds audit-view-secrets' rules to view.
	deadline := time.Now().Add(time.Minute)
	for {
		v, getErr := cs.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
		if getErr != nil {
			t.Fatal(getErr)
		}
		if slices.ContainsFunc(v.Rules, func(r rbacRule) bool { return slices.Contains(r.Resources, "widgets") }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("view was not aggregated")
		}
		time.Sleep(200 * time.Millisecond)
	}
	liveRep := live(t, ctx, cs)
	check(t, "live", liveRep)

	all, _, err := source.Files([]string{"testdata/fixtures.yaml", "testdata/workloads.yaml", "testdata/dangling.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	offline := audit.Run(rbac.NewIndex(all), audit.Options{})
	check(t, "offline", offline)
	// Offline, the missing Role may be on the cluster: the view is
	// incomplete, and the finding says the input lacks the role rather
	// than that it does not exist.
	if !offline.Incomplete || !slices.ContainsFunc(offline.Findings, func(f audit.Finding) bool {
		return f.Rule == "dangling-binding" && strings.Contains(f.Message, "which the input does not hold")
	}) {
		t.Errorf("offline, a binding to a role the input lacks: incomplete %v, findings %v", offline.Incomplete, offline.Findings)
	}
	if !slices.ContainsFunc(liveRep.Findings, func(f audit.Finding) bool {
		return f.Rule == "dangling-binding" && strings.Contains(f.Message, "which does not exist")
	}) {
		t.Error("live, the binding to a missing role is not reported as dangling")
	}

	// Ids are stable across runs and between live and offline input.
	again := live(t, ctx, cs)
	if !slices.EqualFunc(liveRep.Findings, again.Findings, func(a, b audit.Finding) bool { return a.ID == b.ID }) {
		t.Error("finding ids differ between two runs on the same cluster")
	}
	ids := map[string]bool{}
	for _, f := range liveRep.Findings {
		ids[f.ID] = true
	}
	for _, f := range offline.Findings {
		if f.Rule == "secrets-read" && names(&f, "user:u-secrets") && !ids[f.ID] {
			t.Errorf("offline finding %s has an id the live report lacks", f.ID)
		}
	}
}

type rbacRule = rbacv1.PolicyRule

func live(t *testing.T, ctx context.Context, cs kubernetes.Interface) *audit.Report {
	t.Helper()
	snap, err := cluster.Live(ctx, cs, loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	rep := audit.Run(rbac.NewIndex(snap), audit.Options{Defaults: source.Defaults().Pinned(snap)})
	if rep.Incomplete {
		t.Fatalf("admin's view is incomplete: %v", rep.Warnings)
	}
	return rep
}

// TestSARIF checks the SARIF log's shape: the 2.1.0 version, one driver
// rule per catalogue entry, results pointing at file and line for offline
// input, and levels GitHub understands.
func TestSARIF(t *testing.T) {
	snap, where, err := source.Files([]string{"testdata/fixtures.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := audit.Run(rbac.NewIndex(snap), audit.Options{Only: []string{"secrets-read", "unused-role"}})
	b, err := rep.SARIF("v1.2.3", func(o rbac.ObjectRef) (string, int, bool) {
		l, ok := where[o.Key()]
		return l.File, l.Line, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(b); err != nil {
		t.Fatalf("the SARIF log does not validate against the 2.1.0 schema: %v", err)
	}
	// Every rule's findings, objects of every kind, findings without any
	// location: the whole log validates too.
	files := []string{"testdata/fixtures.yaml", "testdata/gmsa.yaml", "testdata/workloads.yaml"}
	everything, at, err := source.Files(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	full := audit.Run(rbac.NewIndex(everything), audit.Options{})
	fb, err := full.SARIF("v1.2.3", func(o rbac.ObjectRef) (string, int, bool) {
		l, ok := at[o.Key()]
		return l.File, l.Line, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(fb); err != nil {
		t.Fatalf("the full SARIF log (%d findings) does not validate: %v", len(full.Findings), err)
	}
	if log.Version != "2.1.0" || log.Schema == "" || len(log.Runs) != 1 {
		t.Fatalf("not a SARIF 2.1.0 log: %s", b)
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != len(audit.Catalogue()) {
		t.Errorf("%d driver rules, want %d", len(run.Tool.Driver.Rules), len(audit.Catalogue()))
	}
	if len(run.Results) != len(rep.Findings) || len(run.Results) == 0 {
		t.Fatalf("%d results for %d findings", len(run.Results), len(rep.Findings))
	}
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule %d", r.RuleID, r.RuleIndex)
		}
		if !slices.Contains([]string{"error", "warning", "note"}, r.Level) {
			t.Errorf("level %q", r.Level)
		}
		if len(r.Locations) == 0 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI != "testdata/fixtures.yaml" || r.Locations[0].PhysicalLocation.Region.StartLine < 2 {
			t.Errorf("result %s: locations %+v, want testdata/fixtures.yaml at a line", r.RuleID, r.Locations)
		}
	}
}

func TestOptionsAndBaseline(t *testing.T) {
	if err := (audit.Options{Only: []string{"secrets-reed"}}).Validate(); err == nil || !strings.Contains(err.Error(), "secrets-read") {
		t.Errorf("unknown rule: %v, want the list of rules", err)
	}
	snap, _, err := source.Files([]string{"testdata/fixtures.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix := rbac.NewIndex(snap)
	full := audit.Run(ix, audit.Options{})
	only := audit.Run(ix, audit.Options{Only: []string{"escalation-path"}})
	if len(only.Findings) == 0 || slices.ContainsFunc(only.Findings, func(f audit.Finding) bool { return f.Rule != "escalation-path" }) {
		t.Errorf("--only escalation-path: %d findings, some of another rule", len(only.Findings))
	}
	skipped := audit.Run(ix, audit.Options{Skip: []string{"unused-role"}})
	if len(skipped.Findings) == len(full.Findings) {
		t.Error("--skip unused-role removed nothing")
	}
	// A baseline of the full report leaves nothing new; a partial one
	// leaves exactly the rest.
	rep := audit.Run(ix, audit.Options{})
	rep.Filter(full)
	if len(rep.Findings) != 0 || rep.Summary != (audit.Summary{}) {
		t.Errorf("against itself: %d findings left, summary %+v", len(rep.Findings), rep.Summary)
	}
	rep = audit.Run(ix, audit.Options{})
	rep.Filter(skipped)
	if len(rep.Findings) == 0 || slices.ContainsFunc(rep.Findings, func(f audit.Finding) bool { return f.Rule != "unused-role" }) {
		t.Errorf("against a report without unused-role: %v", rep.Findings)
	}
	if !full.Reaches(audit.Critical) || audit.Run(ix, audit.Options{Only: []string{"unused-role"}}).Reaches(audit.Low) {
		t.Error("Reaches disagrees with the findings' severities")
	}
	var sev audit.Severity
	if err := json.Unmarshal([]byte(`"high"`), &sev); err != nil || sev != audit.High {
		t.Errorf("severity from JSON: %v %v", sev, err)
	}

}
