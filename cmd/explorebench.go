package cmd

import (
	"encoding/json"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-access/kubectl-access/tui"
)

func init() { subcommands = append(subcommands, newCmdExplorerBench) }

// newCmdExplorerBench is a hidden command for `make bench`: it does what the
// explorer does up to its first screen (the same load, audit and model,
// rendered once at 160x50), then, with --filter, types the filter into the
// Subjects page one key at a time, rendering after each, as the program
// would. It prints the subjects on screen as JSON and the timings on stderr.
func newCmdExplorerBench(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ExploreOptions{queryOptions: queryOptions{flags: flags, IOStreams: streams, Timeout: 2 * time.Minute}}
	var filter string
	c := &cobra.Command{
		Use:    "explorer-bench",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			start := time.Now()
			if err := o.complete(true); err != nil {
				return err
			}
			d, err := (&explorerBackend{o: o}).Load(c.Context(), func(string) {})
			if err != nil {
				return err
			}
			m := tui.New(c.Context(), nil, tui.Options{Initial: d})
			m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
			_ = m.Screen()
			first := time.Since(start)
			if filter != "" {
				m.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
				for _, r := range filter {
					m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
					_ = m.Screen()
				}
			}
			fmt.Fprintf(o.ErrOut, "first screen %s, filtered %s\n", first, time.Since(start))
			return json.NewEncoder(o.Out).Encode(map[string]any{"subjects": m.MatchingSubjects()})
		},
	}
	c.Flags().StringVar(&filter, "filter", "", "Type this filter into the Subjects page")
	c.Flags().StringVarP(&o.Output, "output", "o", "json", "Always json")
	c.Flags().StringVar(&o.GroupNames, "group-names", "", "Group names file")
	return c
}
