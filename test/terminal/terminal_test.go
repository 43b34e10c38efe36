// Package terminal runs the explorer in a real terminal (tmux) against the
// local cluster: keys go in with send-keys, the screen comes back with
// capture-pane, and a fix applied with its keys must leave the cluster.
package terminal

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// tmux drives one tmux server of the test's own (its own socket).
type tmux struct {
	t      *testing.T
	bin    string
	socket string
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	cmd := exec.Command(x.bin, append([]string{"-S", x.socket}, args...)...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(e string) bool { return strings.HasPrefix(e, "TMUX=") })
	out, err := cmd.CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (x *tmux) screen() string { return x.run("capture-pane", "-p", "-t", "explorer") }

// keys sends each key on its own, a moment apart, so that an escape is
// never read together with the next key as alt+key.
func (x *tmux) keys(keys ...string) {
	for _, k := range keys {
		x.run("send-keys", "-t", "explorer", k)
		time.Sleep(150 * time.Millisecond)
	}
}

func (x *tmux) text(s string) {
	x.run("send-keys", "-t", "explorer", "-l", s)
	time.Sleep(150 * time.Millisecond)
}

// waitFor waits until the screen shows want, and returns it.
func (x *tmux) waitFor(want string, d time.Duration) string {
	x.t.Helper()
	deadline := time.Now().Add(d)
	for {
		s := x.screen()
		if strings.Contains(s, want) {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("the screen does not show %q after %s:\n%s", want, d, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestExplorerAppliesAFixInARealTerminal(t *testing.T) {
	tmuxBin, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("tmux is needed for the real-terminal test (make testdeps installs it, as root: apt-get install tmux)")
	}
	bin, _ := filepath.Abs("../../bin/kubectl-access")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: build it first (make test does: make build)", bin)
	}
	c := clustertest.Get(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	snap, _, err := source.Files([]string{"../../audit/testdata/fixtures.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := localcluster.Load(ctx, cs, snap); err != nil {
		t.Fatal(err)
	}
	// The finding to fix: u-secrets reads secrets cluster-wide. Its id is
	// the audit's, from the cluster as loaded.
	live, err := cluster.Live(ctx, kubernetes.NewForConfigOrDie(cluster.ProtobufConfig(c.Config)), loading.Full)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, f := range audit.Run(rbac.NewIndex(live), audit.Options{}).Findings {
		if f.Rule == "secrets-read" && slices.ContainsFunc(f.Subjects, func(s rbac.Subject) bool { return s.Kind == rbac.UserKind && s.Name == "u-secrets" }) {
			id = f.ID
		}
	}
	if id == "" {
		t.Fatal("the fixture's secrets-read finding for u-secrets is missing")
	}

	fixDir := t.TempDir()
	x := &tmux{t: t, bin: tmuxBin, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	t.Cleanup(func() { _ = exec.Command(tmuxBin, "-S", x.socket, "kill-server").Run() }) // best effort: the server may be gone
	command := bin + " --kubeconfig " + c.Kubeconfig + " --fix-dir " + fixDir + "; echo EXPLORER-EXITED $?; sleep 600"
	x.run("new-session", "-d", "-s", "explorer", "-x", "120", "-y", "40", "env", "TERM=xterm-256color", "sh", "-c", command)

	x.waitFor("Findings (", time.Minute)
	// Sort, focus and navigation keys, on a real terminal: s orders the
	// subjects by findings; enter gives the matrix the keyboard (the heavy
	// rule marks it without colour), esc gives it back; t on Who can adds
	// the chains through service accounts.
	x.keys("1", "s")
	x.waitFor("by findings", 10*time.Second)
	x.keys("Enter")
	x.waitFor("┃", 10*time.Second)
	x.keys("Escape")
	time.Sleep(300 * time.Millisecond)
	if s := x.screen(); strings.Contains(s, "┃") {
		t.Errorf("esc left the detail focused:\n%s", s)
	}
	x.keys("2")
	x.text("get secrets -A")
	x.keys("Enter", "t")
	x.waitFor("chains through service accounts", 10*time.Second)
	x.waitFor("u-tokens", 10*time.Second)
	// Cross-navigation: the subject's detail, enter goes to it on
	// Subjects, esc comes back; v on Roles & bindings reads the object now.
	x.keys("Enter", "Enter")
	x.waitFor("[1 Subjects]", 10*time.Second)
	x.keys("Escape")
	x.waitFor("[2 Who can]", 10*time.Second)
	x.keys("4", "v")
	x.waitFor("as the cluster has it now", 10*time.Second)
	x.keys("v")

	x.keys("3")
	x.waitFor("SEVERITY", 10*time.Second)
	x.keys("/")
	x.text("id:" + id)
	x.keys("Enter")
	x.waitFor(id, 10*time.Second)
	x.keys("f")
	x.waitFor("Checked on a copy of the snapshot", 30*time.Second)
	x.keys("w")
	x.waitFor("(mode 0600)", 10*time.Second)
	if st, err := os.Stat(filepath.Join(fixDir, id+".fix.yaml")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("w did not write the fix 0600: %v", err)
	}
	x.keys("a")
	x.waitFor("Server-side dry run accepted every change", 30*time.Second)
	x.waitFor("Apply 1 change(s) for "+id, 5*time.Second)
	// y copies elsewhere in the fix flow: here it applies nothing and says
	// which key does.
	x.keys("y")
	x.waitFor("press Y (shift+y) to apply", 5*time.Second)
	x.keys("Y")
	x.waitFor("applied the fix for "+id, 30*time.Second)
	// The reload: the finding is gone from the screen.
	s := x.waitFor("no finding matches the filter", time.Minute)
	if strings.Contains(s, "secrets-read ") && strings.Contains(s, "u-secrets") {
		t.Errorf("the finding is still on the screen after the reload:\n%s", s)
	}
	x.keys("q")
	s = x.waitFor("EXPLORER-EXITED", 10*time.Second)
	if !strings.Contains(s, "EXPLORER-EXITED 0") {
		t.Errorf("the explorer did not exit cleanly:\n%s", s)
	}
	if !strings.Contains(s, "Signing in to "+c.Server) {
		t.Errorf("no sign-in line on the terminal before the screen was taken:\n%s", s)
	}

	// And a following audit no longer reports it.
	out, err := exec.CommandContext(ctx, bin, "--kubeconfig", c.Kubeconfig, "audit", "-o", "json").Output()
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	var rep audit.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(rep.Findings, func(f audit.Finding) bool { return f.ID == id }) {
		t.Errorf("audit -o json still reports %s after the explorer applied its fix", id)
	}
	// The real authorizer agrees: u-secrets lost the right.
	sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: "u-secrets", Groups: []string{rbac.GroupAuthenticated},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "secrets", Namespace: "default"},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sar.Status.Allowed {
		t.Errorf("the API server still lets u-secrets get secrets: %s", sar.Status.Reason)
	}

	// Ctrl-C ends the explorer as it ends any command: exit 130, the
	// terminal restored.
	x.run("respawn-pane", "-k", "-t", "explorer", "env", "TERM=xterm-256color", "sh", "-c", command)
	x.waitFor("Findings (", time.Minute)
	x.keys("C-c")
	s = x.waitFor("EXPLORER-EXITED", 10*time.Second)
	if !strings.Contains(s, "EXPLORER-EXITED 130") {
		t.Errorf("Ctrl-C in the explorer: want exit 130:\n%s", s)
	}
}

// startDemo runs `make TARGET DIRVAR=DIR` in a tmux session of its own,
// with a cluster directory of its own that the test's cleanup stops; down
// stops it sooner. TARGET is a demo less its prerequisites (make
// controlplane, make build), which make test has just run: a nested build
// here would see go test's toolchain on PATH and rebuild the control
// plane.
func startDemo(t *testing.T, target, dirVar string) (x *tmux, root, dir string, down func() error) {
	t.Helper()
	clustertest.Require(t)
	tmuxBin, err := exec.LookPath("tmux")
	if err != nil {
		t.Fatal("tmux is needed for the real-terminal test (make testdeps installs it, as root: apt-get install tmux)")
	}
	root, _ = filepath.Abs("../..")
	dir = t.TempDir()
	down = func() error {
		cmd := exec.Command("go", "run", "./hack/localcluster", "down", "-dir", dir)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=auto") // go.mod's Go, as the Makefile asks
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("cluster-down: %v\n%s", err, out)
		}
		return nil
	}
	t.Cleanup(func() {
		if err := down(); err != nil {
			t.Error(err)
		}
	})
	x = &tmux{t: t, bin: tmuxBin, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	t.Cleanup(func() { _ = exec.Command(tmuxBin, "-S", x.socket, "kill-server").Run() }) // best effort: the server may be gone
	command := "make -C " + root + " " + target + " " + dirVar + "=" + dir + "; echo DEMO-EXITED $?; sleep 600"
	x.run("new-session", "-d", "-s", "explorer", "-x", "120", "-y", "40", "env", "TERM=xterm-256color", "sh", "-c", command)
	return x, root, dir, down
}

// TestMakeDemoReachesTheExplorer runs `make demo` (the README's first
// command) in its own cluster directory: the local cluster starts, the demo
// loads, the explorer opens on it with the Entra group names, and every
// audit category has a planted finding.
func TestMakeDemoReachesTheExplorer(t *testing.T) {
	x, root, dir, _ := startDemo(t, "demo-run", "DEMO_DIR")
	x.waitFor("Findings (", 5*time.Minute)
	x.waitFor("Payments Developers", 10*time.Second) // a group's name beside its object id
	x.keys("3")
	x.waitFor("cluster-admin-equivalent", 10*time.Second)
	x.keys("q")
	x.waitFor("DEMO-EXITED 0", 10*time.Second)

	out, err := exec.Command(filepath.Join(root, "bin/kubectl-access"), "--kubeconfig", filepath.Join(dir, "kubeconfig"), "audit", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var rep audit.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatal(err)
	}
	for _, cat := range []audit.Category{audit.CategoryRBAC, audit.CategoryGMSA, audit.CategoryNodeAuthz, audit.CategoryCredentials} {
		if !slices.ContainsFunc(rep.Findings, func(f audit.Finding) bool { return f.Category == cat && f.Severity >= audit.Medium }) {
			t.Errorf("the demo plants no %s finding of medium or higher", cat)
		}
	}
}

// TestMakeDemoAzureReachesTheExplorer runs `make demo-azure`: the demo's
// cluster with a guard-like webhook after RBAC deciding from the demo's
// Azure role assignments (testdata/demo/azure), and the explorer on it
// with the same files. The explorer shows the Azure findings; the CLI's
// answers agree with the API server's own (--verify, through the
// webhook); without the Azure data an Entra user's denial is unknown, not
// denied; and stopping the cluster stops the webhook.
func TestMakeDemoAzureReachesTheExplorer(t *testing.T) {
	x, root, dir, down := startDemo(t, "demo-azure-run", "DEMO_AZURE_DIR")
	s := x.waitFor("Findings (", 5*time.Minute)
	if strings.Contains(s, "not loaded") {
		t.Errorf("the explorer says Azure RBAC is not loaded although the demo gives its files:\n%s", s)
	}
	x.keys("3")
	x.waitFor("azure-cluster-admin", 10*time.Second)
	x.waitFor("aks-local-accounts", 10*time.Second)
	// Who can: grace, a Contributor on the resource group, reaches it
	// through the admin credential (local accounts are on).
	x.keys("2")
	x.text("delete namespaces")
	x.keys("Enter")
	x.waitFor("⇢az   user:grace@contoso.com", 10*time.Second)
	x.keys("q")
	x.waitFor("DEMO-EXITED 0", 10*time.Second)

	bin := filepath.Join(root, "bin/kubectl-access")
	const (
		clusterID = "/subscriptions/8c1d5f2a-3b4e-4f6a-9d7c-2e5b8a1f0c3d/resourceGroups/rg-contoso-aks/providers/Microsoft.ContainerService/managedClusters/aks-contoso"
		frank     = "3d9e7f21-5a6b-4c8d-9e0f-1a2b3c4d5e63" // Azure RBAC Writer in namespace ci, no RBAC
	)
	files := strings.Join([]string{"testdata/demo/azure/assignments.json", "testdata/demo/azure/roles.json", "testdata/demo/azure/denies.json", "testdata/demo/azure/cluster.json",
		"testdata/demo/azure/identities.json", "testdata/demo/azure/federated-credentials.json"}, ",")
	kubectlAccess := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, append([]string{"--kubeconfig", filepath.Join(dir, "kubeconfig")}, args...)...)
		cmd.Dir = root
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	withAzure := []string{"--azure-rbac-from", files, "--azure-cluster-id", clusterID}
	// Azure alone lets frank read secrets in ci, and not in web; the API
	// server (RBAC, then the webhook) agrees both ways.
	for _, c := range []struct {
		ns   string
		code int
	}{{"ci", 0}, {"web", 1}} {
		out, errOut, code := kubectlAccess(append([]string{"can", "user:frank@contoso.com", "--oid", frank, "get", "secrets", "-n", c.ns, "--verify"}, withAzure...)...)
		if code != c.code || strings.Contains(out+errOut, "disagree") {
			t.Errorf("can frank get secrets -n %s --verify: exit %d, want %d\n%s\n%s", c.ns, code, c.code, out, errOut)
		}
		if c.code == 0 && !strings.Contains(out, "Azure Kubernetes Service RBAC Writer") {
			t.Errorf("frank's grant does not name the Azure role:\n%s", out)
		}
	}
	// Without the Azure data the webhook is still found, so frank's denial
	// is unknown.
	if out, errOut, code := kubectlAccess("can", "user:frank@contoso.com", "--oid", frank, "get", "secrets", "-n", "web"); code != 2 || !strings.Contains(errOut, "--azure-rbac") {
		t.Errorf("can without the Azure data: exit %d, want 2 naming --azure-rbac\n%s\n%s", code, out, errOut)
	}
	out, errOut, code := kubectlAccess(append([]string{"who-can", "get", "secrets", "-n", "payments", "-o", "wide", "--group-names", "testdata/demo/group-names.json"}, withAzure...)...)
	if code != 0 || !strings.Contains(out, "Payments Developers") || !strings.Contains(out, "Azure Kubernetes Service RBAC Writer") {
		t.Errorf("who-can get secrets -n payments with the Azure data: exit %d\n%s\n%s", code, out, errOut)
	}
	// The managed cluster's settings beside the assignments: grace, a
	// Contributor on the resource group, fetches the admin credential.
	js, errOut, code := kubectlAccess(append([]string{"who-can", "delete", "namespaces", "-o", "json"}, withAzure...)...)
	if code != 0 || !strings.Contains(js, `"kind": "azure-credential"`) || !strings.Contains(js, "grace@contoso.com") {
		t.Errorf("who-can delete namespaces with the cluster's settings: exit %d\n%s\n%s", code, js, errOut)
	}
	js, errOut, code = kubectlAccess(append([]string{"audit", "-o", "json"}, withAzure...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code != 0 {
		t.Fatalf("audit with the Azure data: exit %d %v\n%s", code, err, errOut)
	}
	// The way out: payments/api's pods act as id-payments-api (Contributor
	// on rg-payments-data), so whoever runs a pod as it in payments does.
	js, errOut, code = kubectlAccess(append([]string{"what-can", "sa:payments:api", "-o", "json"}, withAzure...)...)
	if code != 0 || !strings.Contains(js, `"status": "matched"`) || !strings.Contains(js, "id-payments-api") || !strings.Contains(js, "rg-payments-data") {
		t.Errorf("what-can sa:payments:api on the Azure demo: exit %d\n%s\n%s", code, js, errOut)
	}
	out, errOut, code = kubectlAccess(append([]string{"who-can", "act-as", "id-payments-api", "--group-names", "testdata/demo/group-names.json"}, withAzure...)...)
	if code != 0 || !strings.Contains(out, "Payments Developers") || !strings.Contains(out, "create pods in namespace payments") {
		t.Errorf("who-can act-as id-payments-api on the Azure demo: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, rule := range []string{"azure-cluster-admin", "azure-inherited-assignment", "azure-secrets-read", "azure-wildcard-role", "azure-conditional-assignment", "azure-escalation-path", "workload-identity-reach"} {
		if !slices.ContainsFunc(rep.Findings, func(f audit.Finding) bool { return f.Rule == rule }) {
			t.Errorf("the Azure demo plants no %s finding", rule)
		}
	}
	// The webhook is a process of the cluster's: down stops it too.
	b, err := os.ReadFile(filepath.Join(dir, "guard-webhook.helper"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err := down(); err != nil {
		t.Fatal(err)
	}
	// Gone, or a zombie its new parent has not reaped yet.
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); pid <= 0 || err == nil && !strings.Contains(string(stat), ") Z ") {
		t.Errorf("the webhook (pid %d) outlived cluster-down: %s", pid, stat)
	}
}
