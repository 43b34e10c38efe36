package fix

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestKubectlIsPasteSafe: the commands of a fix whose names hold control
// characters (a title-setting OSC, a screen clear, ^C and \r, a bidi
// override, an Azure assignment id with a newline) are printable text:
// shown, copied or pasted, nothing in them acts on the terminal or ends a
// line early, and no line is forged (issue 28, A and B). Run by bash, they
// give kubectl and az each name whole and run none of it.
func TestKubectlIsPasteSafe(t *testing.T) {
	const (
		crb    = "crb\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b[31mRED"
		paste  = "pj3\x03 x; touch PASTEPWNED\r#"
		ns     = "ns\u202eevil\x7f"
		assign = "/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/r1\nFAKE LINE: az role assignment delete --ids everything"
		scope  = "/subscriptions/s/rg\r\nFAKE LINE: scope"
	)
	created, _ := json.Marshal(map[string]any{"apiVersion": rbac.RBACAPIVersion, "kind": "RoleBinding",
		"metadata": map[string]any{"name": "new\u0085\u2028" + paste, "namespace": ns}})
	azObject, _ := json.Marshal(map[string]any{"properties": map[string]any{"scope": scope, "roleDefinitionId": "role\x1b[31m",
		"principalId": "p\u202e", "principalType": "User"}})
	fx := &Fix{Finding: "secrets-read-0123456789", Description: "remove user:mallory from " + crb,
		Operations: []Operation{
			{Action: Patch, Target: rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: crb},
				Patch: []PatchOp{{Op: "test", Path: "/subjects/0/name", Value: "mallory\u202e\x7f"}, {Op: "remove", Path: "/subjects/0"}}},
			{Action: Delete, Target: rbac.ObjectRef{Kind: "RoleBinding", Name: paste, Namespace: ns},
				Guard: []PatchOp{{Op: "test", Path: "/metadata/name", Value: paste}}},
			{Action: Create, Target: rbac.ObjectRef{Kind: "RoleBinding", Name: "new", Namespace: ns}, Object: created},
			{Action: Delete, Target: rbac.ObjectRef{APIVersion: AzureAPIVersion, Kind: AzureKind, Name: assign}},
			{Action: Create, Target: rbac.ObjectRef{APIVersion: AzureAPIVersion, Kind: AzureKind, Name: scope + "/roleAssignments/n\x03ew"}, Object: azObject},
		}}
	sh := Kubectl(fx)
	for i, l := range strings.Split(strings.TrimSuffix(sh, "\n"), "\n") {
		for _, r := range l {
			if r != ' ' && !unicode.IsPrint(r) {
				t.Errorf("line %d holds %U: not safe to show, copy or paste: %q", i+1, r, l)
			}
		}
		if strings.HasPrefix(strings.TrimSpace(l), "FAKE LINE") {
			t.Errorf("line %d is forged: %q", i+1, l)
		}
	}
	if safe.Lines(sh) != sh {
		t.Errorf("the terminal escaper changes the commands: they held something it acts on:\n%q", sh)
	}

	// Run: a kubectl and an az that log their arguments, NUL-separated.
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	fake := "#!/bin/sh\nprintf '%s\\0' \"$(basename \"$0\")\" \"$@\" >> \"$LOG\"; [ \"$2\" = -f ] && cat >> \"$LOG\"; exit 0\n"
	for _, name := range []string{"kubectl", "az"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(fake), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(dir, "log")
	cmd := exec.Command("bash", "-c", sh)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "LOG="+log)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bash: %v\n%s\n%s", err, out, sh)
	}
	if _, err := os.Stat(filepath.Join(dir, "PASTEPWNED")); err == nil {
		t.Fatal("running the commands created PASTEPWNED")
	}
	b, _ := os.ReadFile(log)
	args := strings.Split(string(b), "\x00")
	for _, want := range []string{crb, paste, ns, assign, scope, "role\x1b[31m", "p\u202e", "n\x03ew"} {
		if !slices.Contains(args, want) {
			t.Errorf("no command got %q whole: %q", want, args)
		}
	}
	if !strings.Contains(string(b), string(created)) {
		t.Errorf("kubectl create did not get the object as it is: %q", b)
	}
}
