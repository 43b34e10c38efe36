package cmd

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestApplyNeverRegrants: a narrowing fix (a RoleBinding in ci, then the
// cluster-wide binding deleted) is dry-run, then, while the confirmation
// waits, someone deletes the cluster-wide binding. Applying must not
// create the narrowed grant: the account had no access, and it keeps
// none (issue 28's reproduction, on the real API server).
func TestApplyNeverRegrants(t *testing.T) {
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "unit-ci"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "unit-pod-creator"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa := rbacv1.Subject{Kind: "ServiceAccount", Namespace: "unit-ci", Name: "deployer"}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "unit-pod-creator"}
	crb, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "unit-deployer-pods"},
		RoleRef: ref, Subjects: []rbacv1.Subject{sa}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := json.Marshal(rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: rbac.RBACAPIVersion, Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "unit-deployer-pods", Namespace: "unit-ci"}, RoleRef: ref, Subjects: []rbacv1.Subject{sa}})
	fx := &fix.Fix{Operations: []fix.Operation{
		{Action: fix.Create, Target: rbac.ObjectRef{APIVersion: rbac.RBACAPIVersion, Kind: "RoleBinding", Name: "unit-deployer-pods", Namespace: "unit-ci"}, Object: rb},
		{Action: fix.Delete, Target: rbac.ObjectRef{APIVersion: rbac.RBACAPIVersion, Kind: "ClusterRoleBinding", Name: "unit-deployer-pods"},
			Guard: []fix.PatchOp{{Op: "test", Path: "/metadata/uid", Value: string(crb.UID)}}},
	}}
	cl, err := cluster.New(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	app := &access.App{Cluster: cl}
	if _, err := app.DryRun(ctx, fx); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	// While the confirmation waits.
	if err := cs.RbacV1().ClusterRoleBindings().Delete(ctx, "unit-deployer-pods", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := app.Apply(ctx, fx, nil); err == nil || n != 0 {
		t.Fatalf("apply after the binding went: %d applied, %v; want an error and nothing applied", n, err)
	}
	if _, err := cs.RbacV1().RoleBindings("unit-ci").Get(ctx, "unit-deployer-pods", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the narrowed RoleBinding was created though the access it narrows was gone: %v", err)
	}
}
