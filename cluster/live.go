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
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
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
	return c
}

// Live loads a snapshot of scope from the cluster behind cs. LISTs run in
// parallel and page through large collections. A forbidden LIST becomes a
// gap in the snapshot (the answer is then incomplete, never "denied");
// any other failure (unreachable server, expired credentials) is an error,
// because nothing useful can be said.
func Live(ctx context.Context, cs kubernetes.Interface, scope source.Scope) (*rbac.Snapshot, error) {
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
	rb, core := cs.RbacV1(), cs.CoreV1()
	if scope.ClusterRBAC {
		g.Go(fetch(ctx, gap, "clusterroles", "", &s.ClusterRoles, func(o metav1.ListOptions) ([]rbacv1.ClusterRole, string, error) {
			l, err := rb.ClusterRoles().List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}))
		g.Go(fetch(ctx, gap, "clusterrolebindings", "", &s.ClusterRoleBindings, func(o metav1.ListOptions) ([]rbacv1.ClusterRoleBinding, string, error) {
			l, err := rb.ClusterRoleBindings().List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}))
	}
	if nsScoped {
		g.Go(fetch(ctx, gap, "roles", ns, &s.Roles, func(o metav1.ListOptions) ([]rbacv1.Role, string, error) {
			l, err := rb.Roles(ns).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}))
		g.Go(fetch(ctx, gap, "rolebindings", ns, &s.RoleBindings, func(o metav1.ListOptions) ([]rbacv1.RoleBinding, string, error) {
			l, err := rb.RoleBindings(ns).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}))
	}
	if scope.ServiceAccounts && nsScoped {
		g.Go(fetch(ctx, gap, "serviceaccounts", ns, &s.ServiceAccounts, func(o metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
			l, err := core.ServiceAccounts(ns).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			for i := range l.Items {
				l.Items[i].Secrets = nil // token secret names are not needed
			}
			return l.Items, l.Continue, nil
		}))
	}
	if scope.Namespaces {
		g.Go(fetch(ctx, gap, "namespaces", "", &s.Namespaces, func(o metav1.ListOptions) ([]corev1.Namespace, string, error) {
			l, err := core.Namespaces().List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}))
	}
	if scope.Workloads {
		for _, task := range liveWorkloads(ctx, cs, s, gap) {
			g.Go(task)
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return s, nil
}

// fetch returns an errgroup task that pages through one collection into
// dst, slims every object, and turns a forbidden LIST into a gap.
func fetch[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, gap func(string, string, error) error, resource, ns string, dst *[]T, page func(metav1.ListOptions) ([]T, string, error)) func() error {
	return func() error {
		if report := source.ProgressFrom(ctx); report != nil {
			inner, n := page, 0
			page = func(o metav1.ListOptions) ([]T, string, error) {
				items, cont, err := inner(o)
				n += len(items)
				if err == nil {
					report(resource, n)
				}
				return items, cont, err
			}
		}
		all, err := list(ctx, page)
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

// list pages through one collection. Pages are kept apart and joined once
// at the end: appending page after page to one slice copied the large
// collections over and over (a fifth of the CPU of a LARGE what-can).
func list[T any](ctx context.Context, page func(metav1.ListOptions) ([]T, string, error)) ([]T, error) {
	var pages [][]T
	opts := metav1.ListOptions{Limit: PageSize}
	for {
		items, cont, err := page(opts)
		if err != nil {
			var status apierrors.APIStatus
			// An expired continue token (410) restarts the LIST without
			// paging, as client-go's pager does.
			if errors.As(err, &status) && apierrors.IsResourceExpired(err) && opts.Continue != "" {
				pages, opts = nil, metav1.ListOptions{}
				continue
			}
			return nil, err
		}
		pages = append(pages, items)
		if cont == "" || ctx.Err() != nil {
			return slices.Concat(pages...), ctx.Err()
		}
		opts.Continue = cont
	}
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
