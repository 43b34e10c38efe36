package cmd

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestREADMECommandReference keeps the README's command reference what the
// commands say of themselves; `make docs` regenerates it.
func TestREADMECommandReference(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- command reference: begin -->\n", "<!-- command reference: end -->"
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatal("README.md lacks the command reference markers")
	}
	want := Reference(NewCmdAccess(genericiooptions.NewTestIOStreamsDiscard()))
	if got := s[i+len(begin) : j]; got != want {
		t.Errorf("the README's command reference has drifted from the commands: run make docs\n%s", cmp.Diff(got, want))
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
