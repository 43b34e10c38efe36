// Package readme runs the documentation's examples (README.md and every
// page of docs/), as printed, against the demo cluster: kubectl (built from
// k8s.io/kubernetes) finds the plugin on PATH, as it would for a user, in a
// scratch directory where testdata/ is the repository's.
package readme

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// example is one command line of the documentation: file is relative to
// the repository's root.
type example struct {
	file    string
	line    int
	command string
}

// docFiles are the files whose examples run, from the repository's root:
// README.md, then the pages of docs/ in name order (the generated command
// reference too: its examples are the commands' own). An example may use
// what an earlier one of the same file wrote (a snapshot, a baseline, the
// names file set with config set), never what another file's did.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, p := range pages {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, rel)
	}
	return files
}

// allExamples are the examples of every file of docFiles, in order.
func allExamples(t *testing.T, root string) (run []example, notRun int) {
	t.Helper()
	for _, f := range docFiles(t, root) {
		r, n := examples(t, root, f)
		run, notRun = append(run, r...), notRun+n
	}
	return run, notRun
}

// examples returns every `kubectl access` line of one file's sh and console
// blocks, and how many such lines the blocks marked `<!-- examples: not run
// (...) -->` hold (those need a real AKS sign-in).
func examples(t *testing.T, root, file string) (run []example, notRun int) {
	t.Helper()
	f, err := os.Open(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only: its close loses nothing
	sc := bufio.NewScanner(f)
	inBlock, skip, marked := false, false, false
	var pending string
	n := 0
	for sc.Scan() {
		n++
		l := sc.Text()
		trimmed := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(trimmed, "```"):
			if !inBlock {
				// Commands are in sh and console blocks; text blocks are
				// usage lines and flag lists, yaml ones manifests.
				info := strings.TrimPrefix(trimmed, "```")
				inBlock, skip, marked = true, marked || (info != "sh" && info != "console"), false
			} else {
				inBlock = false
			}
			continue
		case !inBlock:
			if strings.HasPrefix(trimmed, "<!-- examples: not run") {
				marked = true
			} else if trimmed != "" {
				marked = false
			}
			continue
		}
		trimmed = strings.TrimPrefix(trimmed, "$ ")
		if pending != "" {
			trimmed, pending = pending+" "+trimmed, ""
		}
		if strings.HasSuffix(trimmed, "\\") {
			pending = strings.TrimSuffix(trimmed, "\\")
			continue
		}
		if !strings.HasPrefix(trimmed, "kubectl access") {
			continue
		}
		if skip {
			notRun++
			continue
		}
		run = append(run, example{file: file, line: n, command: trimmed})
	}
	return run, notRun
}

// expected is the exit code an example may end with: 1 is can's "denied",
// 3 is audit's --fail-on; --apply without --yes must refuse off a terminal.
func expected(cmd string) []int {
	switch {
	case strings.Contains(cmd, "--apply") && !strings.Contains(cmd, "--yes"):
		return []int{2}
	case strings.HasPrefix(cmd, "kubectl access can "):
		return []int{0, 1}
	case strings.Contains(cmd, "--fail-on"):
		return []int{0, 3}
	}
	return []int{0}
}

func TestDocExamplesRunAgainstTheDemo(t *testing.T) {
	root, _ := filepath.Abs("../..")
	bin := filepath.Join(root, "bin")
	if _, err := os.Stat(filepath.Join(bin, "kubectl-access")); err != nil {
		t.Fatalf("bin/kubectl-access: build it first (make test does): %v", err)
	}
	cpBin, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	c := clustertest.Get(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	if err := localcluster.ApplyFiles(ctx, c.Config, filepath.Join(root, "testdata/demo/cluster.yaml")); err != nil {
		t.Fatal(err)
	}
	waitForAggregation(t, ctx, kubernetes.NewForConfigOrDie(c.Config))

	run, notRun := allExamples(t, root)
	if len(run) < 40 {
		t.Fatalf("found %d examples to run; README.md and docs/ have more than that", len(run))
	}
	t.Logf("%d examples run; %d in blocks marked not run (an AKS sign-in) or not shell (usage, flags, a workflow file)", len(run), notRun)
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(root, "testdata"), filepath.Join(dir, "testdata")); err != nil {
		t.Fatal(err)
	}
	// The examples' `config set` writes under a config directory of their
	// own, not the machine's.
	env := append(os.Environ(), "KUBECONFIG="+fleetKubeconfig(t, c.Kubeconfig), "PATH="+bin+":"+cpBin+":"+os.Getenv("PATH"), "XDG_CONFIG_HOME="+t.TempDir())
	for _, ex := range run {
		cmd := exec.CommandContext(ctx, "bash", "-c", "set -o pipefail; "+ex.command)
		cmd.Dir, cmd.Env = dir, env
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = nil, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s:%d: %v", ex.file, ex.line, err)
		}
		ok := false
		for _, want := range expected(ex.command) {
			ok = ok || code == want
		}
		if !ok {
			t.Errorf("%s:%d: %s\nexit %d, want %v\n%s", ex.file, ex.line, ex.command, code, expected(ex.command), stderr.String())
		}
	}
}

// waitForAggregation waits for the controller manager to have filled the
// aggregated roles (edit, view), which the demo's bindings use.
func waitForAggregation(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	for {
		r, err := cs.RbacV1().ClusterRoles().Get(ctx, "edit", metav1.GetOptions{})
		if err == nil && len(r.Rules) > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the edit ClusterRole was never aggregated")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestReaderClusterRole: deploy/reader.yaml (docs/permissions.md) is enough for a
// complete audit (nothing forbidden, so nothing incomplete), and only the
// NodeRestriction probe, whose impersonation it leaves out on purpose,
// reports unknown.
func TestReaderClusterRole(t *testing.T) {
	root, _ := filepath.Abs("../..")
	c := clustertest.Get(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if err := localcluster.ApplyFiles(ctx, c.Config, filepath.Join(root, "deploy/reader.yaml")); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(c.Config)
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "auditor", Namespace: "default"}}
	if _, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "auditor-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kubectl-access-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "auditor", Namespace: "default"}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// The demo's nodes, so the probes have a node to ask as.
	if err := localcluster.ApplyFiles(ctx, c.Config, filepath.Join(root, "testdata/demo/cluster.yaml")); err != nil {
		t.Fatal(err)
	}
	// The auditor's own token, not --as: the probes impersonate a node,
	// which through --as the admin credential would do.
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, "auditor", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: c.Config.CAData}
	kc.AuthInfos["auditor"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	kc.Contexts["auditor"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "auditor"}
	kc.CurrentContext = "auditor"
	kubeconfig := filepath.Join(t.TempDir(), "auditor.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, filepath.Join(root, "bin/kubectl-access"), "--kubeconfig", kubeconfig, "snapshot", "-o", "json").Output()
	if err != nil {
		t.Fatalf("snapshot as the auditor: %v", err)
	}
	var snap rbac.Snapshot
	if err := json.Unmarshal(out, &snap); err != nil {
		t.Fatal(err)
	}
	if len(snap.Gaps) > 0 {
		t.Errorf("with kubectl-access-reader the view is incomplete: %v", snap.Gaps)
	}
	if snap.Probes == nil || snap.Probes.NodeAuthorizer.State == rbac.ProbeUnknown {
		t.Errorf("the Node-authorizer probe could not run with kubectl-access-reader: %+v", snap.Probes)
	}
	if snap.Probes != nil && (snap.Probes.NodeRestriction.State != rbac.ProbeUnknown || !strings.Contains(snap.Probes.NodeRestriction.Detail, "impersonate")) {
		t.Errorf("the NodeRestriction probe should say it lacks impersonation: %+v", snap.Probes.NodeRestriction)
	}
}

// fleetKubeconfig is the demo's kubeconfig with two more contexts on the
// same cluster, prod-east and prod-west, for the examples that read
// several clusters.
func fleetKubeconfig(t *testing.T, path string) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	current := kc.Contexts[kc.CurrentContext]
	if current == nil {
		t.Fatalf("%s has no current context", path)
	}
	for _, name := range []string{"prod-east", "prod-west"} {
		c := *current
		kc.Contexts[name] = &c
	}
	out := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, out); err != nil {
		t.Fatal(err)
	}
	return out
}
