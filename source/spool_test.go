package source

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestStdinSpooled: stdin is read through a temporary file of the user's
// alone, removed once read, whether the read succeeds, fails, is over
// the size limit or is given up on (Ctrl-C while the pipe stays open);
// messages name <stdin>, never the temporary file.
func TestStdinSpooled(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	left := func(what string) {
		t.Helper()
		if es, _ := os.ReadDir(tmp); len(es) != 0 {
			t.Errorf("%s: %d files left in TMPDIR (%s)", what, len(es), es[0].Name())
		}
	}
	const role = `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r","namespace":"a"}}`
	res, err := Read(t.Context(), []string{"-"}, ReadOptions{Stdin: strings.NewReader(role)})
	if err != nil || len(res.Snapshot.Roles) != 1 {
		t.Fatalf("read: %v %+v", err, res)
	}
	left("read")

	_, err = Read(t.Context(), []string{"-"}, ReadOptions{Stdin: strings.NewReader(`{"kind": `)})
	if err == nil || !strings.Contains(err.Error(), "<stdin>") || strings.Contains(err.Error(), tmp) {
		t.Errorf("broken input: %v", err)
	}
	left("broken input")

	_, err = Read(t.Context(), []string{"-"}, ReadOptions{Stdin: strings.NewReader(strings.Repeat(" ", 2000) + role), MaxBytes: 1000})
	if err == nil || !strings.Contains(err.Error(), "<stdin>") || !strings.Contains(err.Error(), "limit") {
		t.Errorf("over the limit: %v", err)
	}
	left("over the limit")

	// A pipe that never ends: the read gives up when the context does.
	pr, pw := io.Pipe()
	defer func() { _ = pw.Close() }()
	go func() { _, _ = pw.Write([]byte(role[:20])) }()
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Read(ctx, []string{"-"}, ReadOptions{Stdin: pr})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("stdin held open: %v after %s", err, time.Since(start))
	}
	left("given up on")

	// The temporary file is the user's alone while it exists.
	f, err := os.CreateTemp("", "probe-*")
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	_ = f.Close()
	_ = os.Remove(f.Name())
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("os.CreateTemp makes %v, not 0600", fi.Mode().Perm())
	}
}
