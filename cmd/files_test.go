package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// plantLink makes a file the user cares about and a link to it at link:
// what an attacker with write access to a shared directory plants where
// the tool will write.
func plantLink(t *testing.T, link string) (target string) {
	t.Helper()
	target = filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return target
}

// untouched fails the test when the link's target was written or chmod'ed.
func untouched(t *testing.T, target string) {
	t.Helper()
	b, _ := os.ReadFile(target)
	st, err := os.Stat(target)
	if err != nil || string(b) != "keep me" || st.Mode().Perm() != 0o644 {
		t.Errorf("the link's target was written (%q) or chmod'ed (%v): %v", b, st.Mode(), err)
	}
}

// regular0600 fails the test unless path is a regular file of mode 0600.
func regular0600(t *testing.T, path string) {
	t.Helper()
	if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: want a regular 0600 file, got %v (%v)", path, fi.Mode(), err)
	}
}

// unreachableKubeconfig has two contexts whose server refuses connections
// at once: snapshot --contexts writes an index of two failures, offline.
func unreachableKubeconfig(t *testing.T) string {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	y := `apiVersion: v1
kind: Config
clusters:
- {name: down, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}
users:
- {name: u, user: {token: not-a-secret}}
contexts:
- {name: c1, context: {cluster: down, user: u}}
- {name: c2, context: {cluster: down, user: u}}
current-context: c1
`
	if err := os.WriteFile(kc, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

// TestSnapshotDirNeverFollowsALink: a link planted at DIR/fleet.yaml is
// neither followed nor chmod'ed; a directory holding a fleet written
// before is replaced only with --overwrite, and then the link itself is
// replaced (issue 28, C).
func TestSnapshotDirNeverFollowsALink(t *testing.T) {
	kc := unreachableKubeconfig(t)
	dir := t.TempDir()
	target := plantLink(t, filepath.Join(dir, "fleet.yaml"))
	_, errOut, code := run(t, "snapshot", "--contexts", "c*", "--kubeconfig", kc, "--dir", dir)
	if code != ExitError || !strings.Contains(errOut, "--overwrite") {
		t.Errorf("snapshot --dir over a link without --overwrite: code %d\n%s", code, errOut)
	}
	untouched(t, target)
	_, errOut, code = run(t, "snapshot", "--contexts", "c*", "--kubeconfig", kc, "--dir", dir, "--overwrite")
	if code != ExitIncomplete {
		t.Errorf("snapshot --dir --overwrite: code %d\n%s", code, errOut)
	}
	untouched(t, target)
	regular0600(t, filepath.Join(dir, "fleet.yaml"))
}

// TestSnapshotDirKeepsAFleetWrittenBefore: without --overwrite, a
// directory holding a fleet is an error that says what to do, and its
// files are as they were.
func TestSnapshotDirKeepsAFleetWrittenBefore(t *testing.T) {
	kc := unreachableKubeconfig(t)
	dir := brokenFleet(t)
	before, _ := os.ReadFile(filepath.Join(dir, "fleet.yaml"))
	_, errOut, code := run(t, "snapshot", "--contexts", "c*", "--kubeconfig", kc, "--dir", dir)
	if code != ExitError || !strings.Contains(errOut, "--overwrite") {
		t.Errorf("snapshot into a fleet written before: code %d\n%s", code, errOut)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "fleet.yaml")); string(after) != string(before) {
		t.Errorf("fleet.yaml was replaced without --overwrite:\n%s", after)
	}
}

// TestConfigNeverWritesThroughALink: config set writes its config through
// a temporary file of a random name, never a link planted at a guessable
// one, and replaces a link at config.json rather than its target.
func TestConfigNeverWritesThroughALink(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv(GroupNamesEnv, "")
	dir := filepath.Join(home, "kubectl-access")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tmpTarget := plantLink(t, filepath.Join(dir, "config.json.tmp"))
	cfgTarget := plantLink(t, filepath.Join(dir, "config.json"))
	if err := os.WriteFile(cfgTarget, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := run(t, "config", "set", "group-names", "../testdata/demo/group-names.json"); code != ExitOK {
		t.Fatalf("config set: code %d\n%s\n%s", code, out, errOut)
	}
	untouched(t, tmpTarget)
	if b, _ := os.ReadFile(cfgTarget); string(b) != "{}" {
		t.Errorf("config.json's link target was written: %q", b)
	}
	regular0600(t, filepath.Join(dir, "config.json"))
	if b, _ := os.ReadFile(filepath.Join(dir, "config.json")); !strings.Contains(string(b), "group-names.json") {
		t.Errorf("config.json: %s", b)
	}
}

// TestProfileNeverFollowsALink: --profile-output is created new, never
// through a link.
func TestProfileNeverFollowsALink(t *testing.T) {
	link := filepath.Join(t.TempDir(), "profile.pprof")
	target := plantLink(t, link)
	if _, errOut, code := run(t, "version", "--profile", "heap", "--profile-output", link); code != ExitError || !strings.Contains(errOut, "exists") {
		t.Errorf("--profile-output over a link: code %d\n%s", code, errOut)
	}
	untouched(t, target)
}

// within runs the command line and fails the test if it has not ended
// within a few seconds: a FIFO must not hang open(2) or read(2). The
// blocked opener, if any, is released by opening the FIFO's other end.
func within(t *testing.T, fifo string, args ...string) (string, string, int) {
	t.Helper()
	type result struct {
		out, errOut string
		code        int
	}
	ch := make(chan result, 1)
	go func() {
		out, errOut, code := run(t, args...)
		ch <- result{out, errOut, code}
	}()
	select {
	case r := <-ch:
		return r.out, r.errOut, r.code
	case <-time.After(10 * time.Second):
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			_ = f.Close() // opened only to unblock the reader
		}
		t.Fatalf("%v: still running after 10s (blocked on the FIFO?)", args)
		return "", "", 0
	}
}

// TestSideFilesAreRegular: a FIFO or a device given as the names file, the
// baseline or the kubeconfig (by flag or by environment) is refused at
// once, with the path and what it is, rather than hanging in open(2)
// (deaf to Ctrl-C) or reading /dev/zero until memory runs out; a file
// over the cap is refused with the cap (issue 28, D).
func TestSideFilesAreRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal("cannot make a FIFO to test with:", err)
	}
	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 1<<40); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	const team = "testdata/team.yaml"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{"--group-names fifo", nil, []string{"who-can", "get", "pods", "-f", team, "--group-names", fifo}, []string{"--group-names", fifo, "FIFO"}},
		{"$KUBECTL_ACCESS_GROUP_NAMES fifo", map[string]string{GroupNamesEnv: fifo}, []string{"who-can", "get", "pods", "-f", team}, []string{fifo, "FIFO", GroupNamesEnv}},
		{"--group-names /dev/zero", nil, []string{"who-can", "get", "pods", "-f", team, "--group-names", "/dev/zero"}, []string{"/dev/zero", "device"}},
		{"--group-names huge", nil, []string{"who-can", "get", "pods", "-f", team, "--group-names", huge}, []string{huge, "MiB"}},
		{"--baseline fifo", nil, []string{"audit", "-f", team, "--baseline", fifo}, []string{"--baseline", fifo, "FIFO"}},
		{"--baseline /dev/zero", nil, []string{"audit", "-f", team, "--baseline", "/dev/zero"}, []string{"/dev/zero", "device"}},
		{"--kubeconfig fifo", nil, []string{"who-can", "get", "pods", "--kubeconfig", fifo}, []string{"kubeconfig", fifo, "FIFO"}},
		{"$KUBECONFIG fifo", map[string]string{"KUBECONFIG": filepath.Join(dir, "missing") + string(filepath.ListSeparator) + fifo}, []string{"who-can", "get", "pods"}, []string{"kubeconfig", fifo, "FIFO"}},
		{"--kubeconfig /dev/zero", nil, []string{"who-can", "get", "pods", "--kubeconfig", "/dev/zero"}, []string{"kubeconfig", "/dev/zero", "device"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(GroupNamesEnv, "")
			t.Setenv("XDG_CONFIG_HOME", t.TempDir())
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, errOut, code := within(t, fifo, tc.args...)
			if code != ExitError {
				t.Errorf("exit %d, want %d\n%s", code, ExitError, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("the error does not say %q:\n%s", w, errOut)
				}
			}
		})
	}
}
