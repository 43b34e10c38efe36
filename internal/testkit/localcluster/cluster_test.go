package localcluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelper()
		return
	}
	clustertest.Main(m)
}

func client(t *testing.T, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestRBACDecisions(t *testing.T) {
	c := clustertest.Get(t)
	cs := client(t, c.Config)
	ctx := t.Context()
	ns := "harness-rbac"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "alice-reads-pods"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The RBAC authorizer sees the new binding through its informers, a
	// moment after the create returns (longer on a loaded machine): wait
	// until it does, then ask.
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: "alice", Groups: []string{"system:authenticated"}, ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "list", Resource: "pods"}}}, metav1.CreateOptions{})
		return err == nil && sar.Status.Allowed, err
	}); err != nil {
		t.Fatalf("the RBAC authorizer never saw the RoleBinding: %v", err)
	}
	for _, tc := range []struct {
		name, verb, namespace string
		want                  bool
	}{
		{"granted verb in the binding's namespace", "list", ns, true},
		{"verb the role lacks", "delete", ns, false},
		{"other namespace", "list", "default", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{
					User:               "alice",
					Groups:             []string{"system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: tc.namespace, Verb: tc.verb, Resource: "pods"},
				},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sar.Status.Allowed != tc.want {
				t.Errorf("SubjectAccessReview allowed = %v, want %v (reason %q)", sar.Status.Allowed, tc.want, sar.Status.Reason)
			}
		})
	}
}

func TestBootstrapRolesAggregated(t *testing.T) {
	cs := client(t, clustertest.Get(t).Config)
	for _, name := range []string{"view", "edit", "admin"} {
		r, err := cs.RbacV1().ClusterRoles().Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if r.AggregationRule == nil || len(r.Rules) < 5 {
			t.Errorf("ClusterRole %s: aggregationRule %v, %d rules; want an aggregated role with rules", name, r.AggregationRule, len(r.Rules))
		}
	}
}

func TestDefaultServiceAccountInNewNamespace(t *testing.T) {
	cs := client(t, clustertest.Get(t).Config)
	ctx := t.Context()
	ns := "harness-sa"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatalf("namespace %s got no default service account: %v", ns, err)
	}
}

func TestNodeRestrictionRejectsPatchOfAnotherNode(t *testing.T) {
	c := clustertest.Get(t)
	cs := client(t, c.Config)
	ctx := t.Context()
	for _, n := range []string{"node-a", "node-b"} {
		if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	asNode := rest.CopyConfig(c.Config)
	asNode.Impersonate = rest.ImpersonationConfig{UserName: "system:node:node-a", Groups: []string{"system:nodes", "system:authenticated"}}
	nodeClient := client(t, asNode)
	patch := []byte(`{"metadata":{"labels":{"harness":"changed"}}}`)
	dry := metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}}

	_, err := nodeClient.CoreV1().Nodes().Patch(ctx, "node-b", types.MergePatchType, patch, dry)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "not allowed to modify node") {
		t.Fatalf("node-a patching node-b: got %v, want NodeRestriction's forbidden", err)
	}
	// The near miss: the same node may patch itself, so the refusal above
	// is NodeRestriction's and not a blanket RBAC denial.
	if _, err := nodeClient.CoreV1().Nodes().Patch(ctx, "node-a", types.MergePatchType, patch, dry); err != nil {
		t.Fatalf("node-a patching itself (dry run): %v", err)
	}
}

// TestUpIsIdempotentAndDownLeavesNothing is `make cluster` twice, then
// `make cluster-down`.
func TestUpIsIdempotentAndDownLeavesNothing(t *testing.T) {
	clustertest.Require(t)
	dir := t.TempDir()
	ctx := t.Context()
	kc, started, err := localcluster.Up(ctx, localcluster.Options{Dir: dir, NoControllerManager: false})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = localcluster.Down(dir) })
	if !started {
		t.Fatal("first Up did not start a cluster")
	}
	if fi, err := os.Stat(kc); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig %s: %v, mode %v; want 0600", kc, err, fi.Mode())
	}
	pids := readPids(t, dir)
	if len(pids) != 4 {
		t.Fatalf("pid files: %v, want etcd, kube-apiserver, kube-controller-manager, metrics-server", pids)
	}
	if _, started, err := localcluster.Up(ctx, localcluster.Options{Dir: dir}); err != nil || started {
		t.Fatalf("second Up: started=%v err=%v; want a no-op", started, err)
	}
	// A second Start on the same data would hang on etcd's lock: it must
	// refuse at once and say what to do.
	if c, err := localcluster.Start(ctx, localcluster.Options{Dir: dir}); err == nil {
		c.Stop()
		t.Fatal("Start on a directory with a running cluster succeeded")
	} else if !strings.Contains(err.Error(), "already running") {
		t.Fatalf("Start on a busy directory: %v; want it to say a cluster is already running", err)
	}
	if err := localcluster.Down(dir); err != nil {
		t.Fatal(err)
	}
	// A process Down stopped may be a zombie for a moment, until this
	// process's Wait (the launcher's goroutine) reaps it: under load that
	// moment was seen to outlast Down, so give the reaping a few seconds.
	for name, pid := range pids {
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("%s (pid %d) still running after Down", name, pid)
		}
	}
}

// TestUpWithHelper: a cluster whose helper (make demo-azure's webhook)
// has died, or serves another key, is started again, helper and all; one
// whose helper lives is used again; Down stops the helper too.
func TestUpWithHelper(t *testing.T) {
	clustertest.Require(t)
	dir := t.TempDir()
	ctx := t.Context()
	starts := 0
	o := localcluster.Options{Dir: dir, Helper: "sleeper", HelperKey: "v1", BeforeStart: func(ctx context.Context, o *localcluster.Options) error {
		starts++
		ready := filepath.Join(o.Dir, "sleeper.ready")
		return localcluster.StartHelper(ctx, o.Dir, "sleeper", o.HelperKey, ready, []string{"/bin/sh", "-c", "touch " + ready + "; while :; do sleep 1; done"})
	}}
	t.Cleanup(func() { _ = localcluster.Down(dir) })
	helperPid := func() int {
		b, err := os.ReadFile(filepath.Join(dir, "sleeper.helper"))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	gone := func(pid int) bool {
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		return syscall.Kill(pid, 0) != nil
	}
	for i, want := range []bool{true, false} {
		if _, started, err := localcluster.Up(ctx, o); err != nil || started != want {
			t.Fatalf("Up %d: started=%v err=%v, want started=%v", i+1, started, err, want)
		}
	}
	first := helperPid()
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil || !gone(first) {
		t.Fatalf("kill the helper: %v", err)
	}
	if _, started, err := localcluster.Up(ctx, o); err != nil || !started || starts != 2 {
		t.Fatalf("Up after the helper died: started=%v err=%v, %d helper starts; want the cluster and helper started again", started, err, starts)
	}
	// A helper serving another key (the webhook's files changed) is not
	// used again either.
	o.HelperKey = "v2"
	if _, started, err := localcluster.Up(ctx, o); err != nil || !started || starts != 3 {
		t.Fatalf("Up with another helper key: started=%v err=%v, %d helper starts; want the cluster and helper started again", started, err, starts)
	}
	second := helperPid()
	if err := localcluster.Down(dir); err != nil {
		t.Fatal(err)
	}
	if !gone(second) {
		t.Errorf("the helper (pid %d) outlived Down", second)
	}
	// A helper that dies before it is ready fails Up with its log, and
	// leaves nothing running.
	bad := localcluster.Options{Dir: dir, Helper: "broken", BeforeStart: func(ctx context.Context, o *localcluster.Options) error {
		return localcluster.StartHelper(ctx, o.Dir, "broken", "", filepath.Join(o.Dir, "never"), []string{"/bin/sh", "-c", "echo no fixture here; exit 3"})
	}}
	if _, _, err := localcluster.Up(ctx, bad); err == nil || !strings.Contains(err.Error(), "no fixture here") {
		t.Errorf("Up with a helper that exits: %v, want its log", err)
	}
}

// TestStartAgainOnKeptData: a stopped cluster starts again on its data
// (make bench keeps LARGE so), though etcd still holds the last start's
// metrics-server Service and APIService, with another port and CA.
func TestStartAgainOnKeptData(t *testing.T) {
	clustertest.Require(t)
	dir := t.TempDir()
	for i := range 2 {
		c, err := localcluster.Start(t.Context(), localcluster.Options{Dir: dir, NoControllerManager: true})
		if err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
		c.Stop()
	}
}

const helperEnv = "LOCALCLUSTER_TEST_HELPER_DIR"

// runHelper plays a test binary that starts a cluster and is then
// interrupted: it starts one, signals readiness with a file, and waits.
func runHelper() {
	dir := os.Getenv(helperEnv)
	code := 0
	func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		c, err := localcluster.Start(ctx, localcluster.Options{Dir: dir, NoControllerManager: true})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
			return
		}
		_ = os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600)
		clustertest.StopOnSignal(c)
		time.Sleep(5 * time.Minute)
	}()
	os.Exit(code)
}

// TestInterruptLeavesNoProcess runs a process that starts a cluster and
// interrupts it, once with Ctrl-C (SIGINT, which the handler answers by
// stopping the cluster) and once with SIGKILL (no handler runs: the
// children's parent-death signal must end them).
func TestInterruptLeavesNoProcess(t *testing.T) {
	clustertest.Require(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), helperEnv+"="+dir)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 3*time.Minute, true, func(context.Context) (bool, error) {
				select {
				case err := <-done:
					return false, fmt.Errorf("helper exited early: %v", err)
				default:
				}
				_, err := os.Stat(filepath.Join(dir, "ready"))
				return err == nil, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			pids := readPids(t, dir)
			if len(pids) != 3 {
				t.Fatalf("pid files: %v, want etcd, kube-apiserver and metrics-server", pids)
			}
			_ = cmd.Process.Signal(sig)
			t.Logf("the helper ended: %v", <-done) // killed by the signal
			deadline := time.Now().Add(30 * time.Second)
			for name, pid := range pids {
				for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
					time.Sleep(100 * time.Millisecond)
				}
				if syscall.Kill(pid, 0) == nil {
					t.Errorf("%s (pid %d) survived %v of its parent", name, pid, sig)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
	}
}

func readPids(t *testing.T, dir string) map[string]int {
	t.Helper()
	pids := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		pids[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
	}
	return pids
}
