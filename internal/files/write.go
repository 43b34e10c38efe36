// Package files is how the program touches its own files: every file it
// writes (snapshots, the fleet index, the config, fix files, profiles)
// goes through Create or Write, and every side file it reads (names file,
// baseline, kubeconfig, config) through Open or Read.
package files

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File is a file being written; Commit puts it in place, Abort drops it.
type File struct {
	*os.File
	path string // where it goes
	tmp  bool   // written under another name, renamed over path by Commit
	done bool
}

// Create starts a new file at path, readable by its owner only (0600),
// never written through a link:
//
//   - without overwrite, path must not exist: it is created with O_EXCL
//     (and O_NOFOLLOW), which fails on any existing name, a link or a
//     dangling link included; the error wraps fs.ErrExist.
//   - with overwrite, the file is written under a random name created
//     O_EXCL in the same directory and renamed over path by Commit: a link
//     at path is replaced, what it points to is neither written nor
//     chmod'ed.
func Create(path string, overwrite bool) (*File, error) {
	if !overwrite {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%s exists (a file or a link): not replaced: %w", path, fs.ErrExist)
		}
		if err != nil {
			return nil, err
		}
		return private(&File{File: f, path: path})
	}
	f, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return nil, err
	}
	return private(&File{File: f, path: path, tmp: true})
}

// private makes the mode 0600 whatever the umask left: the file is ours,
// and new.
func private(f *File) (*File, error) {
	if err := f.Chmod(0o600); err != nil {
		f.Abort()
		return nil, err
	}
	return f, nil
}

// createTemp creates a file of a random name in dir with O_EXCL, never
// through a link planted at a guessed name.
func createTemp(dir, prefix string) (*os.File, error) {
	for range 100 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, prefix+hex.EncodeToString(b[:])), os.O_RDWR|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("%s: no free temporary name", dir)
}

// Commit closes the file and puts it in place.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name()) // best effort: the error returned is the one that matters
		return err
	}
	if f.tmp {
		if err := os.Rename(f.Name(), f.path); err != nil {
			_ = os.Remove(f.Name()) // best effort, as above
			return err
		}
	}
	return nil
}

// Abort closes and removes the file: nothing is left of it. After Commit
// it does nothing.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	// Best effort, and nothing to report to: Abort follows the error that
	// stopped the writing, which its caller returns.
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// Write writes path with what write writes, whole or not at all, as
// Create says: 0600, never through a link, an existing file replaced only
// with overwrite.
func Write(path string, overwrite bool, write func(io.Writer) error) error {
	f, err := Create(path, overwrite)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
