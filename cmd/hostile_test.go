package cmd

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/audit"
)

// Issue 14, items 1 and 2: names written by an attacker are data in every
// output. The fixture's names hold newlines, escape sequences, a bidi
// override and shell syntax.
const hostile = "testdata/hostile.yaml"

// unsafeForTerminal says what in s a terminal would act on: ESC, BEL, CR,
// other C0/C1 controls, bidi and invisible formatting characters. A table
// and a message may hold tabs and newlines of their own, nothing else.
func unsafeForTerminal(s string) []string {
	var found []string
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			found = append(found, strings.ReplaceAll(string(r), "\x1b", "ESC"))
		case r >= 0x200b && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029, r == 0xfeff:
			found = append(found, "U+bidi/format")
		}
	}
	return found
}

// forged says whether an output has a line an attacker wrote.
func forged(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "FAKE LINE") {
			return true
		}
	}
	return false
}

func TestHostileNamesAreDataInEveryOutput(t *testing.T) {
	names := filepath.Join(t.TempDir(), "names.json")
	if err := os.WriteFile(names, []byte(`{"g-\u001b[31mred\u001b[0m": "Team \u001b]0;TITLE\u0007Evil\r\nFAKE LINE: admin"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"-f", hostile, "--group-names", names}
	var id string
	{
		js, errOut, code := run(t, append([]string{"audit", "-o", "json", "--only", "secrets-read"}, base...)...)
		var rep audit.Report
		if err := json.Unmarshal([]byte(js), &rep); err != nil || code != ExitOK {
			t.Fatalf("audit -o json: %d %v\n%s", code, err, errOut)
		}
		i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool { return strings.Contains(f.Message, "user:mallory") })
		if i < 0 {
			t.Fatalf("no secrets-read finding for mallory: %+v", rep.Findings)
		}
		id = rep.Findings[i].ID
	}
	for _, args := range [][]string{
		{"who-can", "get", "secrets", "-A"},
		{"who-can", "get", "secrets", "-A", "-o", "wide"},
		{"who-can", "get", "secrets", "db-$(touch PWNED3)", "-n", "hostile", "-o", "wide"},
		{"what-can", "user:eve\r\nFAKE LINE: group:system:masters", "-o", "wide"},
		{"what-can", "group:g-\x1b[31mred\x1b[0m"},
		{"can", "user:bidi-\u202eevil\u202c", "get", "secrets", "db-$(touch PWNED3)", "-n", "hostile"},
		{"can", "user:eve\r\nFAKE LINE: group:system:masters", "delete", "secrets", "-n", "hostile"},
		{"audit"},
		{"audit", "-o", "wide", "--width", "0"},
		{"fix", id},
		{"fix", "secrets-read-\x1b]0;x\x07"},
		{"snapshot", "-o", "yaml"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, code := run(t, append(args, base...)...)
			if code == ExitError && args[0] != "fix" {
				t.Fatalf("exit %d\n%s", code, errOut)
			}
			for _, stream := range []string{out, errOut} {
				if args[0] == "snapshot" && stream == out {
					continue // YAML: the data as it is, quoted and escaped by YAML
				}
				if bad := unsafeForTerminal(stream); len(bad) > 0 || forged(stream) {
					t.Errorf("output a terminal would act on (%v, forged line %v):\n%q", bad, forged(stream), stream)
				}
			}
		})
	}
	// Documents carry the data as it is: valid JSON and YAML whose strings
	// hold exactly the names, for scripts.
	js, _, _ := run(t, append([]string{"who-can", "get", "secrets", "db-$(touch PWNED3)", "-n", "hostile", "-o", "json"}, base...)...)
	if !json.Valid([]byte(js)) || !strings.Contains(js, `eve\r\nFAKE LINE`) || !strings.Contains(js, `\u001b]0;PWNED-TITLE\u0007`) {
		t.Errorf("who-can -o json does not carry the names as data:\n%s", js)
	}
	y, _, _ := run(t, append([]string{"who-can", "get", "secrets", "db-$(touch PWNED3)", "-n", "hostile", "-o", "yaml"}, base...)...)
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(y), &doc); err != nil || !strings.Contains(mustJSON(doc), `eve\r\nFAKE LINE`) {
		t.Errorf("who-can -o yaml does not round-trip the names: %v", err)
	}
	sarif, _, _ := run(t, append([]string{"audit", "-o", "sarif"}, base...)...)
	if !json.Valid([]byte(sarif)) {
		t.Error("SARIF is not valid JSON")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestFixCommandsRunNoNameAsCode: the fix's shell commands, run by a real
// shell with a kubectl that records its arguments, run nothing an object
// name holds, and hand kubectl each name whole (issue 14, item 1).
func TestFixCommandsRunNoNameAsCode(t *testing.T) {
	js, _, _ := run(t, "audit", "-f", hostile, "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	// kubectl: one line of its arguments, NUL-separated, per call; stdin
	// appended.
	fake := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> \"$KUBECTL_LOG\"; done; echo >> \"$KUBECTL_LOG\"; [ \"$2\" = -f ] && cat >> \"$KUBECTL_LOG\"; exit 0\n"
	if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte(fake), 0o700); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, f := range rep.Findings {
		if !f.Fixable {
			continue
		}
		for _, extra := range [][]string{nil, {"--narrow"}} {
			script, errOut, code := run(t, append([]string{"fix", f.ID, "-f", hostile, "-o", "kubectl", "--allow-lockout"}, extra...)...)
			if code != ExitOK {
				continue // no fix of this kind for this finding: --narrow is for some only
			}
			_ = errOut
			log := filepath.Join(dir, "kubectl.log")
			if err := os.Remove(log); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			cmd := exec.Command("bash", "-c", script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "KUBECTL_LOG="+log)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s %v: the commands fail in bash: %v\n%s\n%s", f.ID, extra, err, out, script)
			}
			for _, pwned := range []string{"PWNED2", "PWNED3", "PWNED4", "PWNED5", "PASTEPWNED"} {
				if _, err := os.Stat(filepath.Join(dir, pwned)); err == nil {
					t.Fatalf("%s %v: running the fix created %s: a name ran as a command:\n%s", f.ID, extra, pwned, script)
				}
			}
			got, _ := os.ReadFile(log)
			if strings.Contains(script, "nl-test") && !strings.Contains(string(got), "nl-test\ntouch PWNED2\n#") {
				t.Errorf("%s: kubectl did not get the binding's name whole:\n%q", f.ID, got)
			}
			ran++
		}
	}
	if ran < 3 {
		t.Fatalf("only %d fixes were run; the fixture should give more", ran)
	}
}

// TestFixOutputIsPrintable: every fix of the hostile fixture, as `fix ID`
// prints it for a person and as -o kubectl prints it for a shell, holds
// nothing a terminal acts on and nothing that runs when pasted: a binding
// named to clear the screen and retitle the terminal shows as escapes,
// one named with ^C and \r is quoted as $'...' (issue 28, A and B).
func TestFixOutputIsPrintable(t *testing.T) {
	js, _, _ := run(t, "audit", "-f", hostile, "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		if !f.Fixable {
			continue
		}
		for _, format := range []string{"table", "kubectl"} {
			out, errOut, code := run(t, "fix", f.ID, "-f", hostile, "-o", format, "--allow-lockout")
			if code != ExitOK {
				t.Errorf("fix %s -o %s: exit %d\n%s", f.ID, format, code, errOut)
				continue
			}
			if bad := unsafeForTerminal(out + errOut); len(bad) > 0 || forged(out) {
				t.Errorf("fix %s -o %s: output a terminal would act on (%v, forged line %v):\n%q", f.ID, format, bad, forged(out), out)
			}
			for _, l := range strings.Split(out, "\n") {
				if strings.ContainsAny(l, "\t\x03\r") {
					t.Errorf("fix %s -o %s: a line a paste would act on: %q", f.ID, format, l)
				}
			}
			for _, want := range []string{`crb\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[31mRED`, `pj3\x03 x; touch PASTEPWNED\r#`} {
				if strings.Contains(out, want) {
					seen[format+" "+want] = true
				}
			}
		}
	}
	if len(seen) != 4 {
		t.Errorf("the fixes of the issue-28 bindings were not all printed (as escapes): %v", seen)
	}
}
