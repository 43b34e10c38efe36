package cmd

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/audit"
	hostilekit "github.com/kubectl-access/kubectl-access/internal/testkit/hostile"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

// Issue 28: every command, in every output format it has, over a universe
// whose every name (subjects, bindings, roles, namespaces, a resource
// name, group display names) holds what an attacker who may name an
// object can put there.

// strings of a decoded JSON or YAML document, every one.
func docStrings(v any, out map[string]bool) {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			docStrings(x, out)
		}
	case string:
		out[v] = true
	case map[string]any:
		for k, x := range v {
			out[k] = true
			docStrings(x, out)
		}
	}
}

// outputFormats are the -o formats of each command, as the command
// registers them for completion (AddOutputFlag): what the table below must
// cover.
func outputFormats(t *testing.T) map[string][]string {
	t.Helper()
	root := NewCmdAccess(genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	out := map[string][]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			path := strings.TrimPrefix(sub.CommandPath(), root.CommandPath()+" ")
			if sub.HasSubCommands() {
				walk(sub)
				continue
			}
			out[path] = nil
			if f, ok := sub.GetFlagCompletionFunc("output"); ok {
				formats, _ := f(sub, nil, "")
				out[path] = formats
			}
		}
	}
	walk(root)
	return out
}

// hostileCase is one command line; it runs in every format of its command.
type hostileCase struct {
	name string
	args []string
	// want are names each document must carry exactly; sarif those of
	// SARIF.
	want, sarif []string
	// shows: the text formats must show the payload (escaped).
	shows bool
	// fails: the command is expected to end in an error (an id or a
	// subject that is refused), whose message must be as safe.
	fails bool
}

func TestHostileNamesEveryCommand(t *testing.T) {
	h := hostilekit.N
	manifests, names := hostilekit.Write(t)
	base := []string{"-f", manifests, "--group-names", names}

	// The findings, and the fixes to print.
	js, errOut, code := run(t, append([]string{"audit", "-o", "json", "--all"}, base...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code == ExitError {
		t.Fatalf("audit -o json: exit %d, %v\n%s", code, err, errOut)
	}
	var fixable []string
	for _, f := range rep.Findings {
		if f.Fixable && strings.Contains(mustJSON(f), "PWNED") {
			fixable = append(fixable, f.ID)
		}
	}
	if len(fixable) < 4 {
		t.Fatalf("only %d fixable findings on hostile names: %v", len(fixable), fixable)
	}

	// A names file whose path is as hostile, for config set.
	hostileNamesFile := filepath.Join(filepath.Dir(names), "names"+hostilekit.Payload+".json")
	if b, err := os.ReadFile(names); err != nil || os.WriteFile(hostileNamesFile, b, 0o600) != nil {
		t.Fatal(err)
	}
	cases := []hostileCase{
		{name: "who-can -A", args: []string{"who-can", "get", "secrets", "-A"}, want: []string{h.User, h.User2, h.GroupID, h.CRBRead, h.CRBShared, h.CRRead, h.FormulaUser, h.FormulaRB, h.FormulaNS}, shows: true},
		{name: "who-can -n hostile", args: []string{"who-can", "create", "pods/exec", "-n", h.NS}, want: []string{h.User, h.Group, h.SA, h.RB, h.Role, h.NS}, shows: true},
		{name: "who-can hostile resource name", args: []string{"who-can", "get", "secrets", h.Secret, "-n", h.NS}, want: []string{h.User, h.Secret, h.RB, h.Role}, shows: true},
		{name: "what-can user", args: []string{"what-can", "user:" + h.User}, want: []string{h.User, h.CRBRead, h.RB, h.Role, h.NS, h.Secret}, shows: true},
		{name: "what-can group", args: []string{"what-can", "group:" + h.Group}, want: []string{h.Group, h.RB, h.Role, h.NS}, shows: true},
		{name: "what-can named group", args: []string{"what-can", "group:" + h.GroupID}, want: []string{h.GroupID, h.CRBShared}, shows: true},
		{name: "what-can service account", args: []string{"what-can", "sa:" + h.NS + ":" + h.SA}, want: []string{h.SA, h.NS, h.RB, h.CRBWork, h.CRWork}, shows: true},
		{name: "what-can unknown subject", args: []string{"what-can", "user:" + h.User + "-nobody"}, shows: true},
		{name: "can allowed", args: []string{"can", "user:" + h.User, "get", "secrets", "-n", h.NS}, want: []string{h.User, h.CRBRead, h.CRRead}, shows: true},
		{name: "can hostile resource name", args: []string{"can", "user:" + h.User, "get", "secrets", h.Secret, "-n", h.NS}, want: []string{h.User, h.Secret}, shows: true},
		{name: "can group", args: []string{"can", "group:" + h.Group, "create", "pods/exec", "-n", h.NS}, want: []string{h.Group, h.RB, h.Role, h.NS}, shows: true},
		{name: "can denied with nearest", args: []string{"can", "sa:" + h.NS + ":" + h.SA, "delete", "nodes"}, want: []string{h.SA, h.NS}, shows: true},
		{name: "audit", args: []string{"audit"}, want: []string{h.User, h.User2, h.Group, h.SA, h.CRBRead, h.CRBShared, h.RB, h.CRBWork, h.NS},
			sarif: []string{h.User, h.User2, h.Group, h.SA, h.NS}, shows: true},
		{name: "audit -n hostile", args: []string{"audit", "-n", h.NS}, want: []string{h.User, h.Group, h.SA, h.RB, h.NS},
			sarif: []string{h.User, h.Group, h.SA, h.NS}, shows: true},
		{name: "snapshot", args: []string{"snapshot"}, want: []string{h.User, h.User2, h.Group, h.SA, h.CRRead, h.CRBRead, h.CRBShared, h.Role, h.RB, h.CRWork, h.CRBWork, h.NS, h.Secret, h.FormulaNS, h.FormulaRB, h.FormulaUser}},
		{name: "fix hostile id", args: []string{"fix", "secrets-read-\x1b]0;x\x07\u009b2J"}, fails: true},
		{name: "version", args: []string{"version"}},
		{name: "config view", args: []string{"config", "view"}, shows: true},
		{name: "config set", args: []string{"config", "set", "group-names", hostileNamesFile}, shows: true},
		{name: "config unset", args: []string{"config", "unset", "group-names"}},
	}
	for _, id := range fixable {
		cases = append(cases,
			hostileCase{name: "fix " + id, args: []string{"fix", id, "--allow-lockout"}},
			hostileCase{name: "fix --narrow " + id, args: []string{"fix", id, "--allow-lockout", "--narrow"}})
	}
	// config writes under the user's config directory.
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(t.TempDir(), "config"+hostilekit.Payload))
	t.Setenv("HOME", t.TempDir())

	// Every command and every format is covered.
	formats := outputFormats(t)
	for cmd := range formats {
		if cmd == "whoami" {
			continue // TestHostileNamesLive: it asks a server
		}
		if !slices.ContainsFunc(cases, func(c hostileCase) bool { return hostileCommand(c.args) == cmd }) {
			t.Errorf("command %q has no hostile-name case", cmd)
		}
	}

	for _, tc := range cases {
		flags := base
		if cmd := hostileCommand(tc.args); cmd == "version" || strings.HasPrefix(cmd, "config") {
			flags = nil // they read no input
		}
		runHostileCase(t, formats, tc, flags)
	}

	// fix's completion describes each finding: one line each, escaped.
	t.Run("complete fix", func(t *testing.T) {
		out, errOut, code := run(t, "__complete", "-f", manifests, "fix", "")
		if code != ExitOK || !strings.Contains(out, "PWNED-TITLE") {
			t.Fatalf("exit %d, no hostile finding completed:\n%s%s", code, out, errOut)
		}
		checkTerminal(t, "completions", out)
	})
}

// runHostileCase runs a case in every format of its command, with flags
// after its arguments, and checks each output for its sink.
func runHostileCase(t *testing.T, formats map[string][]string, tc hostileCase, flags []string) {
	t.Helper()
	cmd := hostileCommand(tc.args)
	fs, ok := formats[cmd]
	if !ok {
		t.Fatalf("%q is not a command", cmd)
	}
	if len(fs) == 0 {
		fs = []string{""}
	}
	for _, format := range fs {
		name := tc.name
		if format != "" {
			name += " -o " + format
		}
		t.Run(name, func(t *testing.T) {
			args := slices.Concat(tc.args, flags)
			if format != "" {
				args = append(args, "-o", format)
			}
			out, errOut, code := run(t, args...)
			if tc.fails != (code == ExitError) {
				t.Fatalf("exit %d (want an error: %v)\nstdout:\n%q\nstderr:\n%q", code, tc.fails, out, errOut)
			}
			checkTerminal(t, "stderr", errOut)
			if code == ExitError {
				return
			}
			checkHostileOutput(t, format, out, errOut, tc)
			if cmd == "fix" && (format == FormatKubectl || format == FormatTable) {
				// The commands fix prints for a person are the same text.
				script := out
				if format == FormatTable {
					if _, script, ok = strings.Cut(out, "As kubectl commands (guarded: a concurrent change makes them fail):\n\n"); !ok {
						t.Fatalf("fix prints no kubectl commands:\n%s", out)
					}
				}
				checkShellRun(t, script)
			}
		})
	}
}

// hostileCommand is the command a case runs: "who-can", "config view".
func hostileCommand(args []string) string {
	if args[0] == "config" {
		return args[0] + " " + args[1]
	}
	return args[0]
}

// checkTerminal: text shown on a terminal holds nothing it acts on, and no
// line an attacker wrote.
func checkTerminal(t *testing.T, what, s string) {
	t.Helper()
	if bad := hostilekit.Controls(s, false); len(bad) > 0 {
		t.Errorf("%s holds what a terminal acts on %v:\n%q", what, bad, s)
	}
	if forged(s) {
		t.Errorf("%s has a forged line:\n%s", what, s)
	}
}

// checkHostileOutput checks one output by its format.
func checkHostileOutput(t *testing.T, format, out, errOut string, tc hostileCase) {
	t.Helper()
	// Over several clusters a document each: JSON's follow one another,
	// YAML's are separated by ---.
	var docs []any
	switch format {
	case FormatJSON, FormatSARIF:
		dec := json.NewDecoder(strings.NewReader(out))
		for {
			var doc any
			if err := dec.Decode(&doc); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("not JSON: %v\n%q", err, out)
			}
			docs = append(docs, doc)
		}
		if bad := hostilekit.Controls(out, false); len(bad) > 0 {
			t.Errorf("the JSON holds what a terminal acts on, unescaped %v", bad)
		}
	case FormatYAML:
		for _, part := range strings.Split(strings.TrimPrefix(out, "---\n"), "\n---\n") {
			var doc any
			if err := yaml.Unmarshal([]byte(part), &doc); err != nil {
				t.Fatalf("not YAML: %v\n%q", err, out)
			}
			docs = append(docs, doc)
		}
		// YAML escapes every control character; the format characters it
		// counts as printable (see rawControls).
		if bad := hostilekit.Controls(out, true); len(bad) > 0 {
			t.Errorf("the YAML holds control characters unescaped %v", bad)
		}
	case FormatCSV:
		checkTerminal(t, "CSV", out)
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("CSV does not parse: %v\n%s", err, out)
		}
		for _, rec := range recs[1:] {
			for _, c := range rec {
				if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
					t.Errorf("a CSV cell a spreadsheet runs as a formula: %q", c)
				}
			}
		}
	default: // table, wide, markdown, text, kubectl
		checkTerminal(t, "stdout", out)
	}
	if docs != nil {
		got := map[string]bool{}
		docStrings(anySlice(docs), got)
		want := tc.want
		if format == FormatSARIF {
			want = tc.sarif // SARIF names a finding's subjects and objects, not its paths
		}
		for _, w := range want {
			if !carries(got, w) {
				t.Errorf("the document does not carry %q exactly", w)
			}
		}
		return
	}
	if tc.shows && !strings.Contains(out+errOut, "PWNED-TITLE") {
		t.Errorf("the output shows no hostile name, so it proves nothing:\n%s", out)
	}
}

func anySlice(docs []any) any { return docs }

// carries: a string of the document is w, or holds it (a message).
func carries(strs map[string]bool, w string) bool {
	if strs[w] {
		return true
	}
	for s := range strs {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// checkShellRun runs shell text as bash would, with a kubectl and an az
// that record their arguments: nothing in a name runs, no line holds a
// character that acts when pasted, and a name its commands hold reaches
// kubectl whole.
func checkShellRun(t *testing.T, script string) {
	t.Helper()
	if bad := hostilekit.Unpastable(script); len(bad) > 0 {
		t.Errorf("the commands hold %v: a paste acts on them:\n%q", bad, script)
	}
	args, pwned := hostilekit.RunShell(t, script)
	if len(pwned) > 0 {
		t.Errorf("running the commands created %q: a name ran as code:\n%s", pwned, script)
	}
	commands := ""
	for _, l := range strings.Split(script, "\n") {
		if !strings.HasPrefix(l, "#") {
			commands += l + "\n"
		}
	}
	if !strings.Contains(commands, "PWNED") && !strings.Contains(commands, "cmd|") {
		return // the names are in the comment only
	}
	if !slices.ContainsFunc(args, func(arg string) bool { return slices.Contains(hostilekit.N.All(), arg) }) {
		t.Errorf("no command got a hostile name whole:\n%q\n%s", args, script)
	}
}

// TestHostileNamesLive: what only a real API server and a kubeconfig
// give: context names (in every fleet line, table and document), names
// the server stores (RBAC object names may hold anything but / and %;
// user and group subjects anything), whoami's identity with group display
// names, a live fix's guarded commands, and the completion of --context.
// Namespaces on a real server are DNS labels: the hostile namespaces are
// TestHostileNamesEveryCommand's, offline.
func TestHostileNamesLive(t *testing.T) {
	c := clustertest.Get(t)
	ctx := t.Context()
	h := hostilekit.N
	cs := kubernetes.NewForConfigOrDie(c.Config)
	const ns = "hostile-live"
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	subject := func(kind, name string) rbacv1.Subject {
		return rbacv1.Subject{Kind: kind, APIGroup: rbacv1.GroupName, Name: name}
	}
	must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: h.CRRead},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: h.CRBRead},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: h.CRRead}, Subjects: []rbacv1.Subject{subject("User", h.User)}}, metav1.CreateOptions{}))
	must(cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: h.Role},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods/exec"}}}}, metav1.CreateOptions{}))
	must(cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: h.RB},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: h.Role}, Subjects: []rbacv1.Subject{subject("Group", h.Group), subject("User", h.User)}}, metav1.CreateOptions{}))
	t.Cleanup(func() {
		ctx := context.Background()
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, h.CRBRead, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, h.CRRead, metav1.DeleteOptions{})
		_ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	})

	// A kubeconfig whose two contexts (the same cluster) are named by the
	// attacker, written by hand: client-go's writer cannot write C1
	// controls (its YAML refuses them), its reader reads them escaped.
	dir := t.TempDir()
	ctxA, ctxB := "ctx-"+hostilekit.Payload, "ctx2-"+hostilekit.Payload
	var kc strings.Builder
	fmt.Fprintf(&kc, "apiVersion: v1\nkind: Config\ncurrent-context: %s\nclusters:\n- name: local\n  cluster: {server: %s, certificate-authority-data: %s}\n",
		hostilekit.Quote(ctxA), hostilekit.Quote(c.Server), base64.StdEncoding.EncodeToString(c.Config.CAData))
	fmt.Fprintf(&kc, "users:\n- name: admin\n  user: {client-certificate-data: %s, client-key-data: %s}\ncontexts:\n",
		base64.StdEncoding.EncodeToString(c.Config.CertData), base64.StdEncoding.EncodeToString(c.Config.KeyData))
	for _, name := range []string{ctxA, ctxB} {
		fmt.Fprintf(&kc, "- name: %s\n  context: {cluster: local, user: admin, namespace: %s}\n", hostilekit.Quote(name), ns)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(kc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	nm, _ := json.Marshal(map[string]string{"system:masters": "Masters " + hostilekit.Payload, "system:authenticated": "Everyone " + hostilekit.Payload, h.Group: h.Display})
	names := filepath.Join(dir, "names.json")
	if err := os.WriteFile(names, nm, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--kubeconfig", kubeconfig, "--group-names", names}
	one := []string{"--context", ctxA}
	two := []string{"--context", ctxA, "--context", ctxB}

	js, errOut, code := run(t, slices.Concat([]string{"audit", "-o", "json"}, one, base)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code == ExitError {
		t.Fatalf("audit -o json: exit %d, %v\n%s", code, err, errOut)
	}
	var fixable []string
	for _, f := range rep.Findings {
		if f.Fixable && strings.Contains(mustJSON(f), "PWNED") {
			fixable = append(fixable, f.ID)
		}
	}
	if len(fixable) < 3 {
		t.Fatalf("only %d fixable findings on hostile names: %v", len(fixable), fixable)
	}

	cases := []hostileCase{
		{name: "whoami", args: slices.Concat([]string{"whoami"}, one), want: []string{ctxA, "Masters " + hostilekit.Payload}, shows: true},
		{name: "who-can one context", args: slices.Concat([]string{"who-can", "get", "secrets", "-A"}, one), want: []string{h.User, h.CRBRead, h.CRRead}, shows: true},
		{name: "who-can two contexts", args: slices.Concat([]string{"who-can", "get", "secrets", "-A"}, two), want: []string{ctxA, ctxB, h.User, h.CRBRead}, shows: true},
		{name: "what-can", args: slices.Concat([]string{"what-can", "group:" + h.Group}, one), want: []string{h.Group, h.RB, h.Role}, shows: true},
		{name: "can two contexts", args: slices.Concat([]string{"can", "user:" + h.User, "create", "pods/exec"}, two), want: []string{ctxA, ctxB, h.User, h.RB}, shows: true},
		{name: "audit one context", args: slices.Concat([]string{"audit"}, one), want: []string{h.User, h.Group, h.CRBRead, h.RB}, sarif: []string{h.User, h.Group}, shows: true},
		{name: "audit two contexts", args: slices.Concat([]string{"audit"}, two), want: []string{ctxA, ctxB, h.User, h.Group}, sarif: []string{h.User, h.Group}, shows: true},
		{name: "snapshot", args: slices.Concat([]string{"snapshot"}, one), want: []string{ctxA, h.User, h.Group, h.CRRead, h.CRBRead, h.Role, h.RB}},
		{name: "unknown context", args: []string{"who-can", "get", "pods", "--context", "nope-" + hostilekit.Payload}, fails: true},
	}
	for _, id := range fixable {
		cases = append(cases, hostileCase{name: "fix " + id, args: slices.Concat([]string{"fix", id, "--allow-lockout"}, one)})
	}
	formats := outputFormats(t)
	for _, tc := range cases {
		runHostileCase(t, formats, tc, base)
	}

	// snapshot into a directory: the fleet's index names the contexts.
	t.Run("snapshot --dir", func(t *testing.T) {
		fleet := filepath.Join(t.TempDir(), "fleet")
		out, errOut, code := run(t, slices.Concat([]string{"snapshot", "--dir", fleet}, two, base)...)
		if code != ExitOK {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		checkTerminal(t, "stdout", out)
		checkTerminal(t, "stderr", errOut)
		b, err := os.ReadFile(filepath.Join(fleet, "fleet.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		checkHostileOutput(t, FormatYAML, string(b), "", hostileCase{want: []string{ctxA, ctxB}})
	})

	// Completion shows the contexts escaped: a candidate is one line the
	// shell prints.
	t.Run("complete --context", func(t *testing.T) {
		out, errOut, code := run(t, "__complete", "--kubeconfig", kubeconfig, "who-can", "--context", "")
		if code != ExitOK {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		checkTerminal(t, "completions", out)
		if !strings.Contains(out, `ctx-\x1b[2J`) {
			t.Errorf("the contexts are not completed, escaped:\n%q", out)
		}
	})
}
