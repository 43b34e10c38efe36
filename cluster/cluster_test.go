package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/errgroup"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

var update = flag.Bool("update", false, "rewrite builtin_resources.json from the local control plane")

func TestMain(m *testing.M) { clustertest.Main(m) }

// TestBuiltinCatalogMatchesServer keeps the offline catalog equal to what
// the pinned API server serves.
func TestBuiltinCatalogMatchesServer(t *testing.T) {
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	live, _, err := Discover(cs.Discovery())
	if err != nil {
		t.Fatal(err)
	}
	// The built-in catalog is vanilla Kubernetes: what every server serves,
	// without the add-ons a test cluster may carry.
	live = withoutAddOns(live)
	if *update {
		b, _ := json.MarshalIndent(live, "", "  ")
		if err := os.WriteFile("../source/builtin_resources.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if d := cmp.Diff(live, loading.Builtin()); d != "" {
		t.Errorf("builtin_resources.json differs from the server (-server +file); run go test ./cluster -run TestBuiltinCatalog -update:\n%s", d)
	}
}

// withoutAddOns drops the groups an add-on serves (metrics.k8s.io).
func withoutAddOns(c *loading.Catalog) *loading.Catalog {
	out := &loading.Catalog{}
	for _, g := range c.Groups {
		if g.Name != "metrics.k8s.io" {
			out.Groups = append(out.Groups, g)
		}
	}
	for _, l := range c.Resources {
		if !strings.HasPrefix(l.GroupVersion, "metrics.k8s.io/") {
			out.Resources = append(out.Resources, l)
		}
	}
	return out
}

func TestResolve(t *testing.T) {
	r := NewResolver(loading.Builtin())
	for _, tc := range []struct {
		arg   string
		want  loading.Resolved
		warns int
		err   bool
	}{
		{"secrets", loading.Resolved{Resource: "secrets", Namespaced: true, Known: true}, 0, false},
		{"secret", loading.Resolved{Resource: "secrets", Namespaced: true, Known: true}, 0, false},
		{"Secret", loading.Resolved{Resource: "secrets", Namespaced: true, Known: true}, 0, false},
		{"deploy", loading.Resolved{Group: "apps", Resource: "deployments", Namespaced: true, Known: true}, 0, false},
		{"deployments.apps/scale", loading.Resolved{Group: "apps", Resource: "deployments", Subresource: "scale", Namespaced: true, Known: true}, 0, false},
		{"deployments.v1.apps", loading.Resolved{Group: "apps", Resource: "deployments", Namespaced: true, Known: true}, 0, false},
		{"pods/exec", loading.Resolved{Resource: "pods", Subresource: "exec", Namespaced: true, Known: true}, 0, false},
		{"nodes", loading.Resolved{Resource: "nodes", Known: true}, 0, false},
		{"clusterroles.rbac.authorization.k8s.io", loading.Resolved{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Known: true}, 0, false},
		// kubectl's priority: the core group's events before events.k8s.io's.
		{"events", loading.Resolved{Resource: "events", Namespaced: true, Known: true}, 0, false},
		// kubectl warns of it too: "short name "ev" could also match lower
		// priority resource events.events.k8s.io".
		{"ev", loading.Resolved{Resource: "events", Namespaced: true, Known: true}, 1, false},
		{"event", loading.Resolved{Resource: "events", Namespaced: true, Known: true}, 0, false},
		{"events.events.k8s.io", loading.Resolved{Group: "events.k8s.io", Resource: "events", Namespaced: true, Known: true}, 0, false},
		{"events/status", loading.Resolved{Resource: "events", Subresource: "status", Namespaced: true, Known: true}, 1, false},
		{"gmsacredentialspecs.windows.k8s.io", loading.Resolved{Group: "windows.k8s.io", Resource: "gmsacredentialspecs", Namespaced: true}, 1, false},
		{"pods/exex", loading.Resolved{Resource: "pods", Subresource: "exex", Namespaced: true, Known: true}, 1, false},
		{"sercets", loading.Resolved{Resource: "sercets", Namespaced: true}, 1, false},
		{"*", loading.Resolved{Resource: "*", Namespaced: true, Known: true}, 0, false},
		{"", loading.Resolved{}, 0, true},
	} {
		t.Run(tc.arg, func(t *testing.T) {
			got, warns, err := r.Resolve(tc.arg)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if len(warns) != tc.warns {
				t.Errorf("warnings = %q, want %d", warns, tc.warns)
			}
		})
	}
}

// TestLiveForbiddenListIsAGap: a caller who may list cluster RBAC but not
// RoleBindings gets a snapshot marked incomplete, not an error and not a
// silently empty answer.
func TestLiveForbiddenListIsAGap(t *testing.T) {
	c := clustertest.Get(t)
	admin := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	_, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "partial-reader"},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "clusterrolebindings"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "partial-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "partial-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "partial"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The authorizer reads bindings from a cache: wait until it holds this
	// one, or the load races it and finds everything forbidden.
	for deadline := time.Now().Add(30 * time.Second); ; {
		r, sarErr := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: "partial", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Group: rbacv1.GroupName, Resource: "clusterrolebindings"}}}, metav1.CreateOptions{})
		if sarErr != nil {
			t.Fatal(sarErr)
		}
		if r.Status.Allowed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the authorizer never allowed partial to list clusterrolebindings")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "partial"}
	snap, err := Live(ctx, kubernetes.NewForConfigOrDie(ProtobufConfig(cfg)), loading.Scope{AllNamespaces: true, ClusterRBAC: true})
	if err != nil {
		t.Fatalf("Live: %v", err)
	}
	if len(snap.ClusterRoles) == 0 {
		t.Error("allowed LIST of clusterroles returned nothing")
	}
	var resources []string
	for _, g := range snap.Gaps {
		resources = append(resources, g.Resource)
		if !strings.Contains(g.Reason, "forbidden") {
			t.Errorf("gap reason %q does not say forbidden", g.Reason)
		}
	}
	if d := cmp.Diff([]string{"rolebindings", "roles"}, slices.Sorted(slices.Values(resources))); d != "" {
		t.Errorf("gaps (-want +got):\n%s", d)
	}
}

func TestLivePagesThroughLargeLists(t *testing.T) {
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	ns := "paging"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	n := PageSize*2 + 7
	var g errgroup.Group
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			_, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "rb-" + strconv.Itoa(i), Labels: map[string]string{"i": strconv.Itoa(i % 5)}, Annotations: annotations(i)},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
				Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "u" + strconv.Itoa(i)}},
			}, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int64
	var bodies []*bytes.Buffer // of the RoleBinding pages
	var bodiesMu sync.Mutex
	cfg := ProtobufConfig(c.Config)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			requests.Add(1)
			resp, err := rt.RoundTrip(r)
			if err == nil && strings.HasSuffix(r.URL.Path, "/rolebindings") {
				b := &bytes.Buffer{}
				bodiesMu.Lock()
				bodies = append(bodies, b)
				bodiesMu.Unlock()
				resp.Body = struct {
					io.Reader
					io.Closer
				}{io.TeeReader(resp.Body, b), resp.Body}
			}
			return resp, err
		})
	}
	var mu sync.Mutex
	var seen []int // RoleBindings so far, after each page
	pctx := loading.WithProgress(ctx, func(resource string, items int) {
		mu.Lock()
		defer mu.Unlock()
		if resource == "rolebindings" {
			seen = append(seen, items)
		}
	})
	snap, err := Live(pctx, kubernetes.NewForConfigOrDie(cfg), loading.Scope{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]int{PageSize, 2 * PageSize, n}, seen); d != "" {
		t.Errorf("progress after each page of rolebindings (-want +got):\n%s", d)
	}
	if len(snap.RoleBindings) != n {
		t.Fatalf("got %d RoleBindings, want %d", len(snap.RoleBindings), n)
	}
	if got := requests.Load(); got != 3+1 { // 3 pages of RoleBindings, 1 of Roles
		t.Errorf("requests = %d, want 4", got)
	}
	names := map[string]bool{}
	for _, b := range snap.RoleBindings {
		names[b.Name] = true
	}
	if len(names) != n {
		t.Errorf("%d distinct RoleBindings, want %d: a page was read twice or skipped", len(names), n)
	}
	// The next page is asked for with the token read from the front of
	// the body: it must be the token the whole decode finds, on every page
	// (the last page's being empty).
	if len(bodies) != 3 {
		t.Fatalf("%d RoleBinding pages seen, want 3", len(bodies))
	}
	managed, applied := 0, 0
	for i, b := range bodies {
		var l rbacv1.RoleBindingList
		if _, _, err := scheme.Codecs.UniversalDeserializer().Decode(b.Bytes(), nil, &l); err != nil {
			t.Fatal(err)
		}
		// decodeList decodes each page as the serializer does, then slim.
		got, meta, err := decodeList[rbacv1.RoleBinding](b.Bytes(), "RoleBindingList", nil)
		if err != nil {
			t.Fatal(err)
		}
		for j := range l.Items {
			managed += len(l.Items[j].ManagedFields)
			if _, ok := l.Items[j].Annotations[corev1.LastAppliedConfigAnnotation]; ok {
				applied++
			}
			slim(&l.Items[j])
		}
		if d := cmp.Diff(l.Items, got); d != "" {
			t.Errorf("page %d: decodeList differs from the serializer's decoding, slimmed (-want +got):\n%s", i, d)
		}
		if meta.Continue != l.Continue {
			t.Errorf("page %d: decodeList's continue %q, the serializer's %q", i, meta.Continue, l.Continue)
		}
		if _, _, err := decodeList[rbacv1.RoleBinding](b.Bytes(), "RoleList", nil); !errors.Is(err, errNotProtobuf) {
			t.Errorf("page %d decoded as another kind: %v", i, err)
		}
		cont, ok := peekContinue(b.Bytes())
		if !ok || cont != l.Continue {
			t.Errorf("page %d: peekContinue = %q, %v; the decoded list's is %q", i, cont, ok, l.Continue)
		}
	}
	if managed == 0 || applied == 0 {
		t.Errorf("%d managed fields entries and %d last-applied annotations in the bodies: the test does not exercise what decodeList skips", managed, applied)
	}
	if _, ok := peekContinue([]byte(`{"kind":"RoleBindingList"}`)); ok {
		t.Error("peekContinue read a token from JSON")
	}
	if _, ok := peekContinue([]byte("k8s\x00\x12\xff")); ok {
		t.Error("peekContinue read a token from a truncated body")
	}
}

// annotations gives some bindings kubectl's last-applied annotation, alone
// or beside another, as kubectl apply leaves them.
func annotations(i int) map[string]string {
	switch i % 3 {
	case 0:
		return map[string]string{corev1.LastAppliedConfigAnnotation: `{"kind":"RoleBinding"}`, "team": "a"}
	case 1:
		return map[string]string{corev1.LastAppliedConfigAnnotation: `{"kind":"RoleBinding"}`}
	}
	return nil
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestDefaultRoles keeps source's copy of Kubernetes' default roles equal
// to what the pinned API server creates (the roles labelled
// kubernetes.io/bootstrapping=rbac-defaults, aggregated ones as the
// controller fills them).
func TestDefaultRoles(t *testing.T) {
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	sel := metav1.ListOptions{LabelSelector: "kubernetes.io/bootstrapping=rbac-defaults"}
	crs, err := cs.RbacV1().ClusterRoles().List(t.Context(), sel)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := cs.RbacV1().Roles("").List(t.Context(), sel)
	if err != nil {
		t.Fatal(err)
	}
	crbs, err := cs.RbacV1().ClusterRoleBindings().List(t.Context(), sel)
	if err != nil {
		t.Fatal(err)
	}
	rbs, err := cs.RbacV1().RoleBindings("").List(t.Context(), sel)
	if err != nil {
		t.Fatal(err)
	}
	p := &source.Policy{}
	clean := func(m *metav1.ObjectMeta) {
		*m = metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: m.Annotations}
	}
	for _, cr := range crs.Items {
		clean(&cr.ObjectMeta)
		cr.TypeMeta = metav1.TypeMeta{APIVersion: rbac.RBACAPIVersion, Kind: "ClusterRole"}
		p.ClusterRoles = append(p.ClusterRoles, cr)
	}
	for _, r := range roles.Items {
		clean(&r.ObjectMeta)
		r.TypeMeta = metav1.TypeMeta{APIVersion: rbac.RBACAPIVersion, Kind: "Role"}
		p.Roles = append(p.Roles, r)
	}
	for _, b := range crbs.Items {
		clean(&b.ObjectMeta)
		b.TypeMeta = metav1.TypeMeta{APIVersion: rbac.RBACAPIVersion, Kind: "ClusterRoleBinding"}
		p.ClusterRoleBindings = append(p.ClusterRoleBindings, b)
	}
	for _, b := range rbs.Items {
		clean(&b.ObjectMeta)
		b.TypeMeta = metav1.TypeMeta{APIVersion: rbac.RBACAPIVersion, Kind: "RoleBinding"}
		p.RoleBindings = append(p.RoleBindings, b)
	}
	slices.SortFunc(p.ClusterRoleBindings, func(a, b rbacv1.ClusterRoleBinding) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(p.RoleBindings, func(a, b rbacv1.RoleBinding) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	slices.SortFunc(p.ClusterRoles, func(a, b rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(p.Roles, func(a, b rbacv1.Role) int { return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name) })
	if len(p.ClusterRoles) < 50 || !slices.ContainsFunc(p.ClusterRoles, func(cr rbacv1.ClusterRole) bool { return cr.Name == "cluster-admin" }) {
		t.Fatalf("the server's default policy has only %d ClusterRoles", len(p.ClusterRoles))
	}
	if *update {
		b, _ := json.MarshalIndent(p, "", "  ")
		if err := os.WriteFile("../source/default_roles.json", append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if d := cmp.Diff(p, source.Defaults()); d != "" {
		t.Errorf("default_roles.json differs from the server's default policy (-server +file); run go test ./cluster -run TestDefaultRoles -update:\n%s", d)
	}
}

// TestResolveAsKubectlDoesOnAKSDiscovery: the local cluster serves
// metrics.k8s.io (metrics-server behind an APIService, as every AKS
// cluster does), whose pods and nodes share names with the core group's.
// Each resource argument resolves to the group the real kubectl requests,
// read from kubectl's own request log.
func TestResolveAsKubectlDoesOnAKSDiscovery(t *testing.T) {
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	cat, warns, err := Discover(cs.Discovery())
	if err != nil || len(warns) > 0 {
		t.Fatalf("discovery: %v %v", err, warns)
	}
	if _, ok := cat.Lookup("metrics.k8s.io", "", "pods"); !ok {
		t.Fatal("the local cluster does not serve metrics.k8s.io's pods: is metrics-server running?")
	}
	r := NewResolver(cat)
	dir, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	kubectl := filepath.Join(dir, "kubectl")
	url := regexp.MustCompile(`"GET" url="https://[^/]+/(?:api/v1|apis/([^/]+)/[^/]+)/(?:namespaces/[^/]+/)?([a-z]+)`)
	for _, arg := range []string{"pods", "po", "pod", "nodes", "no", "events", "ev", "event", "pods.metrics.k8s.io", "nodes.metrics.k8s.io", "deployments", "deploy", "events.events.k8s.io"} {
		t.Run(arg, func(t *testing.T) {
			out, err := exec.Command(kubectl, "--kubeconfig", c.Kubeconfig, "get", arg, "-A", "-o", "name", "-v=6").CombinedOutput()
			m := url.FindSubmatch(out)
			if err != nil || m == nil {
				t.Fatalf("kubectl get %s: %v\n%s", arg, err, out)
			}
			got, _, err := r.Resolve(arg)
			if err != nil {
				t.Fatal(err)
			}
			if got.Group != string(m[1]) || got.Resource != string(m[2]) {
				t.Errorf("%s: we resolve %s.%s, kubectl requests %s.%s", arg, got.Resource, got.Group, m[2], m[1])
			}
		})
	}
}

// FuzzResolve: any argument resolves to a request or a clear error, never
// a panic, and a resolved resource is never empty.
func FuzzResolve(f *testing.F) {
	r := NewResolver(loading.Builtin())
	for _, s := range []string{"pods", "pods/exec", "deploy", "events", "ev", "deployments.v1.apps", "a.b.c.d", "*", "*.apps", "/x", "po/", "x/y/z", ".", ".."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		res, _, err := r.Resolve(arg)
		if err == nil && res.Resource == "" {
			t.Fatalf("%q resolved to an empty resource: %+v", arg, res)
		}
	})
}

// TestGetAndObjectYAML: v in the explorer shows an object as the cluster
// has it now (a GET, managedFields dropped), not as it was loaded.
func TestGetAndObjectYAML(t *testing.T) {
	c := clustertest.Get(t)
	client, err := New(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	app := &access.App{Cluster: client}
	sess, err := app.Open(t.Context(), loading.Scope{ClusterRBAC: true})
	if err != nil {
		t.Fatal(err)
	}
	ref := rbac.ObjectRef{Kind: "ClusterRole", Name: "cluster-admin"}
	text, origin, err := sess.ObjectYAML(t.Context(), ref)
	if err != nil || origin != "as the cluster has it now" || !strings.Contains(text, "name: cluster-admin") || !strings.Contains(text, "rules:") || strings.Contains(text, "managedFields") {
		t.Errorf("ObjectYAML(%s): %q %v\n%s", ref, origin, err, text)
	}
	if _, _, err := sess.ObjectYAML(t.Context(), rbac.ObjectRef{Kind: "ClusterRole", Name: "no-such-role"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a missing object: %v", err)
	}
}
