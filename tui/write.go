package tui

import (
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/fix"
)

// writeFix writes fx as a Fix document to DIR/ID.fix.yaml, mode 0600,
// headed by the kubectl commands that apply it.
func writeFix(dir string, fx *fix.Fix) (string, error) {
	doc, err := yaml.Marshal(fx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Written by kubectl access. Apply with:\n")
	for _, l := range strings.Split(strings.TrimSuffix(fix.Kubectl(fx), "\n"), "\n") {
		b.WriteString("#   " + l + "\n")
	}
	b.WriteString("# or: kubectl access fix " + fx.Finding + " --apply\n")
	b.Write(doc)
	path := filepath.Join(dir, fx.Finding+".fix.yaml")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, nil
}
