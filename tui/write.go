package tui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// writeFix writes fx as a Fix document to DIR/ID.fix.yaml, mode 0600,
// headed by the kubectl commands that apply it (as comments, each line
// escaped so no name can end the comment). It never writes through a
// symlink: a new file is created with O_EXCL (which fails on any existing
// name, a link included), and with overwrite an existing one is replaced
// by renaming a new file over it, which replaces a link, never its target.
func writeFix(dir string, fx *fix.Fix, overwrite bool) (string, error) {
	doc, err := yaml.Marshal(fx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Written by kubectl access. Apply with:\n")
	for _, l := range strings.Split(strings.TrimSuffix(fix.Kubectl(fx), "\n"), "\n") {
		b.WriteString("#   " + safe.ShellComment(l) + "\n")
	}
	b.WriteString("# or: kubectl access fix " + safe.ShellComment(fx.Finding) + " --apply\n")
	b.Write(doc)
	path := filepath.Join(dir, fx.Finding+".fix.yaml")
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if !overwrite {
		return path, create(path, b.String())
	}
	tmp, err := os.CreateTemp(dir, ".kubectl-access-fix-*")
	if err != nil {
		return "", err
	}
	if err := writeClose(tmp, b.String()); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return path, nil
}

// create writes a new file, refusing any existing name.
func create(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists (a file or a link): not overwritten; move it away first", path)
	}
	if err != nil {
		return err
	}
	return writeClose(f, content)
}

func writeClose(f *os.File, content string) error {
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
