package audit_test

import (
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/kubectl-access/kubectl-access/audit"

	"context"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestNodeProbes checks the node probes on the real server in both states:
// a server as make cluster starts it (docs/architecture.md: Node,RBAC and
// NodeRestriction), then a second server started with
// --authorization-mode=RBAC and without NodeRestriction,
// first as it starts (nodes may not even patch themselves), then with the
// legacy binding of nodes that such clusters need. Then it checks that a
// caller without the permissions the probes need gets "unknown", naming
// them, never "inactive".
func TestNodeProbes(t *testing.T) {
	ctx := t.Context()

	// Its own servers: the shared test cluster holds the audit fixtures,
	// whose legacy node binding the probe would (rightly) see.
	c, err := localcluster.Start(ctx, localcluster.Options{Dir: t.TempDir(), NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	addNode(t, ctx, cs, "probe-node-a")
	p := cluster.ProbeNodes(ctx, c.Config)
	wantProbe(t, "Node,RBAC+NodeRestriction authorizer", p.NodeAuthorizer, rbac.ProbeActive, "no relationship found between node")
	wantProbe(t, "Node,RBAC+NodeRestriction admission", p.NodeRestriction, rbac.ProbeActive, "is not allowed to modify labels")
	rep := auditWithProbes(t, ctx, cs, p)
	if fs := ruleFindings(rep, "node-authorizer-active", "node-restriction-active"); len(fs) != 0 {
		t.Errorf("both in force, yet: %v", fs)
	}

	// A caller that may neither create SubjectAccessReviews nor list nodes
	// nor impersonate: a service account with a token of its own (not an
	// impersonated admin, whose impersonation the probe would replace).
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "probe-limited"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, "probe-limited", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	limited := rest.AnonymousClientConfig(c.Config)
	limited.BearerToken = tok.Status.Token
	p = cluster.ProbeNodes(ctx, limited)
	wantProbe(t, "limited caller authorizer", p.NodeAuthorizer, rbac.ProbeUnknown, "needs create on subjectaccessreviews")
	wantProbe(t, "limited caller admission", p.NodeRestriction, rbac.ProbeUnknown, "needs list on nodes")
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "probe-list-nodes"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bind(t, ctx, cs, "probe-list-nodes", "probe-list-nodes", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: "default", Name: "probe-limited"})
	// The authorizer reads bindings from a cache: wait until it holds this
	// one, or the probe would see a caller that still may not list nodes.
	waitAllowed(t, ctx, cs, "system:serviceaccount:default:probe-limited", authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"})
	p = cluster.ProbeNodes(ctx, limited)
	wantProbe(t, "caller without impersonate", p.NodeRestriction, rbac.ProbeUnknown, "needs impersonate on users and groups")
	rep = auditWithProbes(t, ctx, cs, p)
	for _, f := range ruleFindings(rep, "node-authorizer-active", "node-restriction-active") {
		if f.Severity != audit.Info || !strings.Contains(f.Message, "unknown") {
			t.Errorf("an unknown probe reported as %s: %s", f.Severity, f.Message)
		}
	}

	// The Node authorizer in force with the legacy binding of nodes beside
	// it: RBAC allows the node the unrelated secret (node-group-binding's
	// finding), which must not read as "the Node authorizer is not in
	// force"; its own reason for a request RBAC does not grant shows it is.
	bind(t, ctx, cs, "legacy-system-nodes", "system:node", rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:nodes"})
	waitAllowedAs(t, ctx, cs, "system:node:other-node", []string{"system:nodes", "system:authenticated"},
		authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: "any"})
	p = cluster.ProbeNodes(ctx, c.Config)
	wantProbe(t, "Node,RBAC with legacy binding authorizer", p.NodeAuthorizer, rbac.ProbeActive, "cannot read subresource")
	rep = auditWithProbes(t, ctx, cs, p)
	if fs := ruleFindings(rep, "node-authorizer-active"); len(fs) != 0 {
		t.Errorf("Node,RBAC with a legacy binding: the Node authorizer is reported not in force: %v", fs)
	}
	if fs := ruleFindings(rep, "node-group-binding"); !slices.ContainsFunc(fs, func(f audit.Finding) bool { return names(&f, "ClusterRoleBinding legacy-system-nodes") }) {
		t.Errorf("Node,RBAC with a legacy binding: node-group-binding does not report it: %v", fs)
	}
	if ch := checkOf(rep, "node-authorizer-active"); ch == nil || ch.Status != audit.CheckPassed {
		t.Errorf("Node,RBAC with a legacy binding: check node-authorizer-active = %+v, want passed", ch)
	}

	// The second server: RBAC only, no NodeRestriction.
	rc, err := localcluster.Start(ctx, localcluster.Options{Dir: t.TempDir(), AuthorizationMode: "RBAC",
		AdmissionPlugins: []string{}, NoControllerManager: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Stop)
	rcs := kubernetes.NewForConfigOrDie(rc.Config)
	addNode(t, ctx, rcs, "probe-node-b")
	p = cluster.ProbeNodes(ctx, rc.Config)
	wantProbe(t, "RBAC-only authorizer", p.NodeAuthorizer, rbac.ProbeInactive, "not in the chain")
	wantProbe(t, "RBAC-only, nodes unbound", p.NodeRestriction, rbac.ProbeUnknown, "may not patch Node objects at all")
	rep = auditWithProbes(t, ctx, rcs, p)
	if ch := checkOf(rep, "node-authorizer-active"); ch == nil || ch.Status != audit.CheckFailed {
		t.Errorf("RBAC-only: check node-authorizer-active = %+v, want failed", ch)
	}
	if ch := checkOf(rep, "node-restriction-active"); ch == nil || ch.Status != audit.CheckUnknown {
		t.Errorf("RBAC-only, nodes unbound: check node-restriction-active = %+v, want unknown", ch)
	}

	// What RBAC-only clusters do for their kubelets: bind system:node to
	// every node.
	bind(t, ctx, rcs, "legacy-nodes", "system:node", rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:nodes"})
	// As above: the probe must not race the authorizer's cache.
	waitAllowedAs(t, ctx, rcs, "system:node:probe-node-b", []string{"system:nodes", "system:authenticated"},
		authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "default", Name: "any"})
	p = cluster.ProbeNodes(ctx, rc.Config)
	wantProbe(t, "RBAC-only with legacy binding authorizer", p.NodeAuthorizer, rbac.ProbeInactive, "not in the chain")
	if !strings.Contains(p.NodeAuthorizer.Detail, "another authorizer allows nodes get secrets") {
		t.Errorf("RBAC-only with legacy binding: the probe does not say RBAC allows nodes secrets: %s", p.NodeAuthorizer.Detail)
	}
	wantProbe(t, "RBAC-only with legacy binding admission", p.NodeRestriction, rbac.ProbeInactive, "was allowed (in a dry run)")
	if n, err := rcs.CoreV1().Nodes().Get(ctx, "probe-node-b", metav1.GetOptions{}); err != nil || n.Labels[cluster.ProbeLabel] != "" {
		t.Errorf("the dry run changed the node: %v %v", n.Labels, err)
	}
	rep = auditWithProbes(t, ctx, rcs, p)
	for _, rule := range []string{"node-authorizer-active", "node-restriction-active"} {
		if fs := ruleFindings(rep, rule); len(fs) != 1 || fs[0].Severity != audit.High {
			t.Errorf("RBAC-only: %s findings %v, want one high", rule, fs)
		}
	}
	fs := ruleFindings(rep, "node-group-binding")
	if !slices.ContainsFunc(fs, func(f audit.Finding) bool {
		return f.Severity == audit.High && names(&f, "ClusterRoleBinding legacy-nodes") && names(&f, "group:system:nodes")
	}) {
		t.Errorf("RBAC-only: node-group-binding does not report legacy-nodes as high: %v", fs)
	}
}

// waitAllowed polls a SubjectAccessReview until the user may make the
// request (the RBAC authorizer's cache lags a binding by a moment).
func waitAllowed(t *testing.T, ctx context.Context, cs kubernetes.Interface, user string, a authorizationv1.ResourceAttributes) {
	t.Helper()
	waitAllowedAs(t, ctx, cs, user, []string{"system:authenticated", "system:serviceaccounts"}, a)
}

// waitAllowedAs waits until the authorizer's cache grants user, in
// groups, the request.
func waitAllowedAs(t *testing.T, ctx context.Context, cs kubernetes.Interface, user string, groups []string, a authorizationv1.ResourceAttributes) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: user, Groups: groups, ResourceAttributes: &a}}, metav1.CreateOptions{})
		if err == nil && r.Status.Allowed {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still may not %s %s after 30s (%v)", user, a.Verb, a.Resource, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func addNode(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string) {
	t.Helper()
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func bind(t *testing.T, ctx context.Context, cs kubernetes.Interface, name, role string, s rbacv1.Subject) {
	t.Helper()
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   []rbacv1.Subject{s},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func wantProbe(t *testing.T, label string, p rbac.Probe, state rbac.ProbeState, detail string) {
	t.Helper()
	if p.State != state || !strings.Contains(p.Detail, detail) {
		t.Errorf("%s: probe %s (%s), want %s mentioning %q", label, p.State, p.Detail, state, detail)
	}
}

func auditWithProbes(t *testing.T, ctx context.Context, cs kubernetes.Interface, p *rbac.Probes) *audit.Report {
	t.Helper()
	snap, err := cluster.Live(ctx, cs, loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	snap.Probes = p
	return audit.Run(rbac.NewIndex(snap), audit.Options{})
}

func ruleFindings(rep *audit.Report, rules ...string) []audit.Finding {
	var out []audit.Finding
	for _, f := range rep.Findings {
		if slices.Contains(rules, f.Rule) {
			out = append(out, f)
		}
	}
	return out
}

// checkOf returns the report's posture check of rule, if any.
func checkOf(rep *audit.Report, rule string) *audit.Check {
	for i := range rep.Checks {
		if rep.Checks[i].Rule == rule {
			return &rep.Checks[i]
		}
	}
	return nil
}
