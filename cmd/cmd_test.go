package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
)

func TestMain(m *testing.M) { clustertest.Main(m) }

// run executes the command line in-process and returns stdout, stderr and
// the exit code.
func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runWith(t, nil, args...)
}

// runWith runs the command line with root options set by with.
func runWith(t *testing.T, with func(*RootOptions), args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	r := &RootOptions{IOStreams: streams, Flags: genericclioptions.NewConfigFlags(true)}
	if with != nil {
		with(r)
	}
	root := NewRootCommand(r)
	root.SetArgs(args)
	code := execute(context.Background(), root, streams)
	return out.String(), errOut.String(), code
}

func TestOfflineCommands(t *testing.T) {
	f := "testdata/team.yaml"
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"can allowed", []string{"can", "user:alice", "list", "pods", "-n", "prod", "-f", f}, ExitOK,
			[]string{"yes: user:alice may list pods in namespace prod", "RoleBinding prod/alice-reads-pods -> Role prod/pod-reader"}, nil},
		{"can denied with nearest", []string{"can", "user:alice", "delete", "pods", "x", "-n", "prod", "-f", f}, ExitDenied,
			[]string{"no: user:alice may not delete pods x", "nearest grants:", "pod-reader"}, nil},
		{"service account defaulted to the binding's namespace", []string{"can", "sa:prod:ci", "get", "pods/log", "p", "-n", "prod", "-f", f}, ExitOK, []string{"yes"}, nil},
		{"broad group", []string{"who-can", "get", "secrets", "-n", "prod", "-f", f}, ExitOK,
			[]string{"group:system:authenticated (every authenticated user)", "group:system:masters"}, nil},
		{"cluster-scoped resource without -n is cluster-wide", []string{"can", "user:bob", "list", "nodes", "-f", f}, ExitDenied, []string{"no: user:bob may not list nodes\n"}, nil},
		{"cluster-scoped resource with -n is checked there, as the API server does", []string{"can", "user:bob", "list", "nodes", "-n", "prod", "-f", f}, ExitOK,
			[]string{"yes: user:bob may list nodes in namespace prod", "RoleBinding prod/bob-nodes"}, []string{"resource 'nodes' is not namespace scoped"}},
		{"typo in verb warns", []string{"can", "user:alice", "gett", "pods", "-n", "prod", "-f", f}, ExitDenied, nil, []string{`"gett" is not a standard verb (did you mean "get"?)`}},
		{"unknown resource warns", []string{"who-can", "get", "sercets", "-n", "prod", "-f", f}, ExitOK, nil, []string{`does not serve "sercets"`}},
		{"unknown subject warns", []string{"what-can", "user:alcie", "-f", f}, ExitOK, nil, []string{"no binding names user:alcie (did you mean user:alice?)"}},
		{"unknown resource suggests the served one", []string{"who-can", "get", "secrts", "-n", "prod", "-f", f}, ExitOK, nil, []string{`does not serve "secrts" (did you mean "secrets"?`}},
		{"an upper-case verb is said (kubectl would send it as written, which no rule matches)", []string{"can", "user:alice", "GET", "Pods", "-n", "prod", "-f", f}, ExitOK, []string{"yes"},
			[]string{`"GET" is answered as "get"`}},
		{"several verbs are refused, not taken as one", []string{"can", "user:alice", "get,list", "pods", "-n", "prod", "-f", f}, ExitError, nil,
			[]string{`"get,list" is several verbs`}},
		{"-A on a cluster-scoped resource counts every namespace's RoleBindings, as a namespaced review does", []string{"who-can", "list", "nodes", "-A", "-f", f}, ExitOK,
			[]string{"Who can list nodes in every namespace:", "user:bob", "prod", "RB prod/bob-nodes"}, []string{"-A answers the check in every namespace"}},
		{"missing namespace warns", []string{"who-can", "get", "pods", "-n", "prdo", "-f", f}, ExitOK, nil, []string{`namespace "prdo" does not exist`}},
		{"malformed subject", []string{"what-can", "alice", "-f", f}, ExitError, nil, []string{"write user:NAME, group:NAME or sa:NAMESPACE:NAME"}},
		{"corrupt file names file and line", []string{"who-can", "get", "pods", "-f", "testdata/broken.yaml"}, ExitError, nil, []string{"testdata/broken.yaml:16"}},
		{"missing file", []string{"who-can", "get", "pods", "-f", "testdata/nope.yaml"}, ExitError, nil, []string{"nope.yaml"}},
		{"bad output", []string{"who-can", "get", "pods", "-o", "xml", "-f", f}, ExitError, nil, []string{"unknown output format"}},
		{"wrong arg count", []string{"can", "user:alice", "get"}, ExitError, nil, []string{"accepts between 3 and 4 arg(s)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			for _, s := range tc.stderr {
				if !strings.Contains(errOut, s) {
					t.Errorf("stderr lacks %q:\n%s", s, errOut)
				}
			}
		})
	}
}

func TestJSONDocuments(t *testing.T) {
	f := "testdata/team.yaml"
	for _, tc := range []struct {
		args []string
		kind string
		keys []string
	}{
		{[]string{"who-can", "get", "pods", "-n", "prod", "-f", f, "-o", "json"}, "WhoCan", []string{"query", "subjects", "incomplete", "warnings"}},
		{[]string{"what-can", "user:alice", "-f", f, "-o", "json"}, "WhatCan", []string{"subject", "rules", "incomplete"}},
		{[]string{"can", "user:alice", "get", "pods", "-n", "prod", "-f", f, "-o", "json"}, "Can", []string{"subject", "query", "allowed", "via", "nearest"}},
		{[]string{"snapshot", "-f", f, "-o", "json"}, "Snapshot", []string{"roles", "roleBindings", "clusterRoles"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			out, errOut, _ := run(t, tc.args...)
			var doc map[string]any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("not JSON: %v\n%s%s", err, out, errOut)
			}
			if doc["apiVersion"] != "access.kubectl.io/v1alpha1" || doc["kind"] != tc.kind {
				t.Errorf("apiVersion/kind = %v/%v", doc["apiVersion"], doc["kind"])
			}
			for _, k := range tc.keys {
				if _, ok := doc[k]; !ok {
					t.Errorf("document lacks %q", k)
				}
			}
		})
	}
}

// TestLiveAndSnapshotAgree: a live snapshot read back offline answers every
// query as the live cluster does, including those that read only part of
// the cluster (who-can -n, what-can -n).
func TestLiveAndSnapshotAgree(t *testing.T) {
	c := clustertest.Get(t)
	kc := "--kubeconfig=" + c.Kubeconfig
	snap, errOut, code := run(t, "snapshot", kc)
	if code != 0 {
		t.Fatalf("snapshot: %d %s", code, errOut)
	}
	file := t.TempDir() + "/snap.yaml"
	if err := writeFile(file, snap); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		args []string
		key  string
	}{
		{[]string{"who-can", "list", "secrets", "-n", "kube-system"}, "subjects"},
		{[]string{"who-can", "create", "pods/exec", "-A"}, "subjects"},
		{[]string{"what-can", "sa:kube-system:namespace-controller"}, "rules"},
		{[]string{"what-can", "sa:kube-system:namespace-controller", "-n", "kube-system"}, "rules"},
		{[]string{"can", "sa:kube-system:namespace-controller", "delete", "namespaces", "x"}, "via"},
	} {
		live, errOut, code := run(t, append(q.args, kc, "-o", "json")...)
		if code != 0 {
			t.Fatalf("live %v: %d %s", q.args, code, errOut)
		}
		offline, errOut, code := run(t, append(q.args, "-f", file, "-o", "json")...)
		if code != 0 {
			t.Fatalf("offline %v: %d %s", q.args, code, errOut)
		}
		var a, b map[string]any
		_ = json.Unmarshal([]byte(live), &a)
		_ = json.Unmarshal([]byte(offline), &b)
		ja, _ := json.Marshal(a[q.key])
		jb, _ := json.Marshal(b[q.key])
		if string(ja) != string(jb) || len(ja) < 50 {
			t.Errorf("%v: live and snapshot %s differ:\nlive:    %s\noffline: %s", q.args, q.key, ja, jb)
		}
	}

	// The snapshot keeps the server's discovery, so a resource only this
	// server serves (metrics-server's nodes, cluster-scoped) is resolved
	// offline as live: the same query, no "does not serve" warning; a
	// file without discovery is answered over the built-in catalog, which
	// lacks it, and says so.
	manifests := t.TempDir() + "/rbac.yaml"
	if err := writeFile(manifests, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\nrules: []\n"); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{kc, "-f=" + file, "-f=" + manifests} {
		out, errOut, code := run(t, "who-can", "list", "nodes.metrics.k8s.io", "-A", in, "-o", "json")
		var doc struct {
			Query    map[string]any `json:"query"`
			Warnings []rbac.Warning `json:"warnings"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil || code != ExitOK {
			t.Fatalf("%s: code %d %v\n%s", in, code, err, errOut)
		}
		unserved := slices.ContainsFunc(doc.Warnings, func(w rbac.Warning) bool { return strings.Contains(w.Message, "does not serve") })
		notNamespaced := slices.ContainsFunc(doc.Warnings, func(w rbac.Warning) bool { return strings.Contains(w.Message, "is not namespaced") })
		if in == "-f="+manifests {
			if !unserved || notNamespaced {
				t.Errorf("%s (no discovery): warnings %+v, want the built-in catalog's \"does not serve\"", in, doc.Warnings)
			}
			continue
		}
		if unserved || !notNamespaced || doc.Query["group"] != "metrics.k8s.io" {
			t.Errorf("%s: query %v warnings %+v, want nodes.metrics.k8s.io resolved as the server serves it (cluster-scoped)", in, doc.Query, doc.Warnings)
		}
	}
}

func TestLiveErrors(t *testing.T) {
	clustertest.Require(t)
	_, errOut, code := run(t, "who-can", "get", "pods", "--kubeconfig=/nonexistent/kubeconfig")
	if code != ExitError || !strings.Contains(errOut, "--kubeconfig") {
		t.Errorf("broken kubeconfig: code %d, stderr %q", code, errOut)
	}
	c := clustertest.Get(t)
	empty := t.TempDir() + "/empty"
	if err := writeFile(empty, ""); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, "who-can", "get", "pods", "--kubeconfig="+empty, "--server="+c.Server, "--insecure-skip-tls-verify", "--token=not-a-token")
	if code != ExitError || !strings.Contains(errOut, "credentials") {
		t.Errorf("rejected token: code %d, stderr %q", code, errOut)
	}
	if strings.Contains(errOut, "not-a-token") {
		t.Error("the token was printed")
	}
}

func writeFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }

// TestLiveForbiddenListIsIncomplete: a caller who may read cluster RBAC but
// not RoleBindings gets answers labelled incomplete: who-can still answers
// (exit 0) and can says "unknown" (exit 2), never a bare "no".
func TestLiveForbiddenListIsIncomplete(t *testing.T) {
	c := clustertest.Get(t)
	admin := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	_, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "cmd-partial-reader"},
		Rules:      []rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles", "clusterrolebindings"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "cmd-partial-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cmd-partial-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "cmd-partial"}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	as := []string{"--kubeconfig=" + c.Kubeconfig, "--as=cmd-partial"}
	out, errOut, code := run(t, append([]string{"who-can", "get", "pods", "-n", "default"}, as...)...)
	if code != ExitOK || !strings.Contains(errOut, "INCOMPLETE") || !strings.Contains(errOut, "rolebindings") || !strings.Contains(out, "system:masters") {
		t.Errorf("who-can with a forbidden LIST: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	// --transitive reads the service accounts and pods too: a view
	// without them says so, never "nobody else".
	out, errOut, code = run(t, append([]string{"who-can", "get", "pods", "-n", "default", "--transitive"}, as...)...)
	if code != ExitOK || !strings.Contains(errOut, "INCOMPLETE") || strings.Contains(out, "nobody else") || !strings.Contains(out, "the view is incomplete") {
		t.Errorf("who-can --transitive with forbidden LISTs: code %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	out, errOut, code = run(t, append([]string{"can", "user:nobody", "delete", "pods", "-n", "default"}, as...)...)
	if code != ExitError || !strings.Contains(out, "unknown") || strings.Contains(out, "no:") {
		t.Errorf("can with a forbidden LIST: code %d (want %d)\nstdout %s\nstderr %s", code, ExitError, out, errOut)
	}
}

func TestAuditCommand(t *testing.T) {
	f := "../audit/testdata/fixtures.yaml"
	out, errOut, code := run(t, "audit", "-f", f, "--fail-on", "high")
	if code != ExitFailOn || !strings.Contains(out, "CRITICAL") || !strings.Contains(out, "cluster-admin-equivalent") {
		t.Errorf("--fail-on high: code %d\n%s\n%s", code, out, errOut)
	}
	if _, _, exit := run(t, "audit", "-f", f, "--only", "unused-role", "--fail-on", "high"); exit != ExitOK {
		t.Errorf("--only unused-role --fail-on high: code %d, want 0", exit)
	}
	js, errOut, code := run(t, "audit", "-f", f, "-o", "json")
	if code != ExitOK {
		t.Fatalf("-o json: %d %s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(js), &doc); err != nil || doc["kind"] != "AuditReport" || doc["source"] != f {
		t.Fatalf("-o json: %v %v", err, doc["kind"])
	}
	for _, k := range []string{"summary", "findings", "incomplete", "warnings"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("AuditReport lacks %q", k)
		}
	}
	base := t.TempDir() + "/base.json"
	if err := writeFile(base, js); err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, "audit", "-f", f, "--baseline", base, "--fail-on", "info")
	if code != ExitOK || !strings.Contains(out, "No findings.") {
		t.Errorf("against its own baseline: code %d\n%s", code, out)
	}
	sarif, _, code := run(t, "audit", "-f", f, "-o", "sarif")
	if code != ExitOK || !strings.Contains(sarif, `"version": "2.1.0"`) || !strings.Contains(sarif, `"startLine"`) {
		t.Errorf("-o sarif: code %d\n%.400s", code, sarif)
	}
	// --width 80: every line fits, and nothing is lost (the words of the
	// unwrapped table are all there, in order).
	narrow, _, _ := run(t, "audit", "-f", f, "-f", "../audit/testdata/gmsa.yaml", "--width", "80")
	long, _, _ := run(t, "audit", "-f", f, "-f", "../audit/testdata/gmsa.yaml", "--width", "0")
	for _, line := range strings.Split(narrow, "\n") {
		if len([]rune(line)) > 80 {
			t.Errorf("line of %d columns at --width 80: %q", len([]rune(line)), line)
		}
	}
	if strings.Join(strings.Fields(narrow), " ") != strings.Join(strings.Fields(long), " ") {
		t.Error("wrapping changed the table's words")
	}
	if !slices.ContainsFunc(strings.Split(long, "\n"), func(l string) bool { return len(l) > 80 }) {
		t.Error("--width 0 wrapped the table")
	}
	for _, bad := range [][]string{
		{"audit", "-f", f, "--fail-on", "severe"},
		{"audit", "-f", f, "--only", "secret-read"},
		{"audit", "-f", f, "--baseline", f},
		{"audit", "-f", f, "-o", "xml"},
	} {
		if _, errOut, code := run(t, bad...); code != ExitError || errOut == "" {
			t.Errorf("%v: code %d, stderr %q; want a clear error and exit 2", bad, code, errOut)
		}
	}
}

// TestFixCommand: offline, the fix prints as a document and as kubectl
// commands, and bad use is refused; live, --apply without --yes on a
// non-terminal refuses and changes nothing, with --yes it applies, and the
// finding is gone from the next audit.
func TestFixCommand(t *testing.T) {
	f := "../audit/testdata/fixtures.yaml"
	js, _, _ := run(t, "audit", "-f", f, "-o", "json", "--only", "secrets-read")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool { return strings.Contains(f.Message, "u-secrets") })
	if i < 0 || !rep.Findings[i].Fixable {
		t.Fatalf("no fixable secrets-read finding for u-secrets: %v", rep.Findings)
	}
	id := rep.Findings[i].ID
	out, errOut, code := run(t, "fix", id, "-f", f)
	if code != ExitOK || !strings.Contains(out, "remove user:u-secrets from ClusterRoleBinding audit-secrets") || !strings.Contains(out, "kubectl patch clusterrolebinding") {
		t.Errorf("fix %s: code %d\n%s\n%s", id, code, out, errOut)
	}
	y, _, code := run(t, "fix", id, "-f", f, "-o", "yaml")
	if code != ExitOK || !strings.Contains(y, "kind: Fix") || !strings.Contains(y, "op: test") || !strings.Contains(y, "findingGone: true") {
		t.Errorf("fix -o yaml: code %d\n%s", code, y)
	}
	k, _, _ := run(t, "fix", id, "-f", f, "-o", "kubectl")
	if !strings.HasPrefix(k, "# "+id) || strings.Count(k, "kubectl ") != 1 {
		t.Errorf("fix -o kubectl:\n%s", k)
	}
	for _, bad := range [][]string{
		{"fix", "not-an-id", "-f", f},
		{"fix", "secrets-read-0000000000", "-f", f},
		{"fix", id, "-f", f, "--apply"},
		{"fix", id, "-f", f, "--yes"},
		{"fix", "node-restriction-active-0000000000", "-f", f},
	} {
		if _, stderr, exit := run(t, bad...); exit != ExitError || stderr == "" {
			t.Errorf("%v: code %d, stderr %q; want a clear error", bad, exit, stderr)
		}
	}

	// Live.
	c := clustertest.Get(t)
	ctx := t.Context()
	admin := kubernetes.NewForConfigOrDie(c.Config)
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "cmd-fix-secrets"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "cmd-fix-secrets"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cmd-fix-secrets"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "cmd-fix-a"}, {Kind: "User", APIGroup: rbacv1.GroupName, Name: "cmd-fix-b"}}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kc := "--kubeconfig=" + c.Kubeconfig
	js, _, _ = run(t, "audit", kc, "-o", "json", "--only", "secrets-read")
	rep = audit.Report{}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	i = slices.IndexFunc(rep.Findings, func(f audit.Finding) bool { return strings.Contains(f.Message, "cmd-fix-a") })
	if i < 0 {
		t.Fatal("no live finding for cmd-fix-a")
	}
	id = rep.Findings[i].ID
	if got := completions(t, kc, "fix", id[:len(id)-3]); !slices.Equal(got, []string{id}) {
		t.Errorf("fix <TAB> against the cluster: %v, want %s", got, id)
	}
	if _, stderr, exit := run(t, "fix", id, kc, "--apply"); exit != ExitError || !strings.Contains(stderr, "--yes") {
		t.Errorf("--apply without a terminal or --yes: code %d, %q", exit, stderr)
	}
	if b, _ := admin.RbacV1().ClusterRoleBindings().Get(ctx, "cmd-fix-secrets", metav1.GetOptions{}); len(b.Subjects) != 2 {
		t.Fatalf("unconfirmed --apply changed the binding: %v", b.Subjects)
	}
	restoreDir := t.TempDir()
	_, errOut, code = run(t, "fix", id, kc, "--apply", "--yes", "--restore-dir", restoreDir)
	if code != ExitOK || !strings.Contains(errOut, "Server-side dry run") || !strings.Contains(errOut, "- - apiGroup: rbac.authorization.k8s.io") && !strings.Contains(errOut, "-   name: cmd-fix-a") && !strings.Contains(errOut, "name: cmd-fix-a") || !strings.Contains(errOut, "applied: patch") {
		t.Errorf("--apply --yes: code %d\n%s", code, errOut)
	}
	b, _ := admin.RbacV1().ClusterRoleBindings().Get(ctx, "cmd-fix-secrets", metav1.GetOptions{})
	if len(b.Subjects) != 1 || b.Subjects[0].Name != "cmd-fix-b" {
		t.Errorf("after the fix the binding names %v, want only cmd-fix-b", b.Subjects)
	}
	js, _, _ = run(t, "audit", kc, "-o", "json", "--only", "secrets-read")
	if strings.Contains(js, id) || strings.Contains(js, "cmd-fix-a") {
		t.Error("the finding is still reported after --apply")
	}

	// The previous state was saved (0600), and the one command printed
	// puts it back: run by sh with the real kubectl.
	scripts, _ := filepath.Glob(filepath.Join(restoreDir, "restore-"+id+"-*.sh"))
	if len(scripts) != 1 {
		t.Fatalf("restore scripts: %v\n%s", scripts, errOut)
	}
	if st, err := os.Stat(scripts[0]); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the restore script: %v %v", st, err)
	}
	_, command, ok := strings.Cut(errOut, "To put it back: ")
	command = strings.TrimSpace(command)
	if !ok || !strings.HasPrefix(command, "sh ") || strings.Trim(strings.TrimPrefix(command, "sh "), "'") != scripts[0] {
		t.Fatalf("the restore command %q, want sh %s\n%s", command, scripts[0], errOut)
	}
	bin, err := localcluster.FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	sh := exec.Command("sh", scripts[0])
	sh.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+c.Kubeconfig)
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("sh %s: %v\n%s", scripts[0], err, out)
	}
	b, _ = admin.RbacV1().ClusterRoleBindings().Get(ctx, "cmd-fix-secrets", metav1.GetOptions{})
	if len(b.Subjects) != 2 || b.Subjects[0].Name != "cmd-fix-a" || b.Subjects[1].Name != "cmd-fix-b" {
		t.Errorf("after the restore the binding names %v, want cmd-fix-a and cmd-fix-b", b.Subjects)
	}
	// Run again, its guard finds the binding changed and changes nothing.
	sh = exec.Command("sh", scripts[0])
	sh.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+c.Kubeconfig)
	if out, err := sh.CombinedOutput(); err == nil {
		t.Errorf("the restore ran twice without its guard failing:\n%s", out)
	}
}

// TestGroupNames: --group-names puts a group's name beside its id in the
// tables of who-can and audit.
func TestGroupNames(t *testing.T) {
	f := "../audit/testdata/fixtures.yaml"
	names := filepath.Join(t.TempDir(), "groups.csv")
	if err := writeFile(names, "id,name\nsystem:unauthenticated,Anyone at all\nsystem:serviceaccounts:audit-a,Every audit-a pod\n"); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run(t, "who-can", "get", "configmaps", "-A", "-f", f, "--group-names", names)
	if code != ExitOK || !strings.Contains(out, "group:system:unauthenticated (Anyone at all)") {
		t.Errorf("who-can --group-names: code %d\n%s\n%s", code, out, errOut)
	}
	out, _, _ = run(t, "audit", "-f", f, "--group-names", names, "--width", "0")
	if !strings.Contains(out, "group:system:serviceaccounts:audit-a (Every audit-a pod)") {
		t.Errorf("audit --group-names:\n%s", out)
	}
	if _, errOut, code := run(t, "who-can", "get", "pods", "-f", f, "--group-names", "/nonexistent"); code != ExitError || !strings.Contains(errOut, "--group-names") {
		t.Errorf("a missing names file: code %d, %q", code, errOut)
	}
}

// TestWhoAmI: the admin's identity and how it signed in; a service
// account's token identity, whose token appears in no output, at any
// log level; names beside groups.
func TestWhoAmI(t *testing.T) {
	c := clustertest.Get(t)
	kc := "--kubeconfig=" + c.Kubeconfig
	out, errOut, code := run(t, "whoami", kc)
	if code != ExitOK || !strings.Contains(out, "system:masters") || !strings.Contains(out, "break-glass") {
		t.Errorf("whoami: code %d\n%s\n%s", code, out, errOut)
	}
	names := filepath.Join(t.TempDir(), "names.json")
	if err := writeFile(names, `{"3f0c6c1e-0000-4000-8000-00000000000a": "AKS Admins"}`); err != nil {
		t.Fatal(err)
	}
	js, _, code := run(t, "whoami", kc, "--as=alice@contoso.com", "--as-group=3f0c6c1e-0000-4000-8000-00000000000a", "--group-names", names, "-o", "json")
	var doc struct {
		Kind string
		User struct {
			Username string
			Groups   []struct{ ID, Name string }
		}
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || code != ExitOK || doc.Kind != "WhoAmI" || doc.User.Username != "alice@contoso.com" ||
		!slices.ContainsFunc(doc.User.Groups, func(g struct{ ID, Name string }) bool { return g.Name == "AKS Admins" }) {
		t.Errorf("whoami --as -o json: code %d, %v\n%s", code, err, js)
	}

	admin := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "whoami-sa"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CoreV1().ServiceAccounts("default").CreateToken(ctx, "whoami-sa", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "kubeconfig")
	if err := writeFile(cfg, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: sa, user: {token: %q}}]
contexts: [{name: sa, context: {cluster: c, user: sa}}]
current-context: sa
`, c.Server, tok.Status.Token)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // -v sets klog's global level: put it back for the tests after this one
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		_ = fs.Set("v", "0")
	})
	for _, args := range [][]string{{"whoami"}, {"whoami", "-o", "yaml"}, {"whoami", "-v", "9"}, {"audit", "--only", "token-in-kubeconfig,insecure-tls"}} {
		out, errOut, code := run(t, append(args, "--kubeconfig="+cfg)...)
		if strings.Contains(out+errOut, tok.Status.Token) || strings.Contains(out+errOut, strings.Split(tok.Status.Token, ".")[2]) {
			t.Errorf("%v printed the token", args)
		}
		if args[0] == "whoami" && (code != ExitOK || !strings.Contains(out, "system:serviceaccount:default:whoami-sa")) {
			t.Errorf("%v: code %d\n%s\n%s", args, code, out, errOut)
		}
		if args[0] == "audit" && (!strings.Contains(out, "token-in-kubeconfig") || !strings.Contains(out, "insecure-tls")) {
			t.Errorf("audit of a kubeconfig with a written token and no TLS checks:\n%s\n%s", out, errOut)
		}
	}
}

// TestUnboundSubjectSaysWhatWasRead: live, what-can -n reads the
// ClusterRoleBindings and that namespace's RoleBindings only, so a user
// bound in another namespace is not said to be named by no binding; a
// typo of a bound name gets "did you mean".
func TestUnboundSubjectSaysWhatWasRead(t *testing.T) {
	c := clustertest.Get(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx := t.Context()
	for _, ns := range []string{"unbound-web", "unbound-pay"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.RbacV1().RoleBindings("unbound-web").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-web-admin"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "unbound-alice@contoso.com"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kc := "--kubeconfig=" + c.Kubeconfig
	_, errOut, _ := run(t, "what-can", "user:unbound-alice@contoso.com", "-n", "unbound-pay", kc)
	if strings.Contains(errOut, "no binding names") || !strings.Contains(errOut, "no ClusterRoleBinding, and no RoleBinding in namespace unbound-pay, names user:unbound-alice@contoso.com") {
		t.Errorf("what-can -n for a user bound elsewhere:\n%s", errOut)
	}
	_, errOut, _ = run(t, "what-can", "user:unbound-alice@contso.com", kc)
	if !strings.Contains(errOut, "did you mean user:unbound-alice@contoso.com?") {
		t.Errorf("what-can for a typo of a bound user:\n%s", errOut)
	}
}
