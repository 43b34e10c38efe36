package tui

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// writeFix writes fx as a Fix document to DIR/ID.fix.yaml, mode 0600,
// headed by the kubectl commands that apply it (as comments, each line
// escaped so no name can end the comment). As files.Write does, it never
// writes through a link and replaces an existing file only with
// overwrite.
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
	err = files.Write(path, overwrite, func(w io.Writer) error {
		_, writeErr := io.WriteString(w, b.String())
		return writeErr
	})
	if errors.Is(err, fs.ErrExist) {
		return path, fmt.Errorf("%w; move it away first, or run with --overwrite", err)
	}
	return path, err
}
