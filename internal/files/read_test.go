package files

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestReadRefusesWhatIsNotAFile: a FIFO (no writer: open(2) would block)
// and a device are refused at once, naming the path and what it is; a
// file over the cap is refused with the cap; stdin is read until ctx ends
// (issue 28, D).
func TestReadRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal("cannot make a FIFO to test with:", err)
	}
	small := filepath.Join(dir, "small")
	must(t, os.WriteFile(small, []byte("0123456789"), 0o600))
	for _, tc := range []struct {
		path string
		max  int64
		want string
	}{
		{fifo, 1 << 20, "a FIFO (named pipe)"},
		{"/dev/zero", 1 << 20, "a device"},
		{dir, 1 << 20, "a directory"},
		{small, 5, "the limit of 0 MiB"},
	} {
		done := make(chan error, 1)
		go func() {
			_, err := Read(t.Context(), Input{What: "--names", Path: tc.path, Max: tc.max})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) || !strings.HasPrefix(err.Error(), "--names ") {
				t.Errorf("Read(%s): %v, want an error naming it and %q", tc.path, err, tc.want)
			}
		case <-time.After(10 * time.Second):
			if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = f.Close() // opened only to unblock the reader
			}
			t.Fatalf("Read(%s) still blocked after 10s", tc.path)
		}
		if err := Check(Input{What: "--names", Path: tc.path, Max: tc.max}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%s): %v, want %q", tc.path, err, tc.want)
		}
	}
	if b, err := Read(t.Context(), Input{What: "--names", Path: small, Max: 10}); err != nil || string(b) != "0123456789" {
		t.Errorf("Read of a file at the cap: %q %v", b, err)
	}
	if err := Check(Input{What: "--names", Path: filepath.Join(dir, "missing"), Max: 1}); err != nil {
		t.Errorf("Check of a missing file: %v", err)
	}

	// Stdin that never ends: the context ends the wait.
	r, w := io.Pipe()
	defer func() { _ = w.Close() }() // a pipe's Close never fails
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := Read(ctx, Input{What: "--names", Path: "-", Max: 10, Stdin: r}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Read of a silent stdin: %v, want the context's end", err)
	}
}
