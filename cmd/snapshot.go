package cmd

import (
	"context"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// SnapshotOptions write the normalized snapshot.
type SnapshotOptions struct {
	*RootOptions
	Input  InputOptions
	Output *OutputFlag
}

// NewCmdSnapshot returns `kubectl access snapshot`.
func NewCmdSnapshot(r *RootOptions) *cobra.Command {
	o := &SnapshotOptions{RootOptions: r}
	c := &cobra.Command{
		Use:   "snapshot",
		Short: "Write the cluster's RBAC objects as one document, for offline use with -f",
		Example: `  kubectl access snapshot -o yaml > cluster.snapshot.yaml
  kubectl access who-can get secrets -n payments -f cluster.snapshot.yaml`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.Input.AddFlags(c)
	o.Output = AddOutputFlag(c, FormatYAML, FormatJSON)
	return c
}

// Complete reads the names file.
func (o *SnapshotOptions) Complete(*cobra.Command, []string) error { return o.Input.Complete() }

// Validate checks the flags.
func (o *SnapshotOptions) Validate() error { return o.Output.Validate() }

// Run loads everything and writes it.
func (o *SnapshotOptions) Run(ctx context.Context) error {
	app, err := o.App(ctx, &o.Input, needs{})
	if err != nil {
		return err
	}
	sess, err := app.Open(ctx, source.Full)
	if err != nil {
		return err
	}
	s := sess.Index.Snapshot()
	if app.Live() {
		s.Source = "context " + app.Origin.Context
	}
	warns := slices.Concat(app.Warnings, sess.Warnings, sess.Index.Warnings())
	for _, g := range s.Gaps {
		warns = append(warns, rbac.Warning{Code: rbac.WarnGap, Message: g.String()})
	}
	printWarnings(o.ErrOut, sess.Incomplete(), warns)
	return writeSnapshot(o.Out, o.Output.Value, s)
}

// writeSnapshot streams the snapshot's lists of objects.
func writeSnapshot(w io.Writer, format string, s *rbac.Snapshot) error {
	doc := *s
	doc.Namespaces, doc.ServiceAccounts = firstOf(s.Namespaces), firstOf(s.ServiceAccounts)
	doc.Roles, doc.ClusterRoles = firstOf(s.Roles), firstOf(s.ClusterRoles)
	doc.RoleBindings, doc.ClusterRoleBindings = firstOf(s.RoleBindings), firstOf(s.ClusterRoleBindings)
	doc.Pods, doc.Nodes = firstOf(s.Pods), firstOf(s.Nodes)
	return writeDoc(w, format, &doc,
		listOf("namespaces", s.Namespaces), listOf("serviceAccounts", s.ServiceAccounts),
		listOf("roles", s.Roles), listOf("clusterRoles", s.ClusterRoles),
		listOf("roleBindings", s.RoleBindings), listOf("clusterRoleBindings", s.ClusterRoleBindings),
		listOf("pods", s.Pods), listOf("nodes", s.Nodes))
}
