// Command docs is `make docs`: it writes the command reference, generated
// from the commands, into README.md between its markers.
package main

import (
	"fmt"
	"os"
	"strings"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/cmd"
)

const begin, end = "<!-- command reference: begin -->\n", "<!-- command reference: end -->"

func main() {
	b, err := os.ReadFile("README.md")
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	out, err := Splice(string(b), cmd.Reference(cmd.NewCmdAccess(genericiooptions.NewTestIOStreamsDiscard())))
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	if err := os.WriteFile("README.md", []byte(out), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
}

// Splice puts ref between the README's markers.
func Splice(readme, ref string) (string, error) {
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md lacks the markers %q and %q", strings.TrimSpace(begin), end)
	}
	return readme[:i+len(begin)] + ref + readme[j:], nil
}
