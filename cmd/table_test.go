package cmd

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

const demo = "../testdata/demo/cluster.yaml"

// TestTablesIntoPipes: into a pipe (the test's buffer is not a terminal)
// no cell is cut, so grep finds every verb; --width still fits the table.
func TestTablesIntoPipes(t *testing.T) {
	whole, errOut, code := run(t, "what-can", "sa:ci:deployer", "-f", demo)
	if code != ExitOK {
		t.Fatalf("what-can: %d %s", code, errOut)
	}
	if strings.Contains(whole, "…") || !strings.Contains(whole, "get,list,create,update,patch,delete") || !strings.Contains(whole, "pods,deployments.apps,services,configmaps") {
		t.Errorf("what-can into a pipe cut cells:\n%s", whole)
	}
	// The rule names groups "" and apps over all four: only the pairings
	// the server serves are written, not pods.apps or deployments.
	if strings.Contains(whole, "pods.apps") || strings.Contains(whole, "configmaps.apps") {
		t.Errorf("what-can writes resources no server serves:\n%s", whole)
	}
	// --width fits the table by meaning: the verbs and resources (the
	// answer) stay whole, wrapped at their commas, and only VIA (the
	// explanation) is shortened; at 160 columns the demo's edit rules fit.
	for _, w := range []string{"80", "160"} {
		fitted, _, _ := run(t, "what-can", "user:alice@contoso.com", "--group", "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02", "-f", demo, "--width", w)
		var verbs, res []string
		for _, l := range strings.Split(strings.TrimSpace(fitted), "\n") {
			if n := len([]rune(l)); n > map[string]int{"80": 80, "160": 160}[w] {
				t.Errorf("--width %s: a line of %d columns: %q", w, n, l)
			}
			f := strings.Fields(l)
			if len(f) >= 3 && !strings.HasPrefix(l, " ") {
				verbs, res = append(verbs, f[1]), append(res, f[2])
			} else if len(f) >= 1 && strings.HasPrefix(l, " ") {
				res = append(res, f[len(f)-1])
			}
		}
		all := strings.Join(res, "")
		for _, r := range []string{"replicationcontrollers/scale", "deployments.extensions/rollback", "persistentvolumeclaims", "services/proxy", "statefulsets.apps/scale"} {
			if !strings.Contains(all, r) {
				t.Errorf("--width %s: resource %s is not whole:\n%s", w, r, fitted)
			}
		}
		// At 160 nothing of the answer is cut; at 80 --width wins over
		// the one resource name longer than what is left (43 columns).
		if strings.Contains(strings.Join(verbs, ""), "…") || w == "160" && strings.Contains(all, "…") {
			t.Errorf("--width %s cut a verb or a resource:\n%s", w, fitted)
		}
	}
	if _, errOut, code := run(t, "can", "sa:ci:deployer", "get", "pods", "-A", "-f", demo); code != ExitError || !strings.Contains(errOut, "-A") {
		t.Errorf("can -A: code %d, %q; want it refused", code, errOut)
	}
}

// TestAuditTableIDs: the default table heads each finding with the id fix
// takes, marks the fixable ones, counts those on Kubernetes' default
// policy (their count equals the report's) and lists them only with --all.
func TestAuditTableIDs(t *testing.T) {
	f := demo + ",testdata/platform.yaml"
	js, _, _ := run(t, "audit", "-f", f, "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	managed, fixable := 0, 0
	for _, x := range rep.Findings {
		if x.Default {
			managed++
		} else if x.Fixable {
			fixable++
		}
	}
	if managed == 0 || fixable == 0 {
		t.Fatalf("the fixture should have default-policy (%d) and fixable (%d) findings", managed, fixable)
	}
	table, _, _ := run(t, "audit", "-f", f, "--width", "0")
	all, _, _ := run(t, "audit", "-f", f, "--width", "0", "--all")
	wide, _, _ := run(t, "audit", "-f", f, "--width", "0", "-o", "wide")
	for _, x := range rep.Findings {
		head := "  " + x.ID + ": " + x.Message
		if x.Default {
			if strings.Contains(table, x.ID) || strings.Contains(wide, x.ID) {
				t.Errorf("default-policy finding %s listed without --all", x.ID)
			}
			if !strings.Contains(all, head) || !strings.Contains(all, "(Kubernetes' default policy)") {
				t.Errorf("--all lacks default-policy finding %s", x.ID)
			}
			continue
		}
		if x.Fixable {
			head += " [fix]"
		}
		if x.Managed {
			head += " (platform-managed)"
		}
		if !strings.Contains(table, head+"\n") {
			t.Errorf("the table lacks the line %q", head)
		}
	}
	if want := regexp.MustCompile(`\((\d+) on Kubernetes' default policy, unchanged, not listed: --all lists them\)`).FindStringSubmatch(table); want == nil || want[1] != itoa(managed) {
		t.Errorf("the count line says %v, want %d managed:\n%s", want, managed, table)
	}
	if !strings.Contains(table, itoa(fixable)+" marked [fix] have a fix: kubectl access fix ID") {
		t.Errorf("the table does not say how to fix the %d fixable findings", fixable)
	}
}

// TestPlatformLabelsHideNothing: a platform's label says who reconciles a
// binding, never that it matters less, and anyone can write one: the AKS
// admin groups' cluster-admin and a pull request's binding of
// system:unauthenticated that claims to be AKS's are critical and listed
// in every format; only Kubernetes' own binding, exactly as pinned, is
// counted instead of listed.
func TestPlatformLabelsHideNothing(t *testing.T) {
	const f = "testdata/platform.yaml"
	out, errOut, code := run(t, "audit", "-f", f, "--fail-on", "high", "--width", "0")
	if code != ExitFailOn {
		t.Errorf("audit --fail-on high: exit %d, want %d\n%s\n%s", code, ExitFailOn, out, errOut)
	}
	for _, want := range []string{"CRITICAL\n", "group:6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4eaa can do everything cluster-wide", "(platform-managed)",
		"group:system:unauthenticated", "on Kubernetes' default policy, unchanged, not listed: --all lists them"} {
		if !strings.Contains(out, want) {
			t.Errorf("the audit table lacks %q:\n%s", want, out)
		}
	}
	js, _, _ := run(t, "audit", "-f", f, "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	for _, x := range rep.Findings {
		aks := slices.ContainsFunc(x.Objects, func(o rbac.ObjectRef) bool { return o.Name == "aks-cluster-admin-binding-aad" })
		if aks && x.Rule == "cluster-admin-equivalent" && (x.Severity != audit.Critical || !x.Managed || x.Default) {
			t.Errorf("the AKS admin groups' finding: severity %s, managed %v, default %v; want critical, managed, listed", x.Severity, x.Managed, x.Default)
		}
		pr := slices.ContainsFunc(x.Objects, func(o rbac.ObjectRef) bool { return o.Name == "pr-anonymous-admin" })
		if pr && x.Default {
			t.Errorf("a binding that only claims the platform's labels is taken for the default policy: %s", x.Message)
		}
	}
	rows, _, _ := run(t, "audit", "-f", f, "-o", "csv")
	if !strings.Contains(rows, "aks-cluster-admin-binding-aad") || !strings.Contains(rows, "pr-anonymous-admin") {
		t.Errorf("-o csv leaves out a labelled binding's findings:\n%s", rows)
	}
}

// TestIncompleteInEveryFormat: an answer from a view with a gap (a binding
// whose role the input does not hold) says so in the file itself: CSV in
// its INCOMPLETE column, Markdown in its first line, for who-can,
// what-can and audit.
func TestIncompleteInEveryFormat(t *testing.T) {
	f := filepath.Join(t.TempDir(), "gap.yaml")
	if err := os.WriteFile(f, []byte(`apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ops, namespace: web}
subjects: [{kind: User, name: ops@contoso.com, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: not-in-the-input, apiGroup: rbac.authorization.k8s.io}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"who-can", "get", "secrets", "-n", "web"},
		{"what-can", "user:ops@contoso.com"},
		{"audit", "--only", "dangling-binding"},
	} {
		csvOut, errOut, _ := run(t, append(args, "-f", f, "-o", "csv")...)
		recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
		if err != nil || len(recs) < 1 || recs[0][len(recs[0])-1] != "INCOMPLETE" {
			t.Errorf("%v -o csv: no INCOMPLETE column (%v):\n%s\n%s", args, err, csvOut, errOut)
			continue
		}
		for _, r := range recs[1:] {
			if r[len(r)-1] != "true" {
				t.Errorf("%v -o csv: a row of an incomplete answer says %q", args, r[len(r)-1])
			}
		}
		md, _, _ := run(t, append(args, "-f", f, "-o", "markdown")...)
		if !strings.HasPrefix(md, "**Incomplete:**") {
			t.Errorf("%v -o markdown does not start by saying it is incomplete:\n%s", args, md)
		}
	}
	// A complete answer says false, and Markdown has no such line.
	csvOut, _, _ := run(t, "who-can", "get", "secrets", "-n", "prod", "-f", "testdata/team.yaml", "-o", "csv")
	if !strings.Contains(csvOut, ",false\n") || strings.Contains(csvOut, ",true\n") {
		t.Errorf("a complete answer's CSV:\n%s", csvOut)
	}
	if md, _, _ := run(t, "who-can", "get", "secrets", "-n", "prod", "-f", "testdata/team.yaml", "-o", "markdown"); strings.Contains(md, "Incomplete") {
		t.Errorf("a complete answer's Markdown says incomplete:\n%s", md)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestCSVAndMarkdown: one row per path, the same as -o json; every cell
// one line, formulas quoted, Markdown's syntax escaped.
func TestCSVAndMarkdown(t *testing.T) {
	js, _, _ := run(t, "who-can", "get", "secrets", "-A", "-f", hostile, "-o", "json")
	var doc struct {
		Subjects []struct{ Via []json.RawMessage }
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	paths := 0
	for _, s := range doc.Subjects {
		paths += len(s.Via)
	}
	out, errOut, code := run(t, "who-can", "get", "secrets", "-A", "-f", hostile, "-o", "csv")
	if code != ExitOK {
		t.Fatalf("-o csv: %d %s", code, errOut)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("-o csv is not CSV: %v\n%s", err, out)
	}
	if len(recs) != paths+1 || !slices.Equal(recs[0], []string{"SUBJECT", "DISPLAY NAME", "WHERE", "BINDING", "ROLE", "RULE", "INCOMPLETE"}) {
		t.Errorf("-o csv: %d records, want a header and %d paths:\n%s", len(recs), paths, out)
	}
	for _, r := range recs {
		for _, c := range r {
			if strings.ContainsAny(c, "\r\n\x1b") || c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("CSV cell a terminal or spreadsheet would act on: %q", c)
			}
		}
	}
	md, _, _ := run(t, "who-can", "get", "secrets", "-A", "-f", hostile, "-o", "markdown")
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if len(lines) != paths+2 {
		t.Errorf("-o markdown: %d lines, want %d rows and 2 header lines:\n%s", len(lines), paths, md)
	}
	unescapedPipe := regexp.MustCompile(`[^\\ ]\|[^ ]|[^ ]\|[^\\ ]`)
	for _, l := range lines {
		if !strings.HasPrefix(l, "| ") || !strings.HasSuffix(l, " |") || strings.Count(l, " | ") != 5 || unescapedPipe.MatchString(l) {
			t.Errorf("Markdown row not 6 cells: %q", l)
		}
	}
	for _, args := range [][]string{
		{"what-can", "user:eve\r\nFAKE LINE: group:system:masters", "-o", "csv"},
		{"what-can", "user:eve\r\nFAKE LINE: group:system:masters", "-o", "markdown"},
		{"audit", "-o", "csv", "--all"},
		{"audit", "-o", "markdown"},
	} {
		out, errOut, code := run(t, append(args, "-f", hostile)...)
		if code != ExitOK || unsafeForTerminal(out) != nil || forged(out) {
			t.Errorf("%v: code %d %s\n%q", args, code, errOut, out)
		}
		if args[2] == "csv" {
			if _, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil {
				t.Errorf("%v: not CSV: %v", args, err)
			}
		}
	}
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1":                "'+1",
		"@SUM(A1)":          "'@SUM(A1)",
		"-2+3":              "'-2+3",
		"user:alice":        "user:alice",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"a|b":         `a\|b`,
		"<img src=x>": "&lt;img src=x&gt;",
		"*bold*_x_":   `\*bold\*\_x\_`,
		"line\nbreak": `line\\nbreak`, // shown as line\nbreak
	} {
		if got := markdownCell(in); got != want {
			t.Errorf("markdownCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFixCompletion: fix <TAB> offers the fixable findings' ids, each
// described on one line, from files; live ids are checked in
// TestFixCommand.
func TestFixCompletion(t *testing.T) {
	f := "../audit/testdata/fixtures.yaml"
	js, _, _ := run(t, "audit", "-f", f, "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, x := range rep.Findings {
		if x.Fixable {
			want = append(want, x.ID)
		}
	}
	got := completions(t, "fix", "-f", f, "")
	slices.Sort(got)
	slices.Sort(want)
	if len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("fix completions %v, want the fixable ids %v", got, want)
	}
	if got := completions(t, "fix", "-f", f, "secrets-read-"); len(got) == 0 || slices.ContainsFunc(got, func(s string) bool { return !strings.HasPrefix(s, "secrets-read-") }) {
		t.Errorf("fix secrets-read-<TAB>: %v", got)
	}
	// Hostile names: every candidate and description stays one line.
	out, _, _ := run(t, "__complete", "fix", "-f", hostile, "")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || unsafeForTerminal(out) != nil {
		t.Errorf("fix completion on hostile names: %q", out)
	}
	for _, l := range lines[:len(lines)-1] {
		if !regexp.MustCompile(`^[a-z-]+-[0-9a-f]+\t[a-z]+: `).MatchString(l) {
			t.Errorf("candidate line not an id and its description: %q", l)
		}
	}
}

// TestAuditNamespace: audit -n keeps every finding of the namespace and
// the cluster-wide ones that reach it, marked, and drops those only about
// other namespaces.
func TestAuditNamespace(t *testing.T) {
	var all, ns audit.Report
	js, _, _ := run(t, "audit", "-f", demo, "-o", "json")
	if err := json.Unmarshal([]byte(js), &all); err != nil {
		t.Fatal(err)
	}
	js, errOut, code := run(t, "audit", "-f", demo, "-n", "payments", "-o", "json")
	if err := json.Unmarshal([]byte(js), &ns); err != nil || code != ExitOK || ns.Namespace == nil || ns.Namespace.Name != "payments" {
		t.Fatalf("audit -n payments: %d %v %s", code, err, errOut)
	}
	kept := map[string]audit.Finding{}
	for _, f := range ns.Findings {
		kept[f.ID+f.Message] = f
	}
	local, wide, dropped := 0, 0, 0
	for _, f := range all.Findings {
		inPayments, elsewhere := false, false
		for _, p := range f.Evidence {
			if p.Binding != nil && p.Binding.Namespace == "payments" {
				inPayments = true
			} else if p.Binding != nil && p.Binding.Namespace != "" {
				elsewhere = true
			}
		}
		k, ok := kept[f.ID+f.Message]
		switch {
		case inPayments:
			local++
			if !ok || k.Scope != audit.ScopeNamespace {
				t.Errorf("finding %s of payments missing or mis-scoped (%q)", f.ID, k.Scope)
			}
		case elsewhere && len(f.Evidence) > 0 && !slices.ContainsFunc(f.Evidence, func(p rbac.Path) bool { return p.Binding == nil || p.Binding.Namespace == "" }):
			dropped++
			if ok {
				t.Errorf("finding %s only about another namespace kept: %s", f.ID, f.Message)
			}
		case slices.ContainsFunc(f.Evidence, func(p rbac.Path) bool { return p.Binding != nil && p.Binding.Kind == "ClusterRoleBinding" }):
			wide++
			if !ok || k.Scope != audit.ScopeClusterWide {
				t.Errorf("cluster-wide finding %s missing or mis-scoped (%q)", f.ID, k.Scope)
			}
		}
	}
	if local == 0 || wide == 0 || dropped == 0 || ns.Namespace.InNamespace+ns.Namespace.ClusterWide != len(ns.Findings) {
		t.Errorf("payments: %d local, %d cluster-wide, %d dropped; report says %+v of %d", local, wide, dropped, ns.Namespace, len(ns.Findings))
	}
	out, _, _ := run(t, "audit", "-f", demo, "-n", "payments", "--width", "0")
	if !strings.Contains(out, "Namespace payments: ") || !strings.Contains(out, "(cluster-wide)") {
		t.Errorf("audit -n table:\n%s", out)
	}
}

// TestTransitive: --transitive keeps the authorizer's direct answer and
// adds who reaches the request through a service account, each chain
// checked with the engine: the subject may take the step in the
// account's namespace, and the account holds the request.
func TestTransitive(t *testing.T) {
	f := "../audit/testdata/fixtures.yaml"
	var direct, trans access.WhoCanAnswer
	js, _, _ := run(t, "who-can", "get", "secrets", "-A", "-f", f, "-o", "json")
	if err := json.Unmarshal([]byte(js), &direct); err != nil {
		t.Fatal(err)
	}
	js, errOut, code := run(t, "who-can", "get", "secrets", "-A", "-f", f, "-o", "json", "--transitive")
	if err := json.Unmarshal([]byte(js), &trans); err != nil || code != ExitOK {
		t.Fatalf("--transitive: %d %v %s", code, err, errOut)
	}
	if len(trans.Subjects) != len(direct.Subjects) || direct.Transitive != nil {
		t.Errorf("--transitive changed the direct answer: %d subjects, was %d", len(trans.Subjects), len(direct.Subjects))
	}
	if len(trans.Transitive) == 0 {
		t.Fatal("no indirect subject in the fixture, which has u-tokens minting tokens for sa:audit-a:powerful")
	}
	res, err := source.Read(t.Context(), []string{f}, source.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ix := rbac.NewIndex(res.Snapshot)
	found := false
	for _, g := range trans.Transitive {
		verb, resource, _ := strings.Cut(g.Step, " ")
		step := rbac.Attributes{Verb: verb, Namespace: g.ServiceAccount.Namespace}
		step.Resource, step.Subresource, _ = strings.Cut(resource, "/")
		if step.Subresource == "token" {
			step.Name = g.ServiceAccount.Name
		}
		if !ix.Can(g.Subject().Identity(), step).Allowed {
			t.Errorf("%s may not %s in %s", g.Subject(), g.Step, step.Namespace)
		}
		if len(g.Via) == 0 || len(g.StepVia) == 0 {
			t.Errorf("%s: a chain without its paths: %+v", g.Subject(), g)
		}
		if slices.ContainsFunc(direct.Subjects, func(s rbac.SubjectGrant) bool { return s.Subject().String() == g.Subject().String() }) {
			t.Errorf("%s is in the direct answer too", g.Subject())
		}
		found = found || g.Name == "u-tokens" && g.ServiceAccount.Name == "powerful" && g.Step == "create serviceaccounts/token"
	}
	if !found {
		t.Errorf("u-tokens -> sa:audit-a:powerful missing: %+v", trans.Transitive)
	}
	if _, errOut, _ := run(t, "who-can", "get", "secrets", "-A", "-f", f); !strings.Contains(errOut, "the direct answer") || !strings.Contains(errOut, "--transitive") {
		t.Errorf("the direct answer is not labelled as such: %q", errOut)
	}
	out, _, _ := run(t, "who-can", "get", "secrets", "-A", "-f", f, "--transitive")
	if !strings.Contains(out, "Through a service account (--transitive)") || !strings.Contains(out, "sa:audit-a:powerful") {
		t.Errorf("--transitive table:\n%s", out)
	}
}

// TestLockoutFindingIsNotFixable: a finding whose fix the lockout guard
// refuses is not marked [fix] (nor fixable in JSON), and says why; fix
// --allow-lockout still shows it.
func TestLockoutFindingIsNotFixable(t *testing.T) {
	const f = "../audit/testdata/fixtures.yaml"
	js, _, _ := run(t, "audit", "-f", f, "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Findings, func(x audit.Finding) bool {
		return x.Rule == "cluster-admin-equivalent" && strings.Contains(x.Message, "user:u-admin")
	})
	if i < 0 {
		t.Fatal("no cluster-admin-equivalent finding for u-admin")
	}
	x := rep.Findings[i]
	if x.Fixable || !strings.Contains(x.Message, "no fix offered") {
		t.Errorf("the last admin's finding: fixable %v, %q", x.Fixable, x.Message)
	}
	table, _, _ := run(t, "audit", "-f", f, "--width", "0")
	if !strings.Contains(table, x.ID+": ") || strings.Contains(table, x.ID+": "+x.Message+" [fix]") {
		t.Errorf("the table marks the lockout finding [fix]:\n%s", table)
	}
	if _, errOut, code := run(t, "fix", x.ID, "-f", f, "--allow-lockout"); code != ExitOK {
		t.Errorf("fix --allow-lockout: %d %s", code, errOut)
	}
}
