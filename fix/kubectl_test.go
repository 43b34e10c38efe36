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

// TestKubectlOrderAndChain: the commands run the removals first and the
// creates last, as Apply does, joined with && so that a step that fails
// stops the rest: a narrowing fix whose ClusterRoleBinding could not be
// removed (its guard failed, or the delete did) creates no RoleBinding.
func TestKubectlOrderAndChain(t *testing.T) {
	rb, _ := json.Marshal(map[string]any{"apiVersion": rbac.RBACAPIVersion, "kind": "RoleBinding", "metadata": map[string]any{"name": "narrowed", "namespace": "ci"}})
	fx := &Fix{Finding: "workload-create-0123456789", Description: "narrow", Operations: []Operation{
		{Action: Create, Target: rbac.ObjectRef{Kind: "RoleBinding", Name: "narrowed", Namespace: "ci"}, Object: rb},
		{Action: Patch, Target: rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: "shared"}, Patch: []PatchOp{{Op: "test", Path: "/subjects/0/name", Value: "x"}, {Op: "remove", Path: "/subjects/0"}}},
		{Action: Delete, Target: rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: "wide"}, Guard: []PatchOp{{Op: "test", Path: "/subjects", Value: []any{}}}},
	}}
	sh := Kubectl(fx)
	lines := strings.Split(strings.TrimSuffix(sh, "\n"), "\n")
	for i, l := range lines[1 : len(lines)-1] {
		if !strings.HasSuffix(l, " && \\") {
			t.Errorf("line %d does not chain to the next: %q", i+2, l)
		}
	}
	patch, del, create := strings.Index(sh, "kubectl patch clusterrolebinding 'shared'"), strings.Index(sh, "kubectl delete --raw '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/wide'"), strings.Index(sh, "kubectl create -f -")
	if patch < 0 || del < patch || create < del {
		t.Errorf("not removals first, then the create:\n%s", sh)
	}

	// Run with a kubectl that fails at one step: nothing after it runs.
	dir := t.TempDir()
	fake := "#!/bin/sh\necho \"$1 $2 $3\" >> \"$LOG\"\ncase \"$1 $3\" in \"$FAIL\") exit 1;; esac\n[ \"$1\" = patch ] && case \" $* \" in *' -o '*) echo '{}';; esac\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "kubectl"), []byte(fake), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fail string // the step that fails: kubectl's first and third arguments
		ran  []string
	}{
		{"", []string{"patch clusterrolebinding shared", "patch clusterrolebinding wide", "delete --raw /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/wide", "create -f -"}},
		{"patch shared", []string{"patch clusterrolebinding shared"}},
		{"patch wide", []string{"patch clusterrolebinding shared", "patch clusterrolebinding wide"}},
		{"delete /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/wide", []string{"patch clusterrolebinding shared", "patch clusterrolebinding wide", "delete --raw /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/wide"}},
	} {
		log := filepath.Join(t.TempDir(), "log")
		cmd := exec.Command("bash", "-c", sh)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "LOG="+log, "FAIL="+tc.fail)
		err := cmd.Run()
		if (err != nil) != (tc.fail != "") {
			t.Errorf("failing at %q: bash returned %v", tc.fail, err)
		}
		b, _ := os.ReadFile(log)
		got, want := strings.Split(strings.TrimSpace(string(b)), "\n"), tc.ran
		if !slices.Equal(got, want) {
			t.Errorf("failing at %q, kubectl ran %q, want %q", tc.fail, got, want)
		}
	}
}
