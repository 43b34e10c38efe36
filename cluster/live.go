// Package cluster is everything that talks to a live cluster: snapshots
// loaded with parallel, paginated, protobuf LISTs of only what a query
// needs, the node probes, discovery and kubectl's resource resolution,
// object checks, and fixes applied (server-side dry run, then for real).
// It implements the application layer's Cluster; the pure layers (the
// engine, the audit, the explorer) never import it.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// PageSize is the LIST page size: large enough for few round trips, small
// enough that one page never dominates memory.
const PageSize = 500

// ProtobufConfig returns a copy of cfg that speaks protobuf to the API
// server for built-in types, which decode several times faster than JSON.
func ProtobufConfig(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	if c.QPS < 50 {
		c.QPS, c.Burst = 50, 100
	}
	// No response is read past a bound: an endless body is an error
	// naming the request, not an out-of-memory crash.
	c.Wrap(limitBodies(maxResponseBytes))
	return c
}

// Live loads a snapshot of scope from the cluster behind cs. LISTs run in
// parallel and page through large collections. A forbidden LIST becomes a
// gap in the snapshot (the answer is then incomplete, never "denied");
// any other failure (unreachable server, expired credentials) is an error,
// because nothing useful can be said.
func Live(ctx context.Context, cs kubernetes.Interface, scope loading.Scope) (*rbac.Snapshot, error) {
	s := rbac.NewSnapshot()
	s.RulesAggregated = true
	ns := scope.Namespace
	if scope.AllNamespaces {
		ns = metav1.NamespaceAll
	}
	var mu sync.Mutex
	gap := func(resource, namespace string, err error) error {
		if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
			mu.Lock()
			defer mu.Unlock()
			s.Gaps = append(s.Gaps, rbac.Gap{Resource: resource, Namespace: namespace, Reason: reason(resource, err)})
			return nil
		}
		return fmt.Errorf("list %s: %w", resource, err)
	}
	g, ctx := errgroup.WithContext(ctx)
	nsScoped := scope.AllNamespaces || scope.Namespace != ""
	rb, core := cs.RbacV1().RESTClient(), cs.CoreV1().RESTClient()
	if scope.ClusterRBAC {
		g.Go(fetchFrom(ctx, gap, "clusterroles", "", &s.ClusterRoles,
			rawPager[rbacv1.ClusterRoleList](ctx, rb, "clusterroles", "", "ClusterRoleList", func(l *rbacv1.ClusterRoleList) ([]rbacv1.ClusterRole, metav1.ListMeta) { return l.Items, l.ListMeta })))
		g.Go(fetchFrom(ctx, gap, "clusterrolebindings", "", &s.ClusterRoleBindings,
			rawPager[rbacv1.ClusterRoleBindingList](ctx, rb, "clusterrolebindings", "", "ClusterRoleBindingList", func(l *rbacv1.ClusterRoleBindingList) ([]rbacv1.ClusterRoleBinding, metav1.ListMeta) {
				return l.Items, l.ListMeta
			})))
	}
	if nsScoped {
		g.Go(fetchFrom(ctx, gap, "roles", ns, &s.Roles,
			rawPager[rbacv1.RoleList](ctx, rb, "roles", ns, "RoleList", func(l *rbacv1.RoleList) ([]rbacv1.Role, metav1.ListMeta) { return l.Items, l.ListMeta })))
		g.Go(fetchFrom(ctx, gap, "rolebindings", ns, &s.RoleBindings,
			rawPager[rbacv1.RoleBindingList](ctx, rb, "rolebindings", ns, "RoleBindingList", func(l *rbacv1.RoleBindingList) ([]rbacv1.RoleBinding, metav1.ListMeta) {
				return l.Items, l.ListMeta
			})))
	}
	if scope.ServiceAccounts && nsScoped {
		g.Go(fetchFrom(ctx, gap, "serviceaccounts", ns, &s.ServiceAccounts,
			rawPager[corev1.ServiceAccountList](ctx, core, "serviceaccounts", ns, "ServiceAccountList", func(l *corev1.ServiceAccountList) ([]corev1.ServiceAccount, metav1.ListMeta) {
				return l.Items, l.ListMeta
			})))
	}
	if scope.Namespaces {
		g.Go(fetchFrom(ctx, gap, "namespaces", "", &s.Namespaces,
			rawPager[corev1.NamespaceList](ctx, core, "namespaces", "", "NamespaceList", func(l *corev1.NamespaceList) ([]corev1.Namespace, metav1.ListMeta) { return l.Items, l.ListMeta })))
	}
	if scope.Workloads {
		for _, task := range liveWorkloads(ctx, cs, s, gap) {
			g.Go(task)
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for i := range s.ServiceAccounts {
		s.ServiceAccounts[i].Secrets = nil // token secret names are not needed
	}
	return s, nil
}

// fetch returns an errgroup task that pages through one collection into
// dst, slims every object, and turns a forbidden LIST into a gap.
func fetch[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, gap func(string, string, error) error, resource, ns string, dst *[]T, page func(metav1.ListOptions) ([]T, string, error)) func() error {
	return fetchFrom[T, PT](ctx, gap, resource, ns, dst, pager[T]{page: page})
}

// fetchFrom is fetch with any pager.
func fetchFrom[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, gap func(string, string, error) error, resource, ns string, dst *[]T, pg pager[T]) func() error {
	return func() error {
		if report := loading.ProgressFrom(ctx); report != nil {
			pg.report = func(n int) { report(resource, n) }
		}
		all, err := list(ctx, pg)
		if err != nil {
			return gap(resource, ns, err)
		}
		for i := range all {
			slim(PT(&all[i]))
		}
		*dst = all
		return nil
	}
}

// A pager reads one collection a page at a time: either page does the
// whole round trip, or get fetches a page's body and decode appends its
// items to the collection so far, which lets list ask for the next page
// while it decodes this one.
type pager[T any] struct {
	page   func(metav1.ListOptions) ([]T, string, error)
	get    func(metav1.ListOptions) ([]byte, error)
	decode func(body []byte, dst []T) ([]T, metav1.ListMeta, error)
	report func(items int) // after each page, the items so far; may be nil
}

// rawPager reads a built-in collection as protobuf bodies (get) decoded
// with decodeList, or into L the general way when the server answered in
// another encoding.
func rawPager[L any, PL interface {
	*L
	runtime.Object
}, T any, PT interface {
	*T
	Unmarshal([]byte) error
}](ctx context.Context, c rest.Interface, resource, ns, kind string, items func(*L) ([]T, metav1.ListMeta)) pager[T] {
	return pager[T]{
		get: func(o metav1.ListOptions) ([]byte, error) {
			return c.Get().NamespaceIfScoped(ns, ns != "").Resource(resource).
				VersionedParams(&o, scheme.ParameterCodec).Do(ctx).Raw()
		},
		decode: func(b []byte, dst []T) ([]T, metav1.ListMeta, error) {
			out, meta, err := decodeList[T, PT](b, kind, dst)
			if !errors.Is(err, errNotProtobuf) {
				return out, meta, err
			}
			l := PL(new(L))
			if _, _, err := scheme.Codecs.UniversalDeserializer().Decode(b, nil, l); err != nil {
				return dst, meta, fmt.Errorf("decoding a page of %s: %w", resource, err)
			}
			it, meta := items((*L)(l))
			return append(dst, it...), meta, nil
		},
	}
}

// list pages through one collection. A plain pager's pages are kept apart
// and joined once at the end: appending page after page to one slice
// copied the large collections over and over (a fifth of the CPU of a
// LARGE what-can).
//
// A split pager's pages are decoded straight into the collection, sized
// from the first page's remaining item count; the next page is asked for
// as soon as this page's continue token is read from the front of its body
// (peekContinue), and the server prepares it while this one is decoded.
func list[T any](ctx context.Context, pg pager[T]) ([]T, error) {
	if pg.get == nil {
		return listPages(ctx, pg)
	}
	type body struct {
		b   []byte
		err error
	}
	get := func(o metav1.ListOptions) <-chan body {
		ch := make(chan body, 1)
		go func() {
			b, err := pg.get(o)
			ch <- body{b, err}
		}()
		return ch
	}
	var all []T
	opts := metav1.ListOptions{Limit: PageSize}
	next := get(opts) // the request in flight for opts
	for first := true; ; first = false {
		r := <-next
		var ahead <-chan body // the next page's request, when already sent
		var aheadCont string
		var meta metav1.ListMeta
		err := r.err
		if err == nil {
			if c, ok := peekContinue(r.b); ok && c != "" {
				aheadCont = c
				o := opts
				o.Continue = c
				ahead = get(o)
			}
			all, meta, err = pg.decode(r.b, all)
		}
		if err != nil {
			if restart(err, opts) {
				all, opts = nil, metav1.ListOptions{}
				next = get(opts)
				continue
			}
			return nil, err
		}
		if first && meta.RemainingItemCount != nil && *meta.RemainingItemCount > 0 {
			all = slices.Grow(all, int(min(*meta.RemainingItemCount, 1<<20)))
		}
		if pg.report != nil {
			pg.report(len(all))
		}
		if meta.Continue == "" || ctx.Err() != nil {
			return all, ctx.Err()
		}
		opts.Continue = meta.Continue
		if ahead != nil && aheadCont == meta.Continue {
			next = ahead
		} else {
			next = get(opts)
		}
	}
}

// listPages is list for a plain pager.
func listPages[T any](ctx context.Context, pg pager[T]) ([]T, error) {
	var pages [][]T
	total := 0
	opts := metav1.ListOptions{Limit: PageSize}
	for {
		items, cont, err := pg.page(opts)
		if err != nil {
			if restart(err, opts) {
				pages, total, opts = nil, 0, metav1.ListOptions{}
				continue
			}
			return nil, err
		}
		pages = append(pages, items)
		total += len(items)
		if pg.report != nil {
			pg.report(total)
		}
		if cont == "" || ctx.Err() != nil {
			return slices.Concat(pages...), ctx.Err()
		}
		opts.Continue = cont
	}
}

// restart says whether a LIST that failed with err should start over: an
// expired continue token (410) restarts it without paging, as client-go's
// pager does.
func restart(err error, opts metav1.ListOptions) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && apierrors.IsResourceExpired(err) && opts.Continue != ""
}

// slim drops what the engine never reads and memory pays for: managed
// fields and kubectl's last-applied copy of the object.
func slim(m metav1.Object) {
	m.SetManagedFields(nil)
	a := m.GetAnnotations()
	delete(a, corev1.LastAppliedConfigAnnotation)
	if len(a) == 0 {
		a = nil
	}
	m.SetAnnotations(a)
}

func reason(resource string, err error) string {
	if apierrors.IsForbidden(err) {
		return fmt.Sprintf("forbidden: ask for `list` on %s (%v)", resource, apierrors.ReasonForError(err))
	}
	return err.Error()
}
