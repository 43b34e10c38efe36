package cmd

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

// Issue 28: every command, in every output format it has, over a universe
// whose every name (subjects, bindings, roles, namespaces, a resource
// name, group display names) holds what an attacker who may name an
// object can put there.

// hostilePayload is in every name: a screen clear, a title-setting OSC, an
// OSC 52 that would set the clipboard, CR and LF with a forged line, ^C,
// the bidi override and isolates, C1 controls (CSI, NEL, OSC, ST) as
// UTF-8, DEL, and shell syntax of every kind.
const hostilePayload = "\x1b[2J\x1b]0;PWNED-TITLE\x07\x1b]52;c;cHduZWQ=\x07\r\nFAKE LINE x\x03" +
	"\u202e\u2066\u2067\u2068\u2069\u009b2J\u0085\u009d0;t\u009c\x7f" +
	"; touch PWNED1; $(touch PWNED2) `touch PWNED3` '\"q"

// hostileNames are the universe's names.
type hostileNames struct {
	ns, user, user2, group, sa                            string
	crRead, crbRead, crbShared, role, rb, crWork, crbWork string
	secret, groupID, display                              string
	formulaNS, formulaRB, formulaUser                     string
}

var hostile28 = hostileNames{
	ns: "ns-" + hostilePayload, user: "u-" + hostilePayload, user2: "u2-" + hostilePayload,
	group: "g-" + hostilePayload, sa: "sa-" + hostilePayload,
	crRead: "cr-" + hostilePayload, crbRead: "crb-" + hostilePayload, crbShared: "crb2-" + hostilePayload,
	role: "r-" + hostilePayload, rb: "rb-" + hostilePayload,
	crWork: "crw-" + hostilePayload, crbWork: "crbw-" + hostilePayload,
	secret:  "db-" + hostilePayload,
	groupID: "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e99", display: "Team " + hostilePayload,
	// What a spreadsheet runs: a cell that starts with = + - @.
	formulaNS: "=cmd|' /C calc'!A0", formulaRB: "@SUM(1+1)*cmd|' /C calc'!A0", formulaUser: "-2+3+cmd|' /C calc'!A0",
}

// q quotes s as a YAML double-quoted scalar: Go's ASCII quoting (\xHH,
// \uHHHH, \n, \r, \a...) is YAML's too.
func q(s string) string { return strconv.QuoteToASCII(s) }

// writeHostileUniverse writes the manifests and the names file.
func writeHostileUniverse(t *testing.T) (manifests, names string) {
	t.Helper()
	h := hostile28
	dir := t.TempDir()
	u := func(kind, name string) string {
		return fmt.Sprintf("{apiGroup: rbac.authorization.k8s.io, kind: %s, name: %s}", kind, q(name))
	}
	docs := []string{
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: " + q(h.ns) + "}",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: " + q(h.formulaNS) + "}",
		"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: " + q(h.sa) + ", namespace: " + q(h.ns) + "}",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: " + q(h.crRead) + "}\nrules:\n- {apiGroups: [\"\"], resources: [secrets], verbs: [get, list]}",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: " + q(h.crbRead) + "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: " + q(h.crRead) + "}\nsubjects:\n- " + u("User", h.user),
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: " + q(h.crbShared) + "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: " + q(h.crRead) + "}\nsubjects:\n- " + u("Group", h.groupID) + "\n- " + u("User", h.user2),
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: " + q(h.role) + ", namespace: " + q(h.ns) + "}\nrules:\n- {apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}\n- {apiGroups: [\"\"], resources: [pods], verbs: [get]}\n- {apiGroups: [\"\"], resources: [secrets], verbs: [get], resourceNames: [" + q(h.secret) + "]}",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: " + q(h.rb) + ", namespace: " + q(h.ns) + "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: " + q(h.role) + "}\nsubjects:\n- " + u("Group", h.group) + "\n- " + u("User", h.user) + "\n- {kind: ServiceAccount, name: " + q(h.sa) + ", namespace: " + q(h.ns) + "}",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: " + q(h.crWork) + "}\nrules:\n- {apiGroups: [apps], resources: [deployments], verbs: [create]}\n- {apiGroups: [\"\"], resources: [pods], verbs: [create]}",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: " + q(h.crbWork) + "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: " + q(h.crWork) + "}\nsubjects:\n- {kind: ServiceAccount, name: " + q(h.sa) + ", namespace: " + q(h.ns) + "}",
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: " + q(h.formulaRB) + ", namespace: " + q(h.formulaNS) + "}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: " + q(h.crRead) + "}\nsubjects:\n- " + u("User", h.formulaUser),
		// Someone keeps cluster-admin, so that no fix is a lockout.
		"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: admins}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects:\n- " + u("Group", "admins"),
	}
	manifests = filepath.Join(dir, "universe.yaml")
	if err := os.WriteFile(manifests, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nm, err := json.Marshal(map[string]string{h.group: h.display, h.groupID: h.display, "admins": "=HYPERLINK(\"https://evil.example\")"})
	if err != nil {
		t.Fatal(err)
	}
	names = filepath.Join(dir, "names.json")
	if err := os.WriteFile(names, nm, 0o600); err != nil {
		t.Fatal(err)
	}
	return manifests, names
}

// rawControls lists what in s a terminal would act on: C0 controls but
// newline and tab, DEL, C1 controls, invalid UTF-8, and the format
// characters (bidi overrides and isolates, zero-width characters) and line
// separators that reorder or hide text. allowFormat lets the format
// characters through (YAML, see TestHostileNamesEveryCommand).
func rawControls(s string, allowFormat bool) []string {
	var found []string
	for i, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r == unicode.ReplacementChar && !strings.HasPrefix(s[i:], "\uFFFD"):
			found = append(found, fmt.Sprintf("invalid UTF-8 at %d", i))
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			found = append(found, fmt.Sprintf("%U", r))
		case !allowFormat && (unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029):
			found = append(found, fmt.Sprintf("%U", r))
		}
	}
	return found
}

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
	h := hostile28
	manifests, names := writeHostileUniverse(t)
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
	hostileNamesFile := filepath.Join(filepath.Dir(names), "names"+hostilePayload+".json")
	if b, err := os.ReadFile(names); err != nil || os.WriteFile(hostileNamesFile, b, 0o600) != nil {
		t.Fatal(err)
	}
	cases := []hostileCase{
		{name: "who-can -A", args: []string{"who-can", "get", "secrets", "-A"}, want: []string{h.user, h.user2, h.groupID, h.crbRead, h.crbShared, h.crRead, h.formulaUser, h.formulaRB, h.formulaNS}, shows: true},
		{name: "who-can -n hostile", args: []string{"who-can", "create", "pods/exec", "-n", h.ns}, want: []string{h.user, h.group, h.sa, h.rb, h.role, h.ns}, shows: true},
		{name: "who-can hostile resource name", args: []string{"who-can", "get", "secrets", h.secret, "-n", h.ns}, want: []string{h.user, h.secret, h.rb, h.role}, shows: true},
		{name: "what-can user", args: []string{"what-can", "user:" + h.user}, want: []string{h.user, h.crbRead, h.rb, h.role, h.ns, h.secret}, shows: true},
		{name: "what-can group", args: []string{"what-can", "group:" + h.group}, want: []string{h.group, h.rb, h.role, h.ns}, shows: true},
		{name: "what-can named group", args: []string{"what-can", "group:" + h.groupID}, want: []string{h.groupID, h.crbShared}, shows: true},
		{name: "what-can service account", args: []string{"what-can", "sa:" + h.ns + ":" + h.sa}, want: []string{h.sa, h.ns, h.rb, h.crbWork, h.crWork}, shows: true},
		{name: "what-can unknown subject", args: []string{"what-can", "user:" + h.user + "-nobody"}, shows: true},
		{name: "can allowed", args: []string{"can", "user:" + h.user, "get", "secrets", "-n", h.ns}, want: []string{h.user, h.crbRead, h.crRead}, shows: true},
		{name: "can hostile resource name", args: []string{"can", "user:" + h.user, "get", "secrets", h.secret, "-n", h.ns}, want: []string{h.user, h.secret}, shows: true},
		{name: "can group", args: []string{"can", "group:" + h.group, "create", "pods/exec", "-n", h.ns}, want: []string{h.group, h.rb, h.role, h.ns}, shows: true},
		{name: "can denied with nearest", args: []string{"can", "sa:" + h.ns + ":" + h.sa, "delete", "nodes"}, want: []string{h.sa, h.ns}, shows: true},
		{name: "audit", args: []string{"audit"}, want: []string{h.user, h.user2, h.group, h.sa, h.crbRead, h.crbShared, h.rb, h.crbWork, h.ns},
			sarif: []string{h.user, h.user2, h.group, h.sa, h.ns}, shows: true},
		{name: "audit -n hostile", args: []string{"audit", "-n", h.ns}, want: []string{h.user, h.group, h.sa, h.rb, h.ns},
			sarif: []string{h.user, h.group, h.sa, h.ns}, shows: true},
		{name: "snapshot", args: []string{"snapshot"}, want: []string{h.user, h.user2, h.group, h.sa, h.crRead, h.crbRead, h.crbShared, h.role, h.rb, h.crWork, h.crbWork, h.ns, h.secret, h.formulaNS, h.formulaRB, h.formulaUser}},
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
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(t.TempDir(), "config"+hostilePayload))
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
	if bad := rawControls(s, false); len(bad) > 0 {
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
		if bad := rawControls(out, false); len(bad) > 0 {
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
		if bad := rawControls(out, true); len(bad) > 0 {
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
// character that acts when pasted, and each name reaches kubectl whole.
func checkShellRun(t *testing.T, script string) {
	t.Helper()
	for i, l := range strings.Split(strings.TrimSuffix(script, "\n"), "\n") {
		for _, r := range l {
			if r != ' ' && !unicode.IsPrint(r) {
				t.Errorf("line %d holds %U: a paste acts on it: %q", i+1, r, l)
			}
		}
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\nprintf '%s\\0' \"$(basename \"$0\")\" \"$@\" >> \"$LOG\"; case \" $* \" in *' -f - '*) cat >> \"$LOG\";; esac; exit 0\n"
	for _, name := range []string{"kubectl", "az"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fake), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(dir, "log")
	c := exec.Command("bash", "-c", script)
	c.Dir = dir
	c.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "LOG="+log)
	if out, err := c.CombinedOutput(); err != nil {
		t.Errorf("bash: %v\n%s\n%s", err, out, script)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "PWNED") {
			t.Errorf("running the commands created %q: a name ran as code:\n%s", e.Name(), script)
		}
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
	b, _ := os.ReadFile(log)
	h := hostile28
	known := []string{h.ns, h.user, h.user2, h.group, h.sa, h.crRead, h.crbRead, h.crbShared, h.role, h.rb, h.crWork, h.crbWork, h.formulaNS, h.formulaRB}
	if !slices.ContainsFunc(strings.Split(string(b), "\x00"), func(arg string) bool { return slices.Contains(known, arg) }) {
		t.Errorf("no command got a hostile name whole:\n%q\n%s", b, script)
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
	h := hostile28
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
	must(cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: h.crRead},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"secrets"}}}}, metav1.CreateOptions{}))
	must(cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: h.crbRead},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: h.crRead}, Subjects: []rbacv1.Subject{subject("User", h.user)}}, metav1.CreateOptions{}))
	must(cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: h.role},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods/exec"}}}}, metav1.CreateOptions{}))
	must(cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: h.rb},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: h.role}, Subjects: []rbacv1.Subject{subject("Group", h.group), subject("User", h.user)}}, metav1.CreateOptions{}))
	t.Cleanup(func() {
		ctx := context.Background()
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, h.crbRead, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, h.crRead, metav1.DeleteOptions{})
		_ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	})

	// A kubeconfig whose two contexts (the same cluster) are named by the
	// attacker, written by hand: client-go's writer cannot write C1
	// controls (its YAML refuses them), its reader reads them escaped.
	dir := t.TempDir()
	ctxA, ctxB := "ctx-"+hostilePayload, "ctx2-"+hostilePayload
	var kc strings.Builder
	fmt.Fprintf(&kc, "apiVersion: v1\nkind: Config\ncurrent-context: %s\nclusters:\n- name: local\n  cluster: {server: %s, certificate-authority-data: %s}\n",
		q(ctxA), q(c.Server), base64.StdEncoding.EncodeToString(c.Config.CAData))
	fmt.Fprintf(&kc, "users:\n- name: admin\n  user: {client-certificate-data: %s, client-key-data: %s}\ncontexts:\n",
		base64.StdEncoding.EncodeToString(c.Config.CertData), base64.StdEncoding.EncodeToString(c.Config.KeyData))
	for _, name := range []string{ctxA, ctxB} {
		fmt.Fprintf(&kc, "- name: %s\n  context: {cluster: local, user: admin, namespace: %s}\n", q(name), ns)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(kc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	nm, _ := json.Marshal(map[string]string{"system:masters": "Masters " + hostilePayload, "system:authenticated": "Everyone " + hostilePayload, h.group: h.display})
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
		{name: "whoami", args: slices.Concat([]string{"whoami"}, one), want: []string{ctxA, "Masters " + hostilePayload}, shows: true},
		{name: "who-can one context", args: slices.Concat([]string{"who-can", "get", "secrets", "-A"}, one), want: []string{h.user, h.crbRead, h.crRead}, shows: true},
		{name: "who-can two contexts", args: slices.Concat([]string{"who-can", "get", "secrets", "-A"}, two), want: []string{ctxA, ctxB, h.user, h.crbRead}, shows: true},
		{name: "what-can", args: slices.Concat([]string{"what-can", "group:" + h.group}, one), want: []string{h.group, h.rb, h.role}, shows: true},
		{name: "can two contexts", args: slices.Concat([]string{"can", "user:" + h.user, "create", "pods/exec"}, two), want: []string{ctxA, ctxB, h.user, h.rb}, shows: true},
		{name: "audit one context", args: slices.Concat([]string{"audit"}, one), want: []string{h.user, h.group, h.crbRead, h.rb}, sarif: []string{h.user, h.group}, shows: true},
		{name: "audit two contexts", args: slices.Concat([]string{"audit"}, two), want: []string{ctxA, ctxB, h.user, h.group}, sarif: []string{h.user, h.group}, shows: true},
		{name: "snapshot", args: slices.Concat([]string{"snapshot"}, one), want: []string{ctxA, h.user, h.group, h.crRead, h.crbRead, h.role, h.rb}},
		{name: "unknown context", args: []string{"who-can", "get", "pods", "--context", "nope-" + hostilePayload}, fails: true},
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
