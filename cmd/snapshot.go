package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/document"
	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// SnapshotOptions write the normalized snapshot.
type SnapshotOptions struct {
	*RootOptions
	Input  InputOptions
	Output *OutputFlag
	Fleet  *FleetFlags
	Dir    string
	// Overwrite lets --dir replace a fleet's files written before (and
	// --entra its file).
	Overwrite bool
	// Entra is --entra FILE: the directory of the groups the cluster
	// names, read from Microsoft Graph, written beside the snapshot.
	Entra string
}

// NewCmdSnapshot returns `kubectl access snapshot`.
func NewCmdSnapshot(r *RootOptions) *cobra.Command {
	o := &SnapshotOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "snapshot",
		Short: "Write the cluster's RBAC objects as one document, for offline use with -f",
		Long: `snapshot writes what the checks read of the cluster (RBAC, namespaces, service
accounts, pods' identities, nodes, gMSA credential specs, admission webhooks
and the node authorization probes) as one document, so that every command
answers the same offline with -f.

With several clusters (--context more than once, --contexts GLOB or
--all-contexts) it writes one snapshot per cluster into --dir, with an index
(fleet.yaml) naming each cluster, its server and its file, and the clusters
that could not be read with why; audit, who-can and can read the directory
back as the same fleet with -f DIR. Files are written readable by you only,
never through a link; a fleet written before is replaced only with --overwrite.
Exit code 4 when some clusters could not be saved.`,
		Example: `  kubectl access snapshot -o yaml > cluster.snapshot.yaml
  kubectl access who-can get secrets -n payments -f cluster.snapshot.yaml

  # Every cluster of the kubeconfig, then audited offline as one fleet
  # (--overwrite replaces the fleet an earlier run saved there)
  kubectl access snapshot --all-contexts --dir fleet/ --overwrite
  kubectl access audit -f fleet/`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatYAML, FormatJSON)
	o.Fleet = addFleetFlags(c, r)
	c.Flags().StringVar(&o.Dir, "dir", "", "With several clusters: the directory to write a snapshot per cluster and fleet.yaml into (new, empty, or with --overwrite one written before)")
	c.Flags().StringVar(&o.Entra, "entra", "", "Also write to FILE (mode 0600) who is in each Entra group the cluster's bindings and Azure's assignments name, transitively, and who may activate membership through PIM, read from Microsoft Graph with the Entra sign-in: offline, --directory FILE answers about people as Graph does live")
	c.Flags().BoolVar(&o.Overwrite, "overwrite", false, "Let --dir replace the snapshots and fleet.yaml written there before (the files are replaced, never what a link points to)")
	return c
}

// Complete reads the names file.
func (o *SnapshotOptions) Complete(c *cobra.Command, _ []string) error {
	return o.Input.Complete(c.Context())
}

// Validate checks the flags.
func (o *SnapshotOptions) Validate() error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if err := o.Fleet.Validate(&o.Input); err != nil {
		return err
	}
	switch fleet := o.Fleet.On(&o.Input); {
	case fleet && o.Input.fleet != nil:
		return fmt.Errorf("-f %s is a fleet directory already: snapshot reads clusters (or one cluster's files)", o.Input.fleet.Dir)
	case fleet && o.Dir == "":
		return fmt.Errorf("several clusters are written as a snapshot each: give --dir DIR")
	case fleet && o.Entra != "":
		return fmt.Errorf("--entra writes one directory file for one cluster: snapshot each cluster with --context and --entra")
	case !fleet && o.Dir != "":
		return fmt.Errorf("--dir is for several clusters (--contexts, --all-contexts or --context more than once): one snapshot goes to standard output")
	}
	return nil
}

// Run loads everything and writes it.
func (o *SnapshotOptions) Run(ctx context.Context) error {
	if o.Fleet.On(&o.Input) {
		return o.runFleet(ctx)
	}
	app, err := o.App(ctx, &o.Input, needs{catalog: true})
	if err != nil {
		return err
	}
	sess, err := app.Open(ctx, loading.Full)
	if err != nil {
		return err
	}
	s := sess.Index.Snapshot()
	if app.Live() {
		s.Source = "context " + app.Origin.Context
		// Offline answers resolve names with the server's own discovery.
		s.Discovery = app.Catalog.Discovery()
	}
	warns := slices.Concat(app.Warnings, sess.Warnings, sess.Index.Warnings())
	for _, g := range s.Gaps {
		warns = append(warns, rbac.Warning{Code: rbac.WarnGap, Message: g.String()})
	}
	printWarnings(o.ErrOut, sess.Incomplete(), warns)
	if o.Entra != "" {
		if err := o.writeEntra(ctx, sess); err != nil {
			return err
		}
	}
	return writeSnapshot(o.Out, o.Output.Value, s)
}

// writeEntra reads the directory of the groups the session names from
// Microsoft Graph and writes it to --entra's file. Groups Graph could
// only read in part are warnings and gaps in the file, never left out
// silently.
func (o *SnapshotOptions) writeEntra(ctx context.Context, sess *access.Session) error {
	gp, ok := sess.App.People.(*auth.GraphPeople)
	if !ok {
		return fmt.Errorf("--entra reads Microsoft Graph with the cluster's Entra sign-in (a kubelogin kubeconfig, or --login), which this context does not use (or --no-graph or --directory was given)")
	}
	groups := sess.EntraGroups()
	dir, err := auth.ReadDirectory(ctx, gp.G, groups, 0)
	if err != nil && (dir == nil || !errors.Is(err, identity.ErrIncomplete)) {
		return fmt.Errorf("--entra: %w", err)
	}
	if err != nil {
		fmt.Fprintf(o.ErrOut, "Warning: --entra: %s\n", safe.Terminal(err.Error()))
	}
	for _, g := range dir.Gaps {
		fmt.Fprintf(o.ErrOut, "Warning: --entra: %s\n", safe.Terminal(g))
	}
	if err := files.Write(o.Entra, o.Overwrite, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(dir)
	}); err != nil {
		return fmt.Errorf("--entra: %w", err)
	}
	fmt.Fprintf(o.ErrOut, "Wrote the Entra directory of %d groups (%d objects) to %s\n", len(groups), len(dir.Objects), safe.Terminal(o.Entra))
	return nil
}

// writeSnapshot streams the snapshot's lists of objects.
func writeSnapshot(w io.Writer, format string, s *rbac.Snapshot) error {
	return document.Write(w, format, s)
}

// runFleet writes a snapshot per cluster and the index into --dir.
func (o *SnapshotOptions) runFleet(ctx context.Context) error {
	if err := fleetDir(o.Dir, o.Overwrite); err != nil {
		return err
	}
	fl, err := o.Fleet.Fleet(ctx, &o.Input, needs{catalog: true})
	if err != nil {
		return err
	}
	entries := make([]source.FleetEntry, len(fl.Members))
	taken := map[string]bool{}
	for i, m := range fl.Members {
		entries[i] = source.FleetEntry{Context: m.Context, Server: m.Server, File: source.FleetFileName(m.Context, taken)}
	}
	results := fl.Each(ctx, access.Whole, func(i int, s *access.Session) error {
		snap := s.Index.Snapshot()
		snap.Source = "context " + fl.Members[i].Context
		snap.Discovery = s.App.Catalog.Discovery()
		if err := files.Write(filepath.Join(o.Dir, entries[i].File), o.Overwrite, func(w io.Writer) error { return writeSnapshot(w, o.Output.Value, snap) }); err != nil {
			return err
		}
		entries[i].Incomplete = s.Incomplete()
		printWarnings(clusterErrOut(o.ErrOut, fl.Members[i].Context), s.Incomplete(), slices.Concat(s.App.Warnings, s.Warnings, s.Index.Warnings()))
		return nil
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	saved := 0
	for i, r := range results {
		if r.Err != nil {
			entries[i] = source.FleetEntry{Context: r.Context, Server: r.Server, Error: r.Err.Error()}
			fmt.Fprintf(o.ErrOut, "%s: not saved: %s\n", safe.Terminal(r.Context), safe.Error(r.Err))
			continue
		}
		saved++
	}
	if err := source.WriteFleetIndex(o.Dir, entries, o.Overwrite); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "Wrote %d of %d clusters' snapshots to %s (%s lists them): kubectl access audit -f %s\n",
		saved, len(entries), safe.Terminal(o.Dir), source.FleetIndexFile, safe.Terminal(safe.Shell(o.Dir)))
	if saved < len(entries) {
		return &ExitCodeError{Code: ExitIncomplete}
	}
	return nil
}

// fleetDir makes dir (0700) or checks that it is empty, or a fleet's
// with overwrite: snapshots are never written among other files, nor over
// a fleet's unasked.
func fleetDir(dir string, overwrite bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(dir, 0o700)
	case err != nil:
		return fmt.Errorf("--dir: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Lstat(filepath.Join(dir, source.FleetIndexFile)); err != nil {
		return fmt.Errorf("--dir %s holds other files and no %s: give a new or empty directory, or one snapshot --all-contexts wrote", dir, source.FleetIndexFile)
	}
	if !overwrite {
		return safe.Hint(fmt.Errorf("--dir %s holds a fleet written before (%s): not replaced", dir, source.FleetIndexFile),
			"pass --overwrite to replace its snapshots and index, or give a new directory")
	}
	return nil
}
