package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/unicode"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

// The numbered failures of issue 14, each a test that fails on the main
// before it.

// Item 3: an incomplete view fails the gate (exit 4) unless
// --allow-incomplete, says so in JSON and SARIF; empty input is an error.
func TestIncompleteViewFailsTheGate(t *testing.T) {
	c := clustertest.Get(t)
	as := []string{"--kubeconfig=" + c.Kubeconfig, "--as=may-list-nothing"}
	out, errOut, code := run(t, append([]string{"audit", "--only", "secrets-read,cluster-admin-equivalent", "--fail-on", "high"}, as...)...)
	if code != ExitIncomplete || !strings.Contains(errOut, "incomplete") {
		t.Errorf("--fail-on on a view that read nothing: exit %d, want %d\n%s\n%s", code, ExitIncomplete, out, errOut)
	}
	// Bindings it could not read are no evidence that none names a subject.
	if _, errOut, _ := run(t, append([]string{"what-can", "user:nobody-bound"}, as...)...); strings.Contains(errOut, "no binding names") || !strings.Contains(errOut, "INCOMPLETE") {
		t.Errorf("what-can on a view without bindings:\n%s", errOut)
	}
	if _, _, code := run(t, append([]string{"audit", "--only", "secrets-read", "--fail-on", "high", "--allow-incomplete"}, as...)...); code != ExitOK {
		t.Errorf("--allow-incomplete: exit %d, want 0", code)
	}
	js, _, _ := run(t, append([]string{"audit", "-o", "json"}, as...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || !rep.Incomplete || len(rep.Gaps) == 0 {
		t.Errorf("-o json: incomplete %v, gaps %v (%v)", rep.Incomplete, rep.Gaps, err)
	}
	sarif, _, _ := run(t, append([]string{"audit", "-o", "sarif"}, as...)...)
	var log struct {
		Runs []struct {
			Invocations []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Message struct{ Text string } `json:"message"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(sarif), &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Invocations) != 1 ||
		log.Runs[0].Invocations[0].ExecutionSuccessful || len(log.Runs[0].Invocations[0].ToolExecutionNotifications) == 0 {
		t.Errorf("SARIF of an incomplete view: %+v (%v)", log, err)
	}

	empty := t.TempDir()
	zero := filepath.Join(empty, "zero.yaml")
	if err := os.WriteFile(zero, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"audit", "-f", t.TempDir(), "--fail-on", "info"},
		{"audit", "-f", zero, "--fail-on", "info"},
		{"audit", "-f", "-", "--fail-on", "info"},
	} {
		if out, errOut, code := run(t, args...); code != ExitError || !strings.Contains(errOut, "no Kubernetes objects") || strings.Contains(out, "No findings") {
			t.Errorf("%v: exit %d, want 2 and no clean report\n%s%s", args, code, out, errOut)
		}
	}
}

// Item 5: offline input is read whole or refused, as kubectl reads it.
func TestOfflineInputReadWholeOrRefused(t *testing.T) {
	dir := t.TempDir()
	y, err := os.ReadFile("testdata/team.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The same objects as a JSON stream and as UTF-16 with a BOM.
	var stream strings.Builder
	for _, doc := range strings.Split(string(y), "\n---\n") {
		j, convErr := yaml.YAMLToJSON([]byte(doc))
		if convErr != nil {
			t.Fatal(convErr)
		}
		stream.Write(j)
		stream.WriteString("\n")
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jsonStream := write("stream.json", []byte(stream.String()))
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(y)
	if err != nil {
		t.Fatal(err)
	}
	utf16File := write("utf16.yaml", utf16)
	want, _, _ := run(t, "who-can", "get", "secrets", "-n", "prod", "-f", "testdata/team.yaml", "-o", "json")
	for _, f := range []string{jsonStream, utf16File} {
		got, errOut, code := run(t, "who-can", "get", "secrets", "-n", "prod", "-f", f, "-o", "json")
		if code != ExitOK || got != want {
			t.Errorf("%s reads otherwise than the YAML (exit %d)\n%s\n%s", f, code, got, errOut)
		}
	}
	_, _, yamlCode := run(t, "audit", "-f", "testdata/team.yaml", "--fail-on", "high")
	if _, _, code := run(t, "audit", "-f", jsonStream, "--fail-on", "high"); code != yamlCode || code != ExitFailOn {
		t.Errorf("audit of the JSON stream exits %d, of the YAML %d", code, yamlCode)
	}
	for name, content := range map[string]string{
		"garbage.json":   stream.String() + "\nnot json at all\n",
		"truncated.json": stream.String()[:len(stream.String())/2],
		"bad.yaml":       "apiVersion: v1\nkind: Namespace\nmetadata: {name: x\n",
	} {
		p := write(name, []byte(content))
		if _, errOut, code := run(t, "who-can", "get", "pods", "-f", p); code != ExitError || !strings.Contains(errOut, p+":") {
			t.Errorf("%s: exit %d, want 2 with file:line\n%s", name, code, errOut)
		}
	}
	// A binding to a role the input lacks: Kubernetes' default of that
	// name (the demo binds its admin group to cluster-admin)...
	if out, errOut, code := run(t, "can", "group:6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01", "get", "secrets", "-n", "payments", "-f", "../testdata/demo/cluster.yaml"); code != ExitOK ||
		!strings.Contains(out, "ClusterRole cluster-admin") || !strings.Contains(errOut, "default policy") {
		t.Errorf("a binding to cluster-admin, which the input does not hold: exit %d\n%s%s", code, out, errOut)
	}
	// ...or, for any other, a gap: unknown, not "no".
	gap := write("gap.yaml", []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: to-elsewhere, namespace: prod}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: installed-by-helm}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}]
`))
	if out, _, code := run(t, "can", "user:carol", "get", "secrets", "-n", "prod", "-f", gap); code != ExitError || !strings.Contains(out, "unknown") {
		t.Errorf("a binding to a role the input lacks: exit %d, want 2 (unknown)\n%s", code, out)
	}
	if _, _, code := run(t, "can", "user:dave", "get", "secrets", "-n", "prod", "-f", gap); code != ExitDenied {
		t.Errorf("someone the binding does not name: exit %d, want 1 (no)", code)
	}
}

// Items 13 and 15: duplicates count once, -n places objects, devices,
// FIFOs and oversized input are refused.
func TestOfflineDuplicatesNamespacesAndSize(t *testing.T) {
	dir := t.TempDir()
	snap, _, code := run(t, "snapshot", "-f", "testdata/team.yaml")
	if code != ExitOK {
		t.Fatal("snapshot")
	}
	snapFile := filepath.Join(dir, "snap.yaml")
	if err := os.WriteFile(snapFile, []byte(snap), 0o600); err != nil {
		t.Fatal(err)
	}
	once, _, _ := run(t, "who-can", "get", "pods", "-n", "prod", "-f", "testdata/team.yaml")
	twice, errOut, _ := run(t, "who-can", "get", "pods", "-n", "prod", "-f", "testdata/team.yaml", "-f", snapFile)
	if once != twice || !strings.Contains(errOut, "given twice, identically") {
		t.Errorf("the same objects twice:\n%s\nvs\n%s\n%s", once, twice, errOut)
	}
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-reads-secrets}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: only-zed}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, _ := run(t, "who-can", "get", "secrets", "-n", "prod", "-f", "testdata/team.yaml", "-f", other)
	if strings.Contains(out, "system:authenticated") || !strings.Contains(out, "only-zed") || !strings.Contains(errOut, "testdata/team.yaml:") || !strings.Contains(errOut, "the last one counts") {
		t.Errorf("two bindings of one name: the last must count, with both places named\n%s\n%s", out, errOut)
	}
	bare := filepath.Join(dir, "bare.yaml")
	if err := os.WriteFile(bare, []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: app}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, code := run(t, "can", "sa:argocd:app", "get", "pods", "-n", "argocd", "-f", bare, "-n", "argocd"); code != ExitOK || !strings.Contains(out, "RoleBinding argocd/app") {
		t.Errorf("-n argocd places a namespace-less binding there: exit %d\n%s", code, out)
	}
	// Devices, FIFOs and input over the cap are refused by name.
	fifoDir := t.TempDir()
	fifo := filepath.Join(fifoDir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", 300_000)), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"`+strings.Repeat("x", 17<<20)+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-f", "/dev/zero"}, "a device"},
		{[]string{"-f", fifoDir}, "a FIFO"},
		{[]string{"-f", big, "--max-input-size", "1"}, "limit of 1 MiB"},
		{[]string{"-f", huge}, "no Kubernetes object is that large"},
	} {
		start := time.Now()
		_, errOut, code := run(t, append([]string{"audit"}, tc.args...)...)
		if code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want 2 saying %q\n%s", tc.args, code, tc.want, errOut)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%v took %s to refuse", tc.args, d)
		}
	}
}

// Item 8: a hanging exec credential plugin is stopped at --timeout, and
// Ctrl-C ends a read of -f - that would never end.
func TestHangsAreBounded(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "hang.sh")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\nsleep 600\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: %q, interactiveMode: Never}}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, plugin)), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := filepath.Abs("../bin/kubectl-access")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s: build it first (make test does)", bin)
	}
	for _, args := range [][]string{
		{"who-can", "get", "pods", "--kubeconfig", kc, "--timeout", "3s"},
		{"who-can", "get", "pods", "--kubeconfig", kc, "--request-timeout", "3s"},
		{"whoami", "--kubeconfig", kc, "--timeout", "3s"},
	} {
		start := time.Now()
		out, runErr := exec.Command(bin, args...).CombinedOutput()
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%v ran %s: the plugin was not stopped", args, d)
		}
		if !strings.Contains(string(out), "did not answer within 3s") {
			t.Errorf("%v: %v\n%s", args, runErr, out)
		}
	}
	// Ctrl-C while -f - waits on a pipe that never closes.
	cmd := exec.Command(bin, "who-can", "get", "pods", "-f", "-")
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close() }() // the pipe is never written: only its end matters
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted {
			t.Errorf("Ctrl-C while reading stdin: exit %d (%v), want %d", code, err, ExitInterrupted)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Error("Ctrl-C did not end a read of -f -")
	}
}

// Item 9: a legacy azure auth-provider kubeconfig fails with the
// inspection's advice, not client-go's bare message.
func TestLegacyAzureAuthProvider(t *testing.T) {
	_, errOut, code := run(t, "who-can", "get", "pods", "--kubeconfig", "../auth/testdata/legacy-azure.yaml")
	if code != ExitError || !strings.Contains(errOut, "kubelogin convert-kubeconfig") || strings.Contains(errOut, "no Auth Provider found") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// Item 10: a finding whose severity rose since the baseline is reported.
func TestBaselineSeesSeverityRise(t *testing.T) {
	f := "../audit/testdata/fixtures.yaml"
	js, _, _ := run(t, "audit", "-f", f, "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool { return f.Severity == audit.Critical })
	rose := rep.Findings[i]
	rep.Findings[i].Severity = audit.Info // as it was before it rose
	b, _ := json.Marshal(rep)
	base := filepath.Join(t.TempDir(), "base.json")
	if err := os.WriteFile(base, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := run(t, "audit", "-f", f, "--baseline", base, "--fail-on", "critical", "--width", "0")
	if code != ExitFailOn || !strings.Contains(out, rose.Message) || !strings.Contains(out, "1 new or more severe") {
		t.Errorf("a finding that rose from info to critical: exit %d\n%s", code, out)
	}
}

// Item 11: fixes guard against lockout, narrow escalate/bind/impersonate
// before removing a subject, and --keep takes only verbs.
func TestFixesGuardAgainstLockout(t *testing.T) {
	demo := "../testdata/demo/cluster.yaml"
	js, _, _ := run(t, "audit", "-f", demo, "-o", "json")
	// The demo plants a binding to a Role it does not hold: read as a file
	// the view is incomplete, which fix refuses unless told.
	if _, errOut, code := run(t, "fix", "wildcard-grant-0000000000", "-f", demo); code != ExitError || !strings.Contains(errOut, "--allow-incomplete") {
		t.Errorf("fix on an incomplete view: exit %d\n%s", code, errOut)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	find := func(rule, text string) string {
		i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool { return f.Rule == rule && strings.Contains(f.Message, text) })
		if i < 0 {
			t.Fatalf("no %s finding about %s", rule, text)
		}
		return rep.Findings[i].ID
	}
	admins := find("cluster-admin-equivalent", "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01")
	if _, errOut, code := run(t, "fix", admins, "-f", demo, "--allow-incomplete"); code != ExitError || !strings.Contains(errOut, "lock every person out") || !strings.Contains(errOut, "would be left") {
		t.Errorf("removing the only Entra admin group: exit %d\n%s", code, errOut)
	}
	if out, _, code := run(t, "fix", admins, "-f", demo, "--allow-lockout", "--allow-incomplete"); code != ExitOK || !strings.Contains(out, "WARNING (--allow-lockout)") {
		t.Errorf("--allow-lockout: exit %d\n%s", code, out)
	}
	esc := find("escalate-or-bind", "alice@contoso.com")
	out, errOut, code := run(t, "fix", esc, "-f", demo, "-o", "yaml", "--allow-incomplete")
	if code != ExitOK || !strings.Contains(out, "narrow Role web/web-admin") || strings.Contains(out, "action: delete") {
		t.Errorf("escalate for alice: the rule is to be narrowed, not alice removed: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, _ := run(t, "can", "user:alice@contoso.com", "get", "pods", "-n", "web", "-f", demo); !strings.HasPrefix(out, "yes") {
		t.Error("alice should still get pods in web")
	}
	if _, errOut, code := run(t, "fix", find("wildcard-grant", "alice"), "-f", demo, "--keep", "bogusverb", "--allow-incomplete"); code != ExitError || !strings.Contains(errOut, "bogusverb") {
		t.Errorf("--keep bogusverb: exit %d\n%s", code, errOut)
	}
}
