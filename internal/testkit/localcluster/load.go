package localcluster

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// Load creates the snapshot's objects in the cluster: namespaces first,
// then service accounts, roles and bindings in parallel. Objects that exist
// already (an earlier, interrupted load) count as created, so a load can
// be resumed.
func Load(ctx context.Context, cs kubernetes.Interface, s *rbac.Snapshot) error {
	err := parallel(ctx, len(s.Namespaces), func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &s.Namespaces[i], metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("load namespaces: %w", err)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		return parallel(ctx, len(s.ServiceAccounts), func(ctx context.Context, i int) error {
			_, err := cs.CoreV1().ServiceAccounts(s.ServiceAccounts[i].Namespace).Create(ctx, &s.ServiceAccounts[i], metav1.CreateOptions{})
			return err
		})
	})
	g.Go(func() error {
		return parallel(ctx, len(s.ClusterRoles), func(ctx context.Context, i int) error {
			_, err := cs.RbacV1().ClusterRoles().Create(ctx, &s.ClusterRoles[i], metav1.CreateOptions{})
			return err
		})
	})
	g.Go(func() error {
		return parallel(ctx, len(s.Roles), func(ctx context.Context, i int) error {
			_, err := cs.RbacV1().Roles(s.Roles[i].Namespace).Create(ctx, &s.Roles[i], metav1.CreateOptions{})
			return err
		})
	})
	g.Go(func() error {
		return parallel(ctx, len(s.RoleBindings), func(ctx context.Context, i int) error {
			_, err := cs.RbacV1().RoleBindings(s.RoleBindings[i].Namespace).Create(ctx, &s.RoleBindings[i], metav1.CreateOptions{})
			return err
		})
	})
	g.Go(func() error {
		return parallel(ctx, len(s.ClusterRoleBindings), func(ctx context.Context, i int) error {
			_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &s.ClusterRoleBindings[i], metav1.CreateOptions{})
			return err
		})
	})
	if err := g.Wait(); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return nil
}

// parallel runs f for 0..n-1 on a few workers, tolerating AlreadyExists.
func parallel(ctx context.Context, n int, f func(context.Context, int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			if err := f(ctx, i); err != nil && !apierrors.IsAlreadyExists(err) {
				return err
			}
			return nil
		})
	}
	return g.Wait()
}
