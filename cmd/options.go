package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/azurearm"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// defaultTimeout bounds a load from the cluster, the sign-in included.
const defaultTimeout = 2 * time.Minute

// InputOptions are the flags of every command that reads a cluster or
// files: where the data comes from, how long loading may take, and the
// group names to show beside Entra ids.
type InputOptions struct {
	Filenames    []string
	Timeout      time.Duration
	GroupNames   string
	MaxInputSize int64
	// AzureClusterID is --azure-cluster-id.
	AzureClusterID string
	// AzureRBAC is --azure-rbac: read Azure role assignments from ARM.
	AzureRBAC bool
	// AzureFrom is --azure-rbac-from: Azure RBAC's data from files beside
	// a live cluster.
	AzureFrom []string
	// Directory are --directory's files: who is in which Entra group,
	// offline (snapshot --entra writes one); NoGraph is --no-graph;
	// GraphURL is Microsoft Graph's endpoint.
	Directory []string
	NoGraph   bool
	GraphURL  string

	names identity.Names
	// directory is what --directory's files say.
	directory *identity.Directory
	// fleet is -f's fleet directory (snapshot --all-contexts), if it is one.
	fleet *source.Fleet
}

// AddFlags adds -f, --timeout and --group-names.
func (in *InputOptions) AddFlags(c *cobra.Command) {
	c.Flags().StringSliceVarP(&in.Filenames, "filename", "f", nil, "Read manifests or a saved snapshot instead of a cluster: files, directories (recursive) or - for stdin")
	c.Flags().DurationVar(&in.Timeout, "timeout", defaultTimeout, "How long loading from the cluster may take (the sign-in included)")
	c.Flags().StringVar(&in.GroupNames, "group-names", "", "File of group object id -> display name (JSON or CSV): names shown beside Entra group ids, and group names accepted for ids; default $KUBECTL_ACCESS_GROUP_NAMES, else the file set with kubectl access config set group-names")
	in.addAzureFlags(c)
	in.addPeopleFlags(c)
	c.Flags().Int64Var(&in.MaxInputSize, "max-input-size", source.DefaultMaxBytes>>20, "With -f: the largest input file read, in MiB (a larger one is refused, not read in part)")
}

// addAzureFlags adds --azure-rbac, --azure-rbac-from and
// --azure-cluster-id: every command that loads a cluster has them, the
// explorer too.
func (in *InputOptions) addAzureFlags(c *cobra.Command) {
	c.Flags().BoolVar(&in.AzureRBAC, "azure-rbac", false, "Also read the cluster's Azure role assignments, role definitions and deny assignments from Azure Resource Manager (AKS with Azure RBAC for Kubernetes authorization), signing in to Azure as --login says (default: the Azure CLI's sign-in)")
	c.Flags().StringSliceVar(&in.AzureFrom, "azure-rbac-from", nil, "Read the cluster's Azure RBAC data from files instead of Azure Resource Manager, beside its RBAC read live: the JSON of az role assignment list and az role definition list, ARM's list responses, or a snapshot taken with --azure-rbac (for a machine that cannot reach ARM)")
	c.Flags().StringVar(&in.AzureClusterID, "azure-cluster-id", "", "The AKS cluster's resource id, /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME: with --azure-rbac, checked against the kubeconfig's server (default: found from it); with -f and az role assignment list's JSON, the cluster it decides for (default: the one the assignments' scopes name)")
}

// Complete reads the names file: --group-names, else
// $KUBECTL_ACCESS_GROUP_NAMES, else the one `config set group-names` set.
func (in *InputOptions) Complete(ctx context.Context) error {
	if err := in.validateAzure(); err != nil {
		return err
	}
	in.names = identity.Names{}
	fleet, err := source.ReadFleet(in.Filenames)
	if err != nil {
		return err
	}
	in.fleet = fleet
	if len(in.Directory) > 0 {
		if in.directory, err = identity.LoadDirectory(ctx, in.Directory); err != nil {
			return err
		}
		// The directory names its groups; a names file, read below,
		// names them as its owner chose.
		in.names = in.directory.Names()
	}
	path, origin, err := in.namesSource(ctx)
	if err != nil || path == "" {
		return err
	}
	n, err := identity.LoadNames(ctx, path)
	if err != nil {
		if origin != "--group-names" {
			return fmt.Errorf("%w (the names file of %s)", err, origin)
		}
		return err
	}
	for id, name := range n {
		in.names[id] = name
	}
	return nil
}

// addPeopleFlags adds --directory, --no-graph and --graph-url: every
// command that loads a cluster has them, the explorer too.
func (in *InputOptions) addPeopleFlags(c *cobra.Command) {
	c.Flags().StringSliceVar(&in.Directory, "directory", nil, "Who is in which Entra group, from files instead of Microsoft Graph: the file kubectl access snapshot --entra wrote, or Graph's own JSON pages (users, groups with $expand=members, PIM eligibility schedules); a user's groups are found in it, --expand-groups and --eligible read it")
	c.Flags().BoolVar(&in.NoGraph, "no-graph", false, "Do not ask Microsoft Graph for an Entra user's groups (asked by default when the kubeconfig signs in with Entra ID through kubelogin, or with --login)")
	c.Flags().StringVar(&in.GraphURL, "graph-url", azurearm.DefaultGraphURL, "Microsoft Graph's endpoint (sovereign clouds have their own)")
}

// azureSource signs in to Azure now, on the terminal, as the kubeconfig's
// plugin did: a device code's prompt must show before the explorer takes
// the screen. A failure is said with the answers (marked incomplete), not
// here.
func (r *RootOptions) azureSource(ctx context.Context, in *InputOptions) *access.AzureSource {
	z := &access.AzureSource{ClusterID: in.AzureClusterID}
	if r.azureOptions != nil {
		o := *r.azureOptions
		if terminal(r.ErrOut) {
			o.Progress = azureProgress(r.ErrOut)
		}
		z.ARM = &azurearm.Client{Options: o}
		return z
	}
	cred, err := azurearm.Credential(r.Login.Mode, r.ErrOut, azcore.ClientOptions{})
	if err == nil {
		tctx, cancel := context.WithTimeout(ctx, in.Timeout)
		_, err = cred.GetToken(tctx, policy.TokenRequestOptions{Scopes: []string{"https://management.core.windows.net//.default"}})
		cancel()
	}
	if err != nil {
		z.SignInErr = &azurearm.SignInError{Err: err}
		return z
	}
	o := azurearm.Options{Credential: cred}
	if terminal(r.ErrOut) {
		o.Progress = azureProgress(r.ErrOut)
	}
	z.ARM = &azurearm.Client{Options: o}
	return z
}

// azureProgress rewrites one line on the terminal as ARM's lists are read
// (two a scope: role and deny assignments), and clears it at the end.
func azureProgress(w io.Writer) func(done, total int) {
	return func(done, total int) {
		if done >= total {
			fmt.Fprint(w, "\r\x1b[K")
			return
		}
		fmt.Fprintf(w, "\r\x1b[KAzure RBAC: reading role and deny assignments, %d of %d lists", done, total)
	}
}

// readAzureFiles starts reading --azure-rbac-from's files and returns
// what waits for them.
func (in *InputOptions) readAzureFiles(ctx context.Context, stdin io.Reader) func(context.Context) (*azurerbac.Data, []rbac.Warning, error) {
	done := make(chan struct{})
	var (
		d   *azurerbac.Data
		ws  []rbac.Warning
		err error
	)
	go func() {
		defer close(done)
		if d, ws, err = source.ReadAzure(ctx, in.AzureFrom, source.ReadOptions{Stdin: stdin, MaxBytes: in.MaxInputSize << 20, AzureClusterID: in.AzureClusterID}); err != nil {
			err = fmt.Errorf("--azure-rbac-from: %w", err)
		}
	}()
	return func(wait context.Context) (*azurerbac.Data, []rbac.Warning, error) {
		select {
		case <-done:
			return d, ws, err
		case <-wait.Done():
			return nil, nil, fmt.Errorf("--azure-rbac-from: %w", wait.Err())
		}
	}
}

// validateAzure refuses --azure-rbac with files: ARM is read live, and
// files take az's JSON instead.
func (in *InputOptions) validateAzure() error {
	if in.AzureRBAC && in.Offline() {
		return fmt.Errorf("--azure-rbac reads Azure Resource Manager beside a live cluster; with -f give the JSON of az role assignment list and az role definition list instead")
	}
	if len(in.AzureFrom) > 0 && in.Offline() {
		return fmt.Errorf("--azure-rbac-from reads Azure data beside a live cluster; with -f give the Azure files to -f too")
	}
	if len(in.AzureFrom) > 0 && in.AzureRBAC {
		return fmt.Errorf("--azure-rbac reads Azure Resource Manager and --azure-rbac-from reads files: give one")
	}
	return nil
}

// Offline says whether the input is files.
func (in *InputOptions) Offline() bool { return len(in.Filenames) > 0 }
