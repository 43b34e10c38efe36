package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// TestFleetLive: three real clusters side by side, as one kubeconfig's
// contexts: prod-a read whole (its admin signs in through an exec plugin
// that prompts, as kubelogin's device code does), prod-b read by an
// identity that may list cluster RBAC but not RoleBindings (incomplete),
// prod-c stopped (not read), and dev-x (prod-a again) outside the glob.
// The fleet's summary, documents, SARIF and gate; who-can and can per
// cluster; snapshot --contexts into a directory that audit -f reads back
// as the same fleet.
func TestFleetLive(t *testing.T) {
	clustertest.Require(t)
	ctx := t.Context()
	opts := localcluster.Options{NoControllerManager: true, NoMetricsServer: true}
	a, b, c := clustertest.Start(t, opts), clustertest.Start(t, opts), clustertest.Start(t, opts)
	c.Stop()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	user := func(kind, n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: kind, APIGroup: rbacv1.GroupName, Name: n}
	}
	for _, cl := range []*localcluster.Cluster{a, b} {
		cs := kubernetes.NewForConfigOrDie(cl.Config)
		must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "fleet-admins"},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}, Subjects: []rbacv1.Subject{user("Group", "fleet-admins")}}, metav1.CreateOptions{}))
		must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "payments"}}, metav1.CreateOptions{}))
	}
	ca := kubernetes.NewForConfigOrDie(a.Config)
	must(ca.RbacV1().Roles("payments").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secrets"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}}, metav1.CreateOptions{}))
	must(ca.RbacV1().RoleBindings("payments").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "secrets"}, Subjects: []rbacv1.Subject{user("User", "alice")}}, metav1.CreateOptions{}))
	cb := kubernetes.NewForConfigOrDie(b.Config)
	must(cb.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "fleet-partial"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles", "clusterrolebindings"}}}}, metav1.CreateOptions{}))
	must(cb.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "fleet-partial"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "fleet-partial"}, Subjects: []rbacv1.Subject{user("User", "fleet-partial")}}, metav1.CreateOptions{}))

	// One kubeconfig: prod-a and dev-x sign in through an exec plugin that
	// prompts on stderr and logs when it starts and ends; prod-b is an
	// identity with a partial view; prod-c's server is down.
	dir := t.TempDir()
	signInLog := filepath.Join(dir, "signins.log")
	kc := clientcmdapi.NewConfig()
	for name, cl := range map[string]*localcluster.Cluster{"prod-a": a, "prod-b": b, "prod-c": c, "dev-x": a} {
		kc.Clusters[name] = &clientcmdapi.Cluster{Server: cl.Server, CertificateAuthorityData: cl.Config.CAData}
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: cl.Config.CertData, ClientKeyData: cl.Config.KeyData}
	}
	kc.AuthInfos["prod-b"].Impersonate = "fleet-partial"
	cred, err := json.Marshal(map[string]any{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
		"status": map[string]string{"clientCertificateData": string(a.Config.CertData), "clientKeyData": string(a.Config.KeyData)}})
	if err != nil {
		t.Fatal(err)
	}
	credFile := filepath.Join(dir, "cred.json")
	if err := os.WriteFile(credFile, cred, 0o600); err != nil {
		t.Fatal(err)
	}
	plugin := filepath.Join(dir, "signin")
	script := fmt.Sprintf("#!/bin/sh\necho \"start $FLEET_CONTEXT\" >> %q\necho \"To sign in to $FLEET_CONTEXT, use the code FLEET-1234\" >&2\nsleep 0.2\necho \"end $FLEET_CONTEXT\" >> %q\ncat %q\n", signInLog, signInLog, credFile)
	if err := os.WriteFile(plugin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"prod-a", "dev-x"} {
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: plugin,
			Env: []clientcmdapi.ExecEnvVar{{Name: "FLEET_CONTEXT", Value: name}}, InteractiveMode: clientcmdapi.IfAvailableExecInteractiveMode}}
	}
	// broken-e's sign-in fails: its plugin exits 1.
	kc.Clusters["broken-e"] = &clientcmdapi.Cluster{Server: a.Server, CertificateAuthorityData: a.Config.CAData}
	kc.Contexts["broken-e"] = &clientcmdapi.Context{Cluster: "broken-e", AuthInfo: "broken-e"}
	kc.AuthInfos["broken-e"] = &clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: "false",
		InteractiveMode: clientcmdapi.NeverExecInteractiveMode}}
	kc.CurrentContext = "prod-a"
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}
	kcf := "--kubeconfig=" + kubeconfig

	// The audit: one row per cluster with its status, exit 4 for the
	// cluster not read; sign-ins one at a time, each prompt shown.
	out, errOut, code := run(t, "audit", "--contexts", "prod-*", kcf)
	if code != ExitIncomplete {
		t.Errorf("audit --contexts prod-*: code %d, want %d\n%s\n%s", code, ExitIncomplete, out, errOut)
	}
	for _, want := range []string{"prod-a", "prod-b", "prod-c", "incomplete", "prod-c: error:", "connection refused",
		"Fleet: 3 clusters (1 read whole, 1 in part, 1 not read)", "group:fleet-admins can do everything cluster-wide"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit table lacks %q\n%s", want, out)
		}
	}
	if strings.Contains(out, "dev-x") || !strings.Contains(errOut, "To sign in to prod-a, use the code FLEET-1234") || !strings.Contains(errOut, "[prod-b] INCOMPLETE") {
		t.Errorf("audit stderr:\n%s", errOut)
	}

	js, errOut, code := run(t, "audit", "--context", "prod-a", "--context", "prod-b", "--context", "prod-c", "--context", "dev-x", kcf, "-o", "json", "--group-by", "finding", "--parallel", "2")
	rep := fleetReport(t, js)
	var statuses []string
	for _, cl := range rep.Clusters {
		statuses = append(statuses, cl.Context+"="+cl.Status)
	}
	if code != ExitIncomplete || fmt.Sprint(statuses) != "[prod-a=ok prod-b=incomplete prod-c=error dev-x=ok]" || rep.Clusters[2].Error == "" ||
		rep.Clusters[0].Report.Cluster == nil || rep.Clusters[0].Report.Cluster.Server != a.Server {
		t.Errorf("-o json: code %d, %v\n%s", code, statuses, errOut)
	}
	found := false
	for _, g := range rep.Groups {
		if g.Rule == "cluster-admin-equivalent" && len(g.Subjects) == 1 && g.Subjects[0].Name == "fleet-admins" {
			found = slices.Equal(g.Clusters, []string{"prod-a", "prod-b", "dev-x"})
			if !found {
				t.Errorf("fleet-admins' cluster-admin is on %v", g.Clusters)
			}
		}
	}
	if !found {
		t.Errorf("no group for fleet-admins' cluster-admin: %+v", rep.Groups)
	}
	// The sign-ins ran one at a time: every start is followed by its end.
	log, err := os.ReadFile(signInLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(strings.ReplaceAll(string(log), "\n", " "))
	for i := 0; i+3 < len(lines); i += 4 {
		if lines[i] != "start" || lines[i+2] != "end" || lines[i+1] != lines[i+3] {
			t.Errorf("sign-ins overlapped:\n%s", log)
			break
		}
	}

	// A context that cannot sign in is a row with its server and why.
	js, _, code = run(t, "audit", "--context", "prod-a", "--context", "broken-e", kcf, "-o", "json", "--only", "anonymous-access")
	rep = fleetReport(t, js)
	if b := rep.Clusters[1]; code != ExitIncomplete || b.Status != audit.StatusError || b.Server != a.Server || b.Error == "" || rep.Clusters[0].Status != audit.StatusOK {
		t.Errorf("a failed sign-in: code %d %+v", code, rep.Clusters)
	}

	// The gate: --fail-on reaches on any cluster (3); incomplete fails
	// (4) unless --allow-incomplete.
	if _, _, exit := run(t, "audit", "--contexts", "prod-*", kcf, "--fail-on", "critical"); exit != ExitFailOn {
		t.Errorf("--fail-on critical: code %d", exit)
	}
	if _, _, exit := run(t, "audit", "--contexts", "prod-[ab]", kcf, "--fail-on", "critical", "--only", "anonymous-access"); exit != ExitIncomplete {
		t.Errorf("--fail-on with prod-b incomplete: code %d", exit)
	}
	if _, _, exit := run(t, "audit", "--contexts", "prod-*", kcf, "--fail-on", "critical", "--only", "anonymous-access", "--allow-incomplete"); exit != ExitOK {
		t.Errorf("--allow-incomplete: code %d", exit)
	}
	if _, stderr, exit := run(t, "audit", "--contexts", "staging-*", kcf); exit != ExitError || !strings.Contains(stderr, `matches no context`) {
		t.Errorf("a glob matching nothing: code %d %s", exit, stderr)
	}

	sarif, _, _ := run(t, "audit", "--contexts", "prod-*", kcf, "-o", "sarif")
	var slog struct {
		Runs []struct {
			Properties  map[string]string
			Invocations []struct{ ExecutionSuccessful bool } `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(sarif), &slog); err != nil || len(slog.Runs) != 3 || slog.Runs[2].Properties["cluster"] != "prod-c" ||
		!slog.Runs[0].Invocations[0].ExecutionSuccessful || slog.Runs[1].Invocations[0].ExecutionSuccessful || slog.Runs[2].Invocations[0].ExecutionSuccessful {
		t.Errorf("-o sarif: %v %+v", err, slog)
	}

	// who-can and can, per cluster.
	js, _, code = run(t, "who-can", "get", "secrets", "-n", "payments", "--contexts", "prod-*", kcf, "-o", "json")
	docs := documents[access.WhoCanAnswer](t, js)
	if code != ExitIncomplete || len(docs) != 3 || docs[1].Cluster.Context != "prod-b" || !docs[1].Incomplete || docs[2].Cluster.Error == "" ||
		!slices.ContainsFunc(docs[0].Subjects, func(s rbac.SubjectGrant) bool { return s.Name == "alice" }) {
		t.Errorf("who-can per cluster: code %d\n%s", code, js)
	}
	out, _, code = run(t, "can", "user:alice", "get", "secrets", "-n", "payments", "--contexts", "prod-*", kcf)
	if code != ExitError || !strings.Contains(out, "allowed on 1 (prod-a)") || !strings.Contains(out, "unknown on 2 (prod-b, prod-c)") {
		t.Errorf("can per cluster: code %d\n%s", code, out)
	}

	// snapshot --contexts: a file per cluster (owner-only) and the index,
	// the stopped cluster listed with its error; audit -f reads it back as
	// the same fleet with the same findings.
	snaps := filepath.Join(dir, "fleet")
	_, errOut, code = run(t, "snapshot", "--contexts", "prod-*", kcf, "--dir", snaps)
	if code != ExitIncomplete || !strings.Contains(errOut, "Wrote 2 of 3 clusters' snapshots") {
		t.Errorf("snapshot --contexts: code %d\n%s", code, errOut)
	}
	fx, err := source.ReadFleet([]string{snaps})
	if err != nil || fx == nil || len(fx.Index.Clusters) != 3 || fx.Index.Clusters[2].Error == "" || !fx.Index.Clusters[1].Incomplete {
		t.Fatalf("the fleet directory: %+v %v", fx, err)
	}
	for _, e := range fx.Index.Clusters[:2] {
		if st, err := os.Stat(fx.Path(e)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", e.File, st.Mode(), err)
		}
	}
	live := fleetReport(t, mustRun(t, "audit", "--contexts", "prod-*", kcf, "-o", "json"))
	saved := fleetReport(t, mustRun(t, "audit", "-f", snaps, "-o", "json"))
	for i := range live.Clusters {
		l, s := live.Clusters[i], saved.Clusters[i]
		if l.Context != s.Context || l.Status != s.Status || l.Server != s.Server {
			t.Errorf("cluster %d: live %s %s %s, saved %s %s %s", i, l.Context, l.Status, l.Server, s.Context, s.Status, s.Server)
		}
		if l.Report != nil && s.Report != nil && !slices.Equal(ids(l.Report), ids(s.Report)) {
			t.Errorf("%s: live findings %v, saved %v", l.Context, ids(l.Report), ids(s.Report))
		}
	}
	// Written again into the same directory: refused, then allowed with
	// --overwrite (it is a fleet's).
	if _, errOut, code := run(t, "snapshot", "--context", "prod-a", "--context", "dev-x", kcf, "--dir", snaps); code != ExitError || !strings.Contains(errOut, "--overwrite") {
		t.Errorf("snapshot again into the fleet directory without --overwrite: code %d %s", code, errOut)
	}
	if _, errOut, code := run(t, "snapshot", "--context", "prod-a", "--context", "dev-x", kcf, "--dir", snaps, "--overwrite"); code != ExitOK {
		t.Errorf("snapshot again into the fleet directory: code %d %s", code, errOut)
	}
}

// ids are a report's finding ids but the credentials rules', which check
// the kubeconfig's credential (a live audit's), not the cluster.
func ids(r *audit.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Category == audit.CategoryCredentials {
			continue
		}
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

// mustRun is run's stdout, whatever the exit code.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, _, _ := run(t, args...)
	return out
}
