package access

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/kubectl-access/kubectl-access/azurearm"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// AzureSource says how a live load reads Azure RBAC's data (--azure-rbac):
// the cluster's resource id (found from the kubeconfig's server when
// empty), how to sign in to Azure, and ARM's options.
type AzureSource struct {
	ClusterID string
	// Mode is the --login mode ("" = Azure CLI's sign-in).
	Mode string
	// Prompt receives a device code's prompt.
	Prompt io.Writer
	// Options reach ARM; their Credential, when set, is used as is (tests
	// and sovereign clouds set ClientOptions).
	Options azurearm.Options
	// SignInErr is why signing in to Azure failed before the load (the
	// front end signs in first, on the terminal): the load then says so.
	SignInErr error
}

// loadAzure reads the cluster's Azure RBAC data into snap. What cannot be
// read never becomes a denial: a failure leaves the view pending
// (incomplete wherever Azure could decide) with the reason as a warning.
func (a *App) loadAzure(ctx context.Context, snap *rbac.Snapshot, scope source.Scope) []rbac.Warning {
	z := a.Azure
	if p := snap.AzureRBAC; p != nil && p.State == rbac.ProbeInactive {
		return []rbac.Warning{rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: Azure RBAC does not decide on this cluster (%s): its role assignments are not read", p.Detail)}
	}
	fail := func(err error) []rbac.Warning {
		if snap.AzureRBAC == nil || snap.AzureRBAC.State != rbac.ProbeActive {
			// Asked for, so assumed on: answers it could change are
			// incomplete rather than complete without it.
			snap.AzureRBAC = &rbac.Probe{State: rbac.ProbeActive, Detail: "assumed from --azure-rbac (the probe could not tell)"}
		}
		return []rbac.Warning{rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: Azure role assignments could not be read: %v", err)}
	}
	if z.SignInErr != nil {
		return fail(z.SignInErr)
	}
	o := z.Options
	if o.Credential == nil {
		var co azcore.ClientOptions
		if o.ClientOptions != nil {
			co = o.ClientOptions.ClientOptions
		}
		cred, err := azurearm.Credential(z.Mode, z.Prompt, co)
		if err != nil {
			return fail(err)
		}
		o.Credential = cred
	}
	id := z.ClusterID
	var err error
	if id == "" {
		if id, err = azurearm.FindCluster(ctx, a.Origin.Server, o); err != nil {
			return fail(err)
		}
	} else if err := azurearm.CheckCluster(ctx, id, a.Origin.Server, o); err != nil {
		var signIn *azurearm.SignInError
		if errors.As(err, &signIn) {
			return fail(err)
		}
		// A cluster id that is not this cluster's would answer for
		// another cluster: refuse it.
		return fail(fmt.Errorf("%w (the Azure data would be another cluster's)", err))
	}
	var namespaces []string
	if scope.Namespace != "" && !scope.AllNamespaces {
		namespaces = []string{scope.Namespace}
	} else {
		for _, n := range snap.Namespaces {
			namespaces = append(namespaces, n.Name)
		}
		for _, b := range snap.RoleBindings {
			if !slices.Contains(namespaces, b.Namespace) {
				namespaces = append(namespaces, b.Namespace)
			}
		}
	}
	data, err := azurearm.Load(ctx, id, namespaces, o)
	if err != nil {
		return fail(err)
	}
	if scope.AllNamespaces {
		for _, g := range snap.Gaps {
			if g.Resource == "namespaces" && g.Name == "" {
				// Namespaces without RoleBindings were not named: their
				// scopes' assignments are not read.
				data.Gaps = append(data.Gaps, "role assignments at the scopes of namespaces that could not be listed ("+g.Reason+")")
			}
		}
	}
	snap.Azure = data
	var ws []rbac.Warning
	if len(data.Gaps) > 0 {
		ws = append(ws, rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: %d parts of Azure's data could not be read (%s): answers they could change are incomplete",
			len(data.Gaps), strings.Join(data.Gaps[:min(3, len(data.Gaps))], "; ")))
	}
	return ws
}
