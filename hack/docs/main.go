// Command docs is `make docs`: it writes the command reference, generated
// from the commands, to docs/reference.md (cmd.ReferenceFile), which
// cmd's TestCommandReference checks. Run it from the repository's root.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/cmd"
)

func main() {
	page := cmd.ReferencePage(cmd.NewCmdAccess(genericiooptions.NewTestIOStreamsDiscard()))
	if err := os.MkdirAll(filepath.Dir(cmd.ReferenceFile), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	if err := os.WriteFile(cmd.ReferenceFile, []byte(page), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
}
