// Package differential checks the engine against the real API server: seeded
// random RBAC universes are loaded into a fresh local cluster, and every
// decision of can, who-can and what-can, live and offline, is compared with
// the server's own SubjectAccessReview. Any disagreement is a bug in the
// engine.
package differential

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// seeds are the universes every run checks; DIFFERENTIAL_SEEDS adds more
// (comma-separated) to hunt with.
func seeds(t *testing.T) []uint64 {
	s := []uint64{1, 2, 3}
	for _, f := range strings.Split(os.Getenv("DIFFERENTIAL_SEEDS"), ",") {
		if f == "" {
			continue
		}
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			t.Fatalf("DIFFERENTIAL_SEEDS: %v", err)
		}
		s = append(s, n)
	}
	return s
}

func TestEngineAgreesWithSubjectAccessReview(t *testing.T) {
	clustertest.Require(t)
	total := 0
	for _, seed := range seeds(t) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			total += checkSeed(t, seed)
		})
	}
	if total < 2000 {
		t.Errorf("only %d decisions compared; want at least 2,000 per run", total)
	}
	t.Logf("%d decisions compared with SubjectAccessReview, each against can, who-can and what-can, live and offline", total)
}

func checkSeed(t *testing.T, seed uint64) int {
	u := newUniverse(seed)
	c := clustertest.Start(t, localcluster.Options{})
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	dir := t.TempDir()

	// What the cluster holds before the universe (bootstrap roles and
	// bindings) goes to the offline input too, as a kubectl get -o yaml
	// List would carry it.
	base, err := cluster.Live(ctx, cs, loading.Scope{AllNamespaces: true, ClusterRBAC: true})
	if err != nil {
		t.Fatal(err)
	}
	writeList(t, filepath.Join(dir, "baseline.yaml"), base)
	load(t, ctx, cs, u)
	writeUniverse(t, filepath.Join(dir, "universe.yaml"), u)
	waitAggregated(t, ctx, cs)

	live, err := cluster.Live(ctx, kubernetes.NewForConfigOrDie(cluster.ProtobufConfig(c.Config)), loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	offline, _, err := source.Files([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if offline.RulesAggregated {
		t.Fatal("files were read as aggregated: the offline aggregation path is not exercised")
	}
	indexes := map[string]*rbac.Index{"live": rbac.NewIndex(live), "offline": rbac.NewIndex(offline)}

	type job struct {
		id rbac.Identity
		a  rbac.Attributes
	}
	var jobs []job
	for _, id := range u.identities {
		for _, a := range u.requests {
			jobs = append(jobs, job{id, a})
		}
	}
	decisions := make([]bool, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, j := range jobs {
		g.Go(func() error {
			allowed, err := sar(gctx, cs, j.id, j.a)
			decisions[i] = allowed
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	disagreements := 0
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		disagreements++
		if disagreements <= 20 {
			t.Errorf("seed %d: "+format, append([]any{seed}, args...)...)
		}
	}
	whoCan := map[string]map[int]rbac.WhoCanResult{}
	whoCanAll := map[string]map[int]rbac.WhoCanResult{}
	whatCan := map[string]map[int]rbac.WhatCanResult{}
	for name, ix := range indexes {
		whoCan[name] = map[int]rbac.WhoCanResult{}
		whoCanAll[name] = map[int]rbac.WhoCanResult{}
		whatCan[name] = map[int]rbac.WhatCanResult{}
		for i, a := range u.requests {
			whoCan[name][i] = ix.WhoCan(a, false)
			whoCanAll[name][i] = ix.WhoCan(a, true)
			// RoleBindings never grant a non-resource URL: with -A they
			// must not appear either.
			for _, s := range whoCanAll[name][i].Subjects {
				for _, p := range s.Via {
					if !a.IsResourceRequest() && p.Binding != nil && p.Binding.Kind == "RoleBinding" {
						report("[%s] who-can -A %q lists %s through %s, which cannot grant a non-resource URL", name, a.String(), s.Name, p.Binding)
					}
				}
			}
		}
		for i, id := range u.identities {
			whatCan[name][i] = ix.WhatCan(id, "")
		}
	}
	// The command line's resolution keeps a namespace given for a
	// cluster-scoped resource (kubectl auth can-i -n, a namespaced
	// SubjectAccessReview): the attributes it builds are the ones the
	// server was asked, so its answer is checked with the rest below.
	cat := loading.Builtin()
	app := &access.App{Resolver: cluster.NewResolver(cat), Catalog: cat, Namespace: "default"}
	namespacedClusterScoped := 0
	defer func() {
		if namespacedClusterScoped == 0 {
			t.Errorf("seed %d: no namespaced check of a cluster-scoped resource was made through the command's resolution", seed)
		}
	}()
	for _, a := range u.requests {
		if a.Path != "" || a.Namespace == "" || a.APIGroup != "" || (a.Resource != "nodes" && a.Resource != "namespaces") || (a.Resource == "namespaces" && a.Name != "") {
			continue
		}
		arg := a.Resource
		if a.Subresource != "" {
			arg += "/" + a.Subresource
		}
		namespacedClusterScoped++
		got, _, err := app.Attributes(access.Request{Verb: a.Verb, Resource: arg, Name: a.Name, Namespace: a.Namespace, NamespaceSet: true})
		if err != nil || got != a {
			report("can -n %s %s %s: the command asks %+v, the server was asked %+v (%v)", a.Namespace, a.Verb, arg, got, a, err)
		}
	}
	for k, j := range jobs {
		want := decisions[k]
		ii, ri := k/len(u.requests), k%len(u.requests)
		for name, ix := range indexes {
			caseDesc := fmt.Sprintf("[%s] user=%q groups=%v request=%q ns=%q: server allowed=%v", name, j.id.Name, j.id.Groups, j.a.String(), j.a.Namespace, want)
			can := ix.Can(j.id, j.a)
			if can.Allowed != want {
				report("can disagrees: %s; via %v", caseDesc, can.Via)
			}
			listed := false
			for _, s := range whoCan[name][ri].Subjects {
				if s.Matches(j.id) {
					listed = true
					break
				}
			}
			if listed != want {
				report("who-can disagrees: %s", caseDesc)
			}
			// who-can -A: the paths that apply in the request's namespace
			// (ClusterRoleBindings, its RoleBindings) decide as the server.
			listedHere := false
			for _, s := range whoCanAll[name][ri].Subjects {
				if !s.Matches(j.id) {
					continue
				}
				for _, p := range s.Via {
					if p.Binding == nil || p.Binding.Kind == "ClusterRoleBinding" || p.Binding.Namespace == j.a.Namespace {
						listedHere = true
					}
				}
			}
			if listedHere != want {
				report("who-can -A disagrees: %s", caseDesc)
			}
			held := false
			for _, r := range whatCan[name][ii].Rules {
				pr := r.PolicyRule()
				if (r.Namespace == "" || r.Namespace == j.a.Namespace) && rbac.RuleAllows(&j.a, &pr) {
					held = true
					break
				}
			}
			if held != want {
				report("what-can disagrees: %s", caseDesc)
			}
		}
	}
	checkAllNamespaces(t, ctx, cs, u, indexes, whoCanAll, report)
	if disagreements > 0 {
		t.Fatalf("seed %d: %d disagreements with SubjectAccessReview (rerun with DIFFERENTIAL_SEEDS=%d)", seed, disagreements, seed)
	}
	allowed := 0
	for _, d := range decisions {
		if d {
			allowed++
		}
	}
	// A universe where everything or nothing is allowed proves little.
	if allowed < len(decisions)/20 || allowed > len(decisions)*19/20 {
		t.Errorf("seed %d: %d of %d decisions allowed: the universe does not discriminate", seed, allowed, len(decisions))
	}
	t.Logf("seed %d: %d decisions, %d allowed", seed, len(decisions), allowed)
	return len(decisions)
}

func sar(ctx context.Context, cs kubernetes.Interface, id rbac.Identity, a rbac.Attributes) (bool, error) {
	spec := authorizationv1.SubjectAccessReviewSpec{User: id.Name, Groups: id.Groups}
	if a.IsResourceRequest() {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: a.Namespace, Verb: a.Verb,
			Group: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}
	} else {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: a.Path, Verb: a.Verb}
	}
	r, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("SubjectAccessReview: %w", err)
	}
	return r.Status.Allowed, nil
}

func load(t *testing.T, ctx context.Context, cs kubernetes.Interface, u *universe) {
	t.Helper()
	s := rbac.NewSnapshot()
	for _, ns := range u.namespaces {
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	s.ClusterRoles, s.Roles = u.clusterRoles, u.roles
	s.ClusterRoleBindings, s.RoleBindings = u.clusterRoleBindings, u.roleBindings
	if err := localcluster.Load(ctx, cs, s); err != nil {
		t.Fatal(err)
	}
}

// waitAggregated waits until the aggregation controller has settled: the
// aggregated roles' rules unchanged across consecutive reads.
func waitAggregated(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	t.Helper()
	read := func() map[string][]rbacv1.PolicyRule {
		l, err := cs.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]rbacv1.PolicyRule{}
		for _, cr := range l.Items {
			if cr.AggregationRule != nil {
				m[cr.Name] = cr.Rules
			}
		}
		return m
	}
	prev := read()
	stable := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(300 * time.Millisecond)
		cur := read()
		if equality.Semantic.DeepEqual(prev, cur) {
			if stable++; stable >= 3 {
				return
			}
		} else {
			stable = 0
		}
		prev = cur
	}
	t.Fatal("aggregated ClusterRoles did not settle")
}

func writeList(t *testing.T, path string, s *rbac.Snapshot) {
	t.Helper()
	list := corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	add := func(obj any) {
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(b)
		if err != nil {
			t.Fatal(err)
		}
		list.Items = append(list.Items, runtimeRaw(j))
	}
	tm := func(kind string) metav1.TypeMeta {
		return metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: kind}
	}
	for _, o := range s.ClusterRoles {
		o.TypeMeta = tm("ClusterRole")
		add(o)
	}
	for _, o := range s.ClusterRoleBindings {
		o.TypeMeta = tm("ClusterRoleBinding")
		add(o)
	}
	for _, o := range s.Roles {
		o.TypeMeta = tm("Role")
		add(o)
	}
	for _, o := range s.RoleBindings {
		o.TypeMeta = tm("RoleBinding")
		add(o)
	}
	b, err := yaml.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeUniverse(t *testing.T, path string, u *universe) {
	t.Helper()
	var buf bytes.Buffer
	doc := func(obj any) {
		b, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	for _, ns := range u.namespaces {
		doc(corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	tm := func(kind string) metav1.TypeMeta {
		return metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: kind}
	}
	for _, o := range u.clusterRoles {
		o.TypeMeta = tm("ClusterRole")
		doc(o)
	}
	for _, o := range u.roles {
		o.TypeMeta = tm("Role")
		doc(o)
	}
	for _, o := range u.clusterRoleBindings {
		o.TypeMeta = tm("ClusterRoleBinding")
		doc(o)
	}
	for _, o := range u.roleBindings {
		o.TypeMeta = tm("RoleBinding")
		doc(o)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkAllNamespaces checks who-can -A for the resource requests asked
// without a namespace (cluster-scoped resources among them: nodes,
// namespaces) against the server asked in each namespace, as a namespaced
// SubjectAccessReview (the gMSA webhook's) asks: every identity allowed in
// a namespace is listed with a path that applies there (a
// ClusterRoleBinding or a RoleBinding of that namespace), and every path
// listed allows it there.
func checkAllNamespaces(t *testing.T, ctx context.Context, cs kubernetes.Interface, u *universe, indexes map[string]*rbac.Index,
	whoCanAll map[string]map[int]rbac.WhoCanResult, report func(string, ...any)) {
	type job struct {
		id  int
		req int
		at  rbac.Attributes
	}
	var jobs []job
	for ri, a := range u.requests {
		if !a.IsResourceRequest() || a.Namespace != "" {
			continue
		}
		for ii := range u.identities {
			for _, ns := range u.namespaces {
				at := a
				at.Namespace = ns
				jobs = append(jobs, job{ii, ri, at})
			}
		}
	}
	if len(jobs) == 0 {
		t.Fatal("no resource request without a namespace to ask with -A")
	}
	decisions := make([]bool, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, j := range jobs {
		g.Go(func() (err error) {
			decisions[i], err = sar(gctx, cs, u.identities[j.id], j.at)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	clusterScoped, allowedRB := 0, 0
	for k, j := range jobs {
		id, want := u.identities[j.id], decisions[k]
		if j.at.Resource == "nodes" || j.at.Resource == "namespaces" {
			clusterScoped++
		}
		for name := range indexes {
			listed := false
			for _, s := range whoCanAll[name][j.req].Subjects {
				if !s.Matches(id) {
					continue
				}
				for _, p := range s.Via {
					if p.Binding == nil || p.Binding.Kind == "ClusterRoleBinding" || p.Binding.Namespace == j.at.Namespace {
						listed = true
						if p.Binding != nil && p.Binding.Kind == "RoleBinding" && want {
							allowedRB++
						}
					}
				}
			}
			if listed != want {
				report("who-can -A of %q disagrees in namespace %s: [%s] user=%q groups=%v: server allowed=%v", u.requests[j.req].String(), j.at.Namespace, name, id.Name, id.Groups, want)
			}
		}
	}
	if clusterScoped == 0 || allowedRB == 0 {
		t.Errorf("who-can -A without a namespace: %d checks of cluster-scoped resources, %d allowed through a RoleBinding: the universe does not exercise RoleBindings in any namespace", clusterScoped, allowedRB)
	}
}
