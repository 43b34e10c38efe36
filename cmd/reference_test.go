package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestCommandReference keeps docs/reference.md what the commands say of
// themselves; `make docs` regenerates it.
func TestCommandReference(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ReferenceFile))
	if err != nil {
		t.Fatalf("%v: run make docs", err)
	}
	want := ReferencePage(NewCmdAccess(genericiooptions.NewTestIOStreamsDiscard()))
	if got := string(b); got != want {
		t.Errorf("%s has drifted from the commands: run make docs\n%s", ReferenceFile, cmp.Diff(got, want))
	}
}

// TestEveryCommandHasExamples: every command a user can see shows how it is
// used, in its --help and so in the reference.
func TestEveryCommandHasExamples(t *testing.T) {
	root := NewCmdAccess(genericiooptions.NewTestIOStreamsDiscard())
	check := []*cobra.Command{root}
	for len(check) > 0 {
		c := check[0]
		check = append(check[1:], c.Commands()...)
		if c.Hidden || c.Name() == "help" || c.Parent() != nil && c.Parent().Name() == "completion" {
			continue // cobra's own per-shell completion commands carry their instructions as Long
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no examples", c.CommandPath())
		}
	}
}
