package fix_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestPrintedNarrowingFixOnTheRealServer runs a narrowing fix's printed
// commands with the real kubectl against the real API server: the
// ClusterRoleBinding is deleted first and the RoleBinding created after;
// when the binding changes between its guard and its delete (a kubectl
// that relabels it just before deleting), the delete's preconditions
// refuse it and the RoleBinding is not created; when the guard fails,
// nothing runs after it. The binding's name holds a newline and shell
// syntax, as an attacker may name it.
func TestPrintedNarrowingFixOnTheRealServer(t *testing.T) {
	c := clustertest.Get(t)
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	kubectl := kubectlBinary(t)
	const ns = "default"
	crb := "printed-narrow\n$(touch PWNED) 'x'"
	subject := rbacv1.Subject{Kind: "ServiceAccount", Name: "printed-narrow", Namespace: ns}
	roleRef := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}
	rb, _ := json.Marshal(rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: rbac.RBACAPIVersion, Kind: "RoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "printed-narrow", Namespace: ns}, RoleRef: roleRef, Subjects: []rbacv1.Subject{subject}})
	// As a narrowing generator orders them: the create, then the delete.
	fx := &fix.Fix{Finding: "workload-create-0000000000", Description: "narrow " + crb, Operations: []fix.Operation{
		{Action: fix.Create, Target: rbac.ObjectRef{APIVersion: rbac.RBACAPIVersion, Kind: "RoleBinding", Name: "printed-narrow", Namespace: ns}, Object: rb},
		{Action: fix.Delete, Target: rbac.ObjectRef{APIVersion: rbac.RBACAPIVersion, Kind: "ClusterRoleBinding", Name: crb},
			Guard: []fix.PatchOp{{Op: "test", Path: "/subjects", Value: []rbacv1.Subject{subject}}}},
	}}
	script := fix.Kubectl(fx)

	dir := t.TempDir()
	// interfere: a kubectl that changes the binding just before it is
	// deleted, as a concurrent writer would between guard and delete.
	interfere := filepath.Join(dir, "interfere")
	if err := os.MkdirAll(interfere, 0o700); err != nil {
		t.Fatal(err)
	}
	wrapper := "#!/bin/sh\nif [ \"$1\" = delete ]; then \"$REAL\" label clusterrolebinding \"$CRB\" changed=yes --overwrite >/dev/null || exit 99; fi\nexec \"$REAL\" \"$@\"\n"
	if err := os.WriteFile(filepath.Join(interfere, "kubectl"), []byte(wrapper), 0o700); err != nil {
		t.Fatal(err)
	}

	setup := func(t *testing.T, subjects []rbacv1.Subject) {
		t.Helper()
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, crb, metav1.DeleteOptions{})
		_ = cs.RbacV1().RoleBindings(ns).Delete(ctx, "printed-narrow", metav1.DeleteOptions{})
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: crb},
			RoleRef: roleRef, Subjects: subjects}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, crb, metav1.DeleteOptions{})
			_ = cs.RbacV1().RoleBindings(ns).Delete(ctx, "printed-narrow", metav1.DeleteOptions{})
		})
	}
	runScript := func(t *testing.T, path string) error {
		t.Helper()
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "PATH="+path+":"+os.Getenv("PATH"), "REAL="+kubectl, "CRB="+crb)
		out, err := cmd.CombinedOutput()
		if _, serr := os.Stat(filepath.Join(cmd.Dir, "PWNED")); serr == nil {
			t.Errorf("the binding's name ran as a command:\n%s", script)
		}
		t.Logf("%s\n%s", script, out)
		return err
	}
	exists := func(t *testing.T) (crbThere, rbThere bool) {
		t.Helper()
		_, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, crb, metav1.GetOptions{})
		crbThere = !apierrors.IsNotFound(err)
		_, err = cs.RbacV1().RoleBindings(ns).Get(ctx, "printed-narrow", metav1.GetOptions{})
		rbThere = !apierrors.IsNotFound(err)
		return crbThere, rbThere
	}

	t.Run("applied", func(t *testing.T) {
		setup(t, []rbacv1.Subject{subject})
		if err := runScript(t, filepath.Dir(kubectl)); err != nil {
			t.Fatalf("the printed commands failed: %v", err)
		}
		if crbThere, rbThere := exists(t); crbThere || !rbThere {
			t.Errorf("after the commands: ClusterRoleBinding there %v (want deleted), RoleBinding there %v (want created)", crbThere, rbThere)
		}
	})
	t.Run("changed between guard and delete", func(t *testing.T) {
		setup(t, []rbacv1.Subject{subject})
		if err := runScript(t, interfere); err == nil {
			t.Fatal("the commands succeeded on a binding changed after its guard")
		}
		if crbThere, rbThere := exists(t); !crbThere || rbThere {
			t.Errorf("ClusterRoleBinding there %v (want kept: the delete's preconditions refuse it), RoleBinding there %v (want not created)", crbThere, rbThere)
		}
	})
	t.Run("guard fails", func(t *testing.T) {
		setup(t, []rbacv1.Subject{subject, {Kind: "User", APIGroup: rbacv1.GroupName, Name: "someone-else"}})
		if err := runScript(t, filepath.Dir(kubectl)); err == nil {
			t.Fatal("the commands succeeded on a binding whose subjects changed since the review")
		}
		if crbThere, rbThere := exists(t); !crbThere || rbThere {
			t.Errorf("ClusterRoleBinding there %v (want kept), RoleBinding there %v (want not created)", crbThere, rbThere)
		}
	})
}
