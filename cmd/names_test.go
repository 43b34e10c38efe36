package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

const (
	demoNames     = "../testdata/demo/group-names.json"
	payDevs       = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e02"
	payDevsName   = "Payments Developers"
	webDevs       = "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e03"
	webDevsName   = "Web Developers"
	namedInTables = "group:" + payDevs + " (" + payDevsName + ")"
)

// The tests never read or write the machine's config directory.
func init() {
	dir, err := os.MkdirTemp("", "kubectl-access-test-config-")
	if err == nil {
		_ = os.Setenv("XDG_CONFIG_HOME", dir) // a valid name: it cannot fail
	}
}

// TestNamesEverywhere: with a names file, documents carry displayName
// beside every group id, SARIF and fix texts name the group, and a group
// may be written by its name (ambiguity is an error listing the ids).
func TestNamesEverywhere(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no config file of the machine's
	names := []string{"-f", demo, "--group-names", demoNames}

	js, _, _ := run(t, append([]string{"who-can", "get", "secrets", "-n", "payments", "-o", "json"}, names...)...)
	var who access.WhoCanAnswer
	if err := json.Unmarshal([]byte(js), &who); err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(who.Subjects, func(g rbac.SubjectGrant) bool { return g.Name == payDevs }); i < 0 || who.Subjects[i].DisplayName != payDevsName {
		t.Errorf("who-can -o json: no displayName for %s:\n%s", payDevs, js)
	}

	js, _, _ = run(t, append([]string{"audit", "-o", "json"}, names...)...)
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	var groupFinding *audit.Finding
	for i, f := range rep.Findings {
		for _, s := range f.Subjects {
			if s.Name == payDevs {
				if s.DisplayName != payDevsName {
					t.Errorf("finding %s: subject %s displayName %q", f.ID, s.Name, s.DisplayName)
				}
				if f.Fixable && groupFinding == nil {
					groupFinding = &rep.Findings[i]
				}
			}
		}
	}
	if groupFinding == nil {
		t.Fatal("no fixable finding about " + payDevs)
	}
	sarif, _, _ := run(t, append([]string{"audit", "-o", "sarif"}, names...)...)
	if !strings.Contains(sarif, namedInTables) {
		t.Errorf("SARIF messages do not name the group")
	}
	k, errOut, code := run(t, append([]string{"fix", groupFinding.ID, "-o", "kubectl", "--allow-incomplete"}, names...)...)
	if code != ExitOK || !strings.Contains(strings.SplitN(k, "\n", 2)[0], payDevsName) {
		t.Errorf("fix -o kubectl header does not name the group: %d %s\n%s", code, errOut, k)
	}

	// A group by its display name, as an argument and with --group.
	byID, _, _ := run(t, append([]string{"what-can", "group:" + webDevs}, names...)...)
	byName, errOut, code := run(t, append([]string{"what-can", "group:" + strings.ToLower(webDevsName)}, names...)...)
	if code != ExitOK || byName != byID || !strings.Contains(byID, "web") {
		t.Errorf("what-can group:%q: code %d %s\n%s\nwant\n%s", webDevsName, code, errOut, byName, byID)
	}
	viaID, _, _ := run(t, append([]string{"can", "user:zed", "--group", webDevs, "create", "deployments.apps", "-n", "web"}, names...)...)
	viaName, _, code := run(t, append([]string{"can", "user:zed", "--group", webDevsName, "create", "deployments.apps", "-n", "web"}, names...)...)
	if code != ExitOK || viaName != viaID {
		t.Errorf("can --group %q: code %d\n%s\nwant\n%s", webDevsName, code, viaName, viaID)
	}
	dup := filepath.Join(t.TempDir(), "dup.csv")
	if err := writeFile(dup, "id,name\n"+payDevs+",Developers\n"+webDevs+",developers\n"); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = run(t, "what-can", "group:Developers", "-f", demo, "--group-names", dup)
	if code != ExitError || !strings.Contains(errOut, payDevs) || !strings.Contains(errOut, webDevs) || !strings.Contains(errOut, "write the object id") {
		t.Errorf("an ambiguous group name: code %d, %q", code, errOut)
	}
}

// TestNamesWithoutTheFlag: $KUBECTL_ACCESS_GROUP_NAMES, else the file
// `config set group-names` records (0600), names groups in every command.
func TestNamesWithoutTheFlag(t *testing.T) {
	cfgHome := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgHome)
	t.Setenv(GroupNamesEnv, "")
	plainOut, _, _ := run(t, "who-can", "get", "secrets", "-n", "payments", "-f", demo)
	if strings.Contains(plainOut, payDevsName) {
		t.Fatalf("names shown with no names file:\n%s", plainOut)
	}
	t.Setenv(GroupNamesEnv, demoNames)
	if out, errOut, _ := run(t, "who-can", "get", "secrets", "-n", "payments", "-f", demo); !strings.Contains(out, namedInTables) {
		t.Errorf("$%s: names not shown:\n%s%s", GroupNamesEnv, out, errOut)
	}
	t.Setenv(GroupNamesEnv, "/nonexistent/names.json")
	if _, errOut, code := run(t, "who-can", "get", "secrets", "-f", demo); code != ExitError || !strings.Contains(errOut, GroupNamesEnv) {
		t.Errorf("a missing names file from the environment: code %d, %q", code, errOut)
	}
	t.Setenv(GroupNamesEnv, "")

	broken := filepath.Join(t.TempDir(), "broken.json")
	if err := writeFile(broken, "{not json"); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, "config", "set", "group-names", broken); code != ExitError || !strings.Contains(errOut, "not a JSON object") {
		t.Errorf("config set with a broken file: code %d, %q", code, errOut)
	}
	out, errOut, code := run(t, "config", "set", "group-names", demoNames)
	cfg := filepath.Join(cfgHome, "kubectl-access", "config.json")
	st, err := os.Stat(cfg)
	if code != ExitOK || err != nil || st.Mode().Perm() != 0o600 || !strings.Contains(out, "(5 groups)") {
		t.Fatalf("config set: code %d %v %v\n%s%s", code, err, st, out, errOut)
	}
	byID, _, _ := run(t, "what-can", "group:"+payDevs, "-f", demo)
	if byName, errOut, code := run(t, "what-can", "group:"+payDevsName, "-f", demo); code != ExitOK || byName != byID || !strings.Contains(byID, "payments") {
		t.Errorf("what-can by the config's name: code %d %s\n%s\nwant\n%s", code, errOut, byName, byID)
	}
	for _, args := range [][]string{
		{"who-can", "get", "secrets", "-n", "payments", "-f", demo},
		{"audit", "-f", demo, "--width", "0"},
	} {
		out, errOut, code := run(t, args...)
		if code != ExitOK || !strings.Contains(out, payDevs) || !strings.Contains(out, payDevsName) {
			t.Errorf("%v with the config's names: code %d %s\n%s", args, code, errOut, out)
		}
	}
	if out, _, _ := run(t, "config", "view"); !strings.Contains(out, "group-names: ") || !strings.Contains(out, "group-names.json") {
		t.Errorf("config view:\n%s", out)
	}
	if _, _, code := run(t, "config", "unset", "group-names"); code != ExitOK {
		t.Errorf("config unset: %d", code)
	}
	if out, _, _ := run(t, "who-can", "get", "secrets", "-n", "payments", "-f", demo); out != plainOut {
		t.Errorf("names still shown after config unset:\n%s", out)
	}
}

// TestNamesFileCannotSteerAnswers: a names file giving an Entra group the
// display name "system:masters" is refused, naming the entry, and never
// makes `can group:system:masters` or `--group system:masters` answer for
// that group (issue 28, E).
func TestNamesFileCannotSteerAnswers(t *testing.T) {
	const evil = "0d1b1bd6-52b4-4d2c-9a0e-2d5b8f7c1a11"
	names := filepath.Join(t.TempDir(), "names.json")
	if err := os.WriteFile(names, []byte(`{"`+evil+`": "system:masters"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"can", "group:system:masters", "delete", "nodes"},
		{"can", "user:x", "--group", "system:masters", "delete", "nodes"},
	} {
		out, errOut, code := run(t, append(args, "-f", "testdata/team.yaml", "--group-names", names)...)
		if code != ExitError || !strings.Contains(errOut, evil) || !strings.Contains(errOut, "system:") {
			t.Errorf("%v: exit %d, want the names file refused naming %s\n%s%s", args, code, evil, out, errOut)
		}
	}
	if out, errOut, code := run(t, "can", "group:system:masters", "delete", "nodes", "-f", "testdata/team.yaml"); code != ExitOK {
		t.Errorf("without the names file, system:masters may delete nodes: exit %d\n%s%s", code, out, errOut)
	}
}
