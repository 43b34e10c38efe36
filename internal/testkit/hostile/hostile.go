// Package hostile is issue 28's universe of hostile names, for the tests
// of every output (cmd) and of the explorer (tui): RBAC objects,
// namespaces, subjects, a resource name and group display names, each
// holding what an attacker who may name an object can put there.
package hostile

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Payload is in every name: a screen clear, a title-setting OSC, an OSC 52
// that would set the clipboard, CR and LF with a forged line ("FAKE
// LINE"), ^C, the bidi override and isolates, C1 controls (CSI, NEL, OSC,
// ST) as UTF-8, DEL, and shell syntax of every kind (each would create a
// file named PWNED…). Shown, it holds the text PWNED-TITLE.
const Payload = "\x1b[2J\x1b]0;PWNED-TITLE\x07\x1b]52;c;cHduZWQ=\x07\r\nFAKE LINE x\x03" +
	"\u202e\u2066\u2067\u2068\u2069\u009b2J\u0085\u009d0;t\u009c\x7f" +
	"; touch PWNED1; $(touch PWNED2) `touch PWNED3` '\"q"

// Names are the universe's names.
type Names struct {
	// NS holds SA, Role and RB; the other namespace, FormulaNS, FormulaRB.
	NS, User, User2, Group, SA                            string
	CRRead, CRBRead, CRBShared, Role, RB, CRWork, CRBWork string
	// Secret is a resource name in Role's rules; GroupID a group named by
	// an object id whose display name is Display.
	Secret, GroupID, Display string
	// What a spreadsheet runs: cells that start with = + - @.
	FormulaNS, FormulaRB, FormulaUser string
}

// N are the names.
var N = Names{
	NS: "ns-" + Payload, User: "u-" + Payload, User2: "u2-" + Payload,
	Group: "g-" + Payload, SA: "sa-" + Payload,
	CRRead: "cr-" + Payload, CRBRead: "crb-" + Payload, CRBShared: "crb2-" + Payload,
	Role: "r-" + Payload, RB: "rb-" + Payload,
	CRWork: "crw-" + Payload, CRBWork: "crbw-" + Payload,
	Secret:  "db-" + Payload,
	GroupID: "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e99", Display: "Team " + Payload,
	FormulaNS: "=cmd|' /C calc'!A0", FormulaRB: "@SUM(1+1)*cmd|' /C calc'!A0", FormulaUser: "-2+3+cmd|' /C calc'!A0",
}

// All are the names of objects and subjects, for a test that looks for
// any of them whole.
func (n Names) All() []string {
	return []string{n.NS, n.User, n.User2, n.Group, n.SA, n.CRRead, n.CRBRead, n.CRBShared, n.Role, n.RB, n.CRWork, n.CRBWork,
		n.Secret, n.FormulaNS, n.FormulaRB, n.FormulaUser}
}

// Quote quotes s as a YAML double-quoted scalar: Go's ASCII quoting (\xHH,
// \uHHHH, \n, \r, \a...) is YAML's too.
func Quote(s string) string { return strconv.QuoteToASCII(s) }

// Write writes the universe's manifests and its names file (group id ->
// display name, as --group-names reads it) into a new directory. The
// bindings give: secrets-read findings (CRBRead's only subject, and
// CRBShared's two), pod-exec in NS (RB: a group, a user, SA) and
// workload-create for SA cluster-wide (CRBWork, which --narrow keeps in
// NS); a group "admins" keeps cluster-admin, so that no fix is a lockout.
func Write(t testing.TB) (manifests, names string) {
	t.Helper()
	n, q := N, Quote
	subject := func(kind, name string) string {
		return fmt.Sprintf("{apiGroup: rbac.authorization.k8s.io, kind: %s, name: %s}", kind, q(name))
	}
	sa := "{kind: ServiceAccount, name: " + q(n.SA) + ", namespace: " + q(n.NS) + "}"
	const rbacV1 = "apiVersion: rbac.authorization.k8s.io/v1\n"
	roleRef := func(kind, name string) string {
		return "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: " + kind + ", name: " + q(name) + "}\n"
	}
	docs := []string{
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: " + q(n.NS) + "}",
		"apiVersion: v1\nkind: Namespace\nmetadata: {name: " + q(n.FormulaNS) + "}",
		"apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: " + q(n.SA) + ", namespace: " + q(n.NS) + "}",
		rbacV1 + "kind: ClusterRole\nmetadata: {name: " + q(n.CRRead) + "}\nrules:\n- {apiGroups: [\"\"], resources: [secrets], verbs: [get, list]}",
		rbacV1 + "kind: ClusterRoleBinding\nmetadata: {name: " + q(n.CRBRead) + "}\n" + roleRef("ClusterRole", n.CRRead) + "subjects:\n- " + subject("User", n.User),
		rbacV1 + "kind: ClusterRoleBinding\nmetadata: {name: " + q(n.CRBShared) + "}\n" + roleRef("ClusterRole", n.CRRead) +
			"subjects:\n- " + subject("Group", n.GroupID) + "\n- " + subject("User", n.User2),
		rbacV1 + "kind: Role\nmetadata: {name: " + q(n.Role) + ", namespace: " + q(n.NS) + "}\nrules:\n" +
			"- {apiGroups: [\"\"], resources: [pods/exec], verbs: [create]}\n- {apiGroups: [\"\"], resources: [pods], verbs: [get]}\n" +
			"- {apiGroups: [\"\"], resources: [secrets], verbs: [get], resourceNames: [" + q(n.Secret) + "]}",
		rbacV1 + "kind: RoleBinding\nmetadata: {name: " + q(n.RB) + ", namespace: " + q(n.NS) + "}\n" + roleRef("Role", n.Role) +
			"subjects:\n- " + subject("Group", n.Group) + "\n- " + subject("User", n.User) + "\n- " + sa,
		rbacV1 + "kind: ClusterRole\nmetadata: {name: " + q(n.CRWork) + "}\nrules:\n" +
			"- {apiGroups: [apps], resources: [deployments], verbs: [create]}\n- {apiGroups: [\"\"], resources: [pods], verbs: [create]}",
		rbacV1 + "kind: ClusterRoleBinding\nmetadata: {name: " + q(n.CRBWork) + "}\n" + roleRef("ClusterRole", n.CRWork) + "subjects:\n- " + sa,
		rbacV1 + "kind: RoleBinding\nmetadata: {name: " + q(n.FormulaRB) + ", namespace: " + q(n.FormulaNS) + "}\n" + roleRef("ClusterRole", n.CRRead) +
			"subjects:\n- " + subject("User", n.FormulaUser),
		rbacV1 + "kind: ClusterRoleBinding\nmetadata: {name: admins}\n" + roleRef("ClusterRole", "cluster-admin") + "subjects:\n- " + subject("Group", "admins"),
	}
	dir := t.TempDir()
	manifests = filepath.Join(dir, "universe.yaml")
	if err := os.WriteFile(manifests, []byte(strings.Join(docs, "\n---\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nm, err := json.Marshal(map[string]string{n.Group: n.Display, n.GroupID: n.Display, "admins": "=HYPERLINK(\"https://evil.example\")"})
	if err != nil {
		t.Fatal(err)
	}
	names = filepath.Join(dir, "names.json")
	if err := os.WriteFile(names, nm, 0o600); err != nil {
		t.Fatal(err)
	}
	return manifests, names
}

// Controls lists what in s a terminal acts on: C0 controls but newline and
// tab, DEL, C1 controls, invalid UTF-8, and (unless allowFormat) the
// format characters (bidi overrides and isolates, zero-width characters)
// and the line and paragraph separators, which reorder or hide text.
func Controls(s string, allowFormat bool) []string {
	var found []string
	for i, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			found = append(found, fmt.Sprintf("invalid UTF-8 at %d", i))
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			found = append(found, fmt.Sprintf("%U", r))
		case !allowFormat && (unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029):
			found = append(found, fmt.Sprintf("%U", r))
		}
	}
	return found
}

// Unpastable lists what in shell text acts when pasted into a terminal or
// shown there: anything but printable characters, the ASCII space and the
// newline that ends each line.
func Unpastable(script string) []string {
	var found []string
	for _, r := range script {
		if r != ' ' && r != '\n' && !unicode.IsPrint(r) {
			found = append(found, fmt.Sprintf("%U", r))
		}
	}
	return found
}

// RunShell runs script with bash -c in a new directory, with a kubectl and
// an az first on PATH that record their arguments and what they read on
// stdin: it returns every argument they got, in order (a stdin read
// follows its command's arguments as one more), and the files the script
// created whose name holds PWNED (a name run as code).
func RunShell(t testing.TB, script string) (args, pwned []string) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\nprintf '%s\\0' \"$(basename \"$0\")\" \"$@\" >> \"$LOG\"\ncase \" $* \" in *' -f - '*) cat >> \"$LOG\"; printf '\\0' >> \"$LOG\";; esac\nexit 0\n"
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
			pwned = append(pwned, e.Name())
		}
	}
	b, _ := os.ReadFile(log)
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), pwned
}
