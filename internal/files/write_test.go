package files

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func write(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// TestWriteNeverFollowsALink: a link, a dangling link or a file at the
// name is refused without overwrite (nothing written anywhere); with
// overwrite the name is replaced by a new 0600 file and a link's target
// is neither written nor chmod'ed; a failed write leaves nothing.
func TestWriteNeverFollowsALink(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plant func(t *testing.T, path, target string)
	}{
		{"link", func(t *testing.T, path, target string) { must(t, os.Symlink(target, path)) }},
		{"dangling link", func(t *testing.T, path, target string) { must(t, os.Symlink(target+"-new", path)) }},
		{"file", func(t *testing.T, path, _ string) { must(t, os.WriteFile(path, []byte("old"), 0o644)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(dir, "precious")
			must(t, os.WriteFile(target, []byte("keep me"), 0o644))
			path := filepath.Join(dir, "out.yaml")
			tc.plant(t, path, target)
			if err := Write(path, false, write("new")); !errors.Is(err, fs.ErrExist) {
				t.Errorf("without overwrite: %v, want fs.ErrExist", err)
			}
			if _, err := os.Lstat(target + "-new"); err == nil {
				t.Error("a dangling link's target was created")
			}
			if err := Write(path, true, write("new")); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(target); string(b) != "keep me" {
				t.Errorf("the target was written: %q", b)
			}
			if st, _ := os.Stat(target); st.Mode().Perm() != 0o644 {
				t.Errorf("the target was chmod'ed: %v", st.Mode())
			}
			fi, err := os.Lstat(path)
			if b, _ := os.ReadFile(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 || string(b) != "new" {
				t.Errorf("%s: %v %q %v, want a 0600 file of new", path, fi.Mode(), b, err)
			}
			if err := Write(path, true, func(io.Writer) error { return errors.New("boom") }); err == nil {
				t.Error("a failed write succeeded")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 2 {
				t.Errorf("a failed write left files: %v", entries)
			}
		})
	}
}

// TestCreateIsPrivate: a new file is 0600 whatever the umask allows, and
// an aborted one is gone.
func TestCreateIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new")
	f, err := Create(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := f.Stat(); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	f.Abort()
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an aborted file is left: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
