package cmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// ReferenceFile is the command reference's page, from the repository's
// root: `make docs` (hack/docs) writes it, TestCommandReference checks it.
const ReferenceFile = "docs/reference.md"

// ReferencePage is the whole of ReferenceFile: a title, a note that it is
// generated, and Reference.
func ReferencePage(root *cobra.Command) string {
	return "# Command reference\n\n" +
		"<!-- Generated from the commands by `make docs` (go run ./hack/docs): do not edit; TestCommandReference fails when it drifts. -->\n\n" +
		"Every command of `kubectl access` as its `--help` describes it: synopsis, usage, examples and flags, " +
		"generated from the commands themselves (`make docs`); a test fails when it drifts. " +
		"The examples run against the demo cluster like every other example of the documentation. " +
		"What the commands answer and how they exit: [the commands](commands.md); " +
		"the documents and exit codes as a contract: [architecture](architecture.md#contracts).\n\n" +
		Reference(root)
}

// Reference renders the command reference from the commands themselves:
// each visible command's synopsis, usage, examples and its own flags (the
// kubectl flags every command shares are listed once, under the root).
func Reference(root *cobra.Command) string {
	var b strings.Builder
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		fmt.Fprintf(&b, "## `%s`\n\n%s\n\n```text\n%s\n```\n\n", c.CommandPath(), c.Short, strings.TrimSpace(c.UseLine()))
		if c.Example != "" {
			fmt.Fprintf(&b, "Examples:\n\n```sh\n%s\n```\n\n", strings.TrimRight(c.Example, "\n"))
		}
		flags := c.LocalNonPersistentFlags()
		if c == root {
			flags = c.LocalFlags() // the shared kubectl flags, once
		}
		u := flags.FlagUsagesWrapped(100)
		if home, err := os.UserHomeDir(); err == nil && home != "" {
			u = strings.ReplaceAll(u, home, "$HOME") // kubectl's --cache-dir default
		}
		if strings.TrimSpace(u) != "" {
			title := "Flags"
			if c == root {
				title = "Flags (the explorer's, and the kubectl flags every command takes)"
			}
			fmt.Fprintf(&b, "%s:\n\n```text\n%s```\n\n", title, u)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return strings.TrimRight(b.String(), "\n") + "\n"
}
