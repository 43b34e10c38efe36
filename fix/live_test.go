package fix_test

import (
	"errors"

	"github.com/kubectl-access/kubectl-access/fix"

	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// liveFixes: each fixable rule, the subject or object its fixture plants,
// and whether to apply the fix through the kubectl commands it prints
// (a patch, a create, a delete, and a narrowing fix's delete then create)
// rather than through the Applier.
var liveFixes = []struct {
	rule, trigger string
	kubectl       bool
	narrow        bool // fix.Options.Narrow
}{
	{"escalation-path", "user:u-deployer", false, false},
	{"secrets-read", "user:u-secrets", true, false},
	{"gmsa-use-denied", "sa:gmsa-a:nouse", true, false},
	{"dangling-binding", "RoleBinding audit-a/dangling-role", true, false},
	{"cluster-admin-equivalent", "user:u-admin", false, false},
	{"impersonate", "user:u-imp", false, false},
	{"escalate-or-bind", "user:u-bind", false, false},
	{"rbac-write", "user:u-rbac-writer", false, false},
	{"pod-exec", "user:u-exec", false, false},
	{"workload-create", "user:u-deployer-b", false, false},
	{"nodes-proxy", "user:u-nodeproxy", false, false},
	{"serviceaccount-token-create", "user:u-tokens", false, false},
	{"csr-approve", "user:u-approver", false, false},
	{"webhook-config-write", "user:u-webhooks", false, false},
	{"persistentvolume-create", "user:u-pv", false, false},
	{"node-write", "user:u-node-writer", false, false},
	{"gmsa-spec-write", "user:u-gmsa-writer", false, false},
	{"anonymous-access", "ClusterRoleBinding audit-anonymous", false, false},
	{"broad-group-grant", "group:system:serviceaccounts:audit-a", false, false},
	{"system-masters-binding", "ClusterRoleBinding audit-masters", false, false},
	{"default-serviceaccount-grant", "sa:audit-a:default", false, false},
	{"gmsa-credential-secret-readable", "user:u-cred-reader", false, false},
	{"workload-identity-admin", "sa:audit-w:robot", false, false},
	{"node-group-binding", "ClusterRoleBinding audit-legacy-nodes", false, false},
	{"wildcard-grant", "user:u-wild", false, false},
	{"unused-role", "ClusterRole audit-orphan-cluster", false, false},
	{"aggregation-latent-grant", "ClusterRole audit-view-secrets", false, false},
	{"gmsa-use-broad", "sa:gmsa-a:broad", false, false},
	{"gmsa-namespace-opt-out", "Namespace gmsa-off", false, false},
	{"secrets-read", "sa:audit-a:powerful", true, true},
}

func about(f *audit.Finding, x string) bool {
	return slices.ContainsFunc(f.Subjects, func(s rbac.Subject) bool { return s.String() == x }) ||
		slices.ContainsFunc(f.Objects, func(o rbac.ObjectRef) bool { return o.String() == x })
}

// TestFixesOnTheRealServer applies a fix for every fixable rule to the
// real API server (dry run first, then for real; four of them through
// the printed kubectl commands), then checks with a new audit that the
// finding is gone and with SubjectAccessReviews, over every subject the
// fix can affect, that nobody gained access and that exactly what the
// engine said would be lost is lost.
func TestFixesOnTheRealServer(t *testing.T) {
	ctx := t.Context()
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	load(t, ctx, c, cs)
	ap, err := cluster.NewApplier(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	kubectl := kubectlBinary(t)

	for _, tc := range liveFixes {
		name := tc.rule
		if tc.narrow {
			name += "/narrow"
		}
		t.Run(name, func(t *testing.T) {
			ix, f := liveFinding(t, ctx, cs, tc.rule, tc.trigger)
			fx, err := fix.For(ix, f, fix.Options{Narrow: tc.narrow, AllowLockout: true})
			if err != nil {
				t.Fatal(err)
			}
			subjects := subjectsOf(t, ix, fx)
			before := decisions(t, ctx, cs, ix, fx, subjects)

			// The dry run changes nothing.
			for _, op := range fx.Operations {
				if _, _, err := ap.Do(ctx, op, true); err != nil {
					t.Fatalf("dry run %s %s: %v", op.Action, op.Target, err)
				}
			}
			if again := decisions(t, ctx, cs, ix, fx, subjects); !sameDecisions(before, again) {
				t.Fatal("the dry run changed the cluster's decisions")
			}
			if tc.kubectl {
				script := fix.Kubectl(fx)
				cmd := exec.CommandContext(ctx, "sh", "-e", "-c", script)
				cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "PATH="+filepath.Dir(kubectl)+":"+os.Getenv("PATH"))
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("the printed commands failed: %v\n%s\n%s", err, script, out)
				}
			} else {
				for _, op := range fx.Operations {
					if _, _, err := ap.Do(ctx, op, false); err != nil {
						t.Fatalf("%s %s: %v", op.Action, op.Target, err)
					}
				}
			}

			// The aggregation controller updates aggregated roles a
			// moment later: wait until the decisions settle.
			want := expected(before, fx)
			var after map[string]bool
			deadline := time.Now().Add(30 * time.Second)
			for {
				after = decisions(t, ctx, cs, ix, fx, subjects)
				if sameDecisions(after, want) || time.Now().After(deadline) {
					break
				}
				time.Sleep(300 * time.Millisecond)
			}
			for k, allowed := range after {
				switch {
				case allowed && !before[k] && !granted(fx, k):
					t.Errorf("gained: %s", k)
				case !allowed && want[k]:
					t.Errorf("lost, which the engine did not predict: %s", k)
				case allowed && !want[k]:
					t.Errorf("still allowed, which the engine said the fix removes: %s", k)
				}
			}
			if tc.narrow && !slices.ContainsFunc(fx.Operations, func(op fix.Operation) bool { return op.Action == fix.Create && op.Target.Kind == "RoleBinding" }) {
				t.Errorf("--narrow created no RoleBinding: %s", fx.Description)
			}
			if tc.rule == "aggregation-latent-grant" && !slices.ContainsFunc(fx.Verification.Others, func(s rbac.Subject) bool { return s.Name == "u-viewer" }) {
				t.Errorf("removing the aggregation label takes secrets from u-viewer (bound to view), but the fix names only %v", fx.Verification.Others)
			}
			_, rep := liveAudit(t, ctx, cs, tc.rule)
			if slices.ContainsFunc(rep.Findings, func(g audit.Finding) bool { return g.ID == f.ID || g.Message == f.Message }) {
				t.Errorf("after the fix the audit still reports %s: %s", f.ID, f.Message)
			}
		})
	}
}

// TestConcurrentChangeFailsCleanly computes two fixes, changes their
// targets, and applies them: the guards refuse, and the targets are as
// the concurrent change left them.
func TestConcurrentChangeFailsCleanly(t *testing.T) {
	ctx := t.Context()
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	load(t, ctx, c, cs)
	ap, err := cluster.NewApplier(c.Config)
	if err != nil {
		t.Fatal(err)
	}

	// A patch: someone adds a subject in front of the one it removes.
	ix, f := liveFinding(t, ctx, cs, "pod-exec", "user:u-ns-admin")
	fx, err := fix.For(ix, f, fix.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := fx.Operations[0].Target
	rb, err := cs.RbacV1().RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rb.Subjects = append([]rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "u-newcomer"}}, rb.Subjects...)
	if _, err := cs.RbacV1().RoleBindings(b.Namespace).Update(ctx, rb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, _, err = ap.Do(ctx, fx.Operations[0], false)
	if err == nil || !strings.Contains(err.Error(), "changed since the audit") {
		t.Fatalf("patch after a concurrent change: %v, want a clean refusal", err)
	}
	now, _ := cs.RbacV1().RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{})
	if len(now.Subjects) != len(rb.Subjects) {
		t.Errorf("the refused patch changed the binding: %v", now.Subjects)
	}

	// A delete: someone edits the role it deletes.
	ix, f = liveFinding(t, ctx, cs, "unused-role", "Role audit-a/orphan")
	fx, err = fix.For(ix, f, fix.Options{})
	if err != nil {
		t.Fatal(err)
	}
	role, err := cs.RbacV1().Roles("audit-a").Get(ctx, "orphan", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	role.Labels = map[string]string{"edited": "concurrently"}
	if _, err := cs.RbacV1().Roles("audit-a").Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ap.Do(ctx, fx.Operations[0], false); !errors.Is(err, fix.ErrChanged) || !strings.Contains(err.Error(), "changed since the audit") {
		t.Fatalf("delete after a concurrent change: %v, want a clean refusal", err)
	}
	if _, err := cs.RbacV1().Roles("audit-a").Get(ctx, "orphan", metav1.GetOptions{}); err != nil {
		t.Errorf("the refused delete deleted the role: %v", err)
	}
}

var loaded bool

// load puts the audit fixtures into the shared test cluster once.
func load(t *testing.T, ctx context.Context, c *localcluster.Cluster, cs kubernetes.Interface) {
	t.Helper()
	if loaded {
		return
	}
	snap, _, err := source.Files([]string{"../audit/testdata/fixtures.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := localcluster.Load(ctx, cs, snap); err != nil {
		t.Fatal(err)
	}
	if err := localcluster.ApplyFiles(ctx, c.Config, "../audit/testdata/gmsa.yaml", "../audit/testdata/workloads.yaml", "../audit/testdata/dangling.yaml"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for { // the aggregation controller has put audit-view-secrets' rules into view
		v, err := cs.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{})
		if err == nil && slices.ContainsFunc(v.Rules, func(r rbacv1.PolicyRule) bool { return slices.Contains(r.Resources, "widgets") }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("view was not aggregated")
		}
		time.Sleep(200 * time.Millisecond)
	}
	loaded = true
}

func liveAudit(t *testing.T, ctx context.Context, cs kubernetes.Interface, rule string) (*rbac.Index, *audit.Report) {
	t.Helper()
	snap, err := cluster.Live(ctx, cs, loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	ix := rbac.NewIndex(snap)
	return ix, audit.Run(ix, audit.Options{Only: []string{rule}})
}

func liveFinding(t *testing.T, ctx context.Context, cs kubernetes.Interface, rule, trigger string) (*rbac.Index, *audit.Finding) {
	t.Helper()
	ix, rep := liveAudit(t, ctx, cs, rule)
	for i := range rep.Findings {
		if f := &rep.Findings[i]; !f.Default && about(f, trigger) {
			return ix, f
		}
	}
	t.Fatalf("no %s finding about %s", rule, trigger)
	return nil, nil
}

// subjectsOf are the subjects the fix can affect, as the engine sees it.
func subjectsOf(t *testing.T, ix *rbac.Index, fx *fix.Fix) []rbac.Subject {
	t.Helper()
	after, err := fix.Apply(ix.Snapshot(), fx.Operations)
	if err != nil {
		t.Fatal(err)
	}
	b := *ix.Snapshot()
	b.RulesAggregated, after.RulesAggregated = false, false
	return fix.Affected(rbac.NewIndex(&b), rbac.NewIndex(after), fx)
}

// decisions asks the server, for every subject, about every request the
// engine says it holds before or after the fix.
func decisions(t *testing.T, ctx context.Context, cs kubernetes.Interface, ix *rbac.Index, fx *fix.Fix, subjects []rbac.Subject) map[string]bool {
	t.Helper()
	after, err := fix.Apply(ix.Snapshot(), fx.Operations)
	if err != nil {
		t.Fatal(err)
	}
	b := *ix.Snapshot()
	b.RulesAggregated, after.RulesAggregated = false, false
	bix, aix := rbac.NewIndex(&b), rbac.NewIndex(after)
	out := map[string]bool{}
	for _, s := range subjects {
		id := s.Identity()
		for _, x := range []*rbac.Index{bix, aix} {
			for _, r := range x.WhatCan(id, "").Rules {
				for _, a := range fix.Atoms(r) {
					k := key(s, a)
					if _, done := out[k]; done {
						continue
					}
					out[k] = sar(t, ctx, cs, id, a)
				}
			}
		}
	}
	return out
}

func key(s rbac.Subject, a rbac.Attributes) string {
	return s.String() + " " + a.String() + " ns=" + a.Namespace
}

func sar(t *testing.T, ctx context.Context, cs kubernetes.Interface, id rbac.Identity, a rbac.Attributes) bool {
	t.Helper()
	spec := authorizationv1.SubjectAccessReviewSpec{User: id.Name, Groups: id.Groups}
	if a.Path != "" {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
	} else {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Verb: a.Verb, Group: a.APIGroup, Resource: a.Resource,
			Subresource: a.Subresource, Name: a.Name, Namespace: a.Namespace}
	}
	res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Status.Allowed
}

// expected is what the decisions must be after the fix: as before, less
// every request of what the engine says is lost (unless still allowed
// another way, which Lost accounts for), plus what a missing-grant fix
// grants.
func expected(before map[string]bool, fx *fix.Fix) map[string]bool {
	want := map[string]bool{}
	for k, v := range before {
		want[k] = v
	}
	for _, l := range fx.Verification.Lost {
		for _, a := range fix.ChangeAtoms(l) {
			want[key(l.Subject, a)] = false
		}
	}
	for k := range want {
		if granted(fx, k) {
			want[k] = true
		}
	}
	return want
}

func granted(fx *fix.Fix, k string) bool {
	for _, g := range fx.Verification.Granted {
		for _, a := range fix.ChangeAtoms(g) {
			if key(g.Subject, a) == k {
				return true
			}
		}
	}
	return false
}

func sameDecisions(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func kubectlBinary(t *testing.T) string {
	t.Helper()
	dir, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "kubectl")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("kubectl is not built: run make controlplane (%v)", err)
	}
	return p
}
