package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// AzureARM is what the application needs of Azure Resource Manager:
// package azurearm's Client, which the front end gives it (this layer
// never imports the Azure SDK).
type AzureARM interface {
	// FindCluster returns the AKS cluster whose API server is server.
	FindCluster(ctx context.Context, server string) (string, error)
	// CheckCluster fails when clusterID's API server is not server.
	CheckCluster(ctx context.Context, clusterID, server string) error
	// Load reads what Azure RBAC decides with for the cluster.
	Load(ctx context.Context, clusterID string, namespaces []string) (*azurerbac.Data, error)
	// Assignment reads a role assignment as ARM writes it; nil when none.
	Assignment(ctx context.Context, id string) (map[string]any, error)
	DeleteAssignment(ctx context.Context, id string) error
	CreateAssignment(ctx context.Context, id, scope, roleDefinitionID, principalID, principalType string) error
	// ManagedClusterResource reads the managed cluster as ARM gives it
	// (the whole resource) and its ETag.
	ManagedClusterResource(ctx context.Context, id string) (map[string]any, string, error)
	// PutManagedCluster writes it whole if its ETag is still etag (an
	// error with Changed() true when not) and waits for the update to end.
	PutManagedCluster(ctx context.Context, id string, body map[string]any, etag string) error
	// Identities reads into the cluster's data the managed identities its
	// pods may act as (those clientIDs name, the kubelet's, those with a
	// federated credential on its issuer), their federated credentials
	// and role assignments; what is not read is in d.IdentityGaps.
	Identities(ctx context.Context, d *azurerbac.Data, clientIDs []string) error
	// Directory asks Microsoft Graph what the object ids name (and how
	// many members each group has). With a directory and an error, only
	// part of it (member counts) could not be read.
	Directory(ctx context.Context, ids []string) (*azurerbac.Directory, error)
}

// CredentialWriter is what applies a federated credential's fix through
// ARM (azurearm.Client has it): read one as ARM writes it (nil when
// none), delete it, create it again (a restore).
type CredentialWriter interface {
	FederatedCredential(ctx context.Context, id string) (map[string]any, error)
	DeleteFederatedCredential(ctx context.Context, id string) error
	CreateFederatedCredential(ctx context.Context, id, issuer, subject string, audiences []string) error
}

// AzureSource says how a live load reads Azure RBAC's data (--azure-rbac):
// the cluster's resource id (found from the kubeconfig's server when
// empty) and ARM, signed in.
type AzureSource struct {
	ClusterID string
	ARM       AzureARM
	// Files, when set, gives the Azure RBAC data read from files
	// (--azure-rbac-from), being read while the cluster loads (the front
	// end starts the read first, so it overlaps the LISTs): every load
	// waits for it (until ctx ends) and uses it, and ARM is not asked; its
	// error ends the load.
	Files func(ctx context.Context) (*azurerbac.Data, []rbac.Warning, error)
	// SignInErr is why signing in to Azure failed (the front end signs
	// in first, on the terminal): loads and fixes then say so.
	SignInErr error
}

// loadAzure reads the cluster's Azure RBAC data into snap. What cannot be
// read never becomes a denial: a failure leaves the view pending
// (incomplete wherever Azure could decide) with the reason as a warning.
func (a *App) loadAzure(ctx context.Context, snap *rbac.Snapshot, scope loading.Scope, fromFiles *azurerbac.Data) ([]rbac.Warning, error) {
	z := a.Azure
	// Where guard does not decide, the role assignments and the managed
	// cluster's settings still say who gets in through Azure's control
	// plane (the admin credential, writing the cluster): read for that
	// alone, and a failure to read them is a warning, never pending.
	var inactive []rbac.Warning
	if p := snap.AzureRBAC; p != nil && p.State == rbac.ProbeInactive {
		inactive = []rbac.Warning{rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: Azure RBAC does not decide on this cluster (%s): its role assignments and settings are read for the ways in through Azure's control plane only", p.Detail)}
	}
	fail := func(err error) ([]rbac.Warning, error) {
		if inactive != nil {
			return append(inactive, rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: the ways in through Azure's control plane could not be read: %v", err)), nil
		}
		if snap.AzureRBAC == nil || snap.AzureRBAC.State != rbac.ProbeActive {
			// Asked for, so assumed on: answers it could change are
			// incomplete rather than complete without it.
			snap.AzureRBAC = &rbac.Probe{State: rbac.ProbeActive, Detail: "assumed from --azure-rbac (the probe could not tell)"}
		}
		return []rbac.Warning{rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: Azure role assignments could not be read: %v", err)}, nil
	}
	if fromFiles != nil {
		snap.Azure = fromFiles.Copy()
		return append(inactive, rbac.Warnf(rbac.WarnAzureRBAC, "the Azure RBAC data is read from files for %s, which is not checked against the API server %s (that needs ARM: --azure-rbac)", rbac.AzureScopeName(fromFiles.ClusterID), a.Origin.Server)), nil
	}
	if z.SignInErr != nil || z.ARM == nil {
		return fail(cmpErr(z.SignInErr, errors.New("not signed in to Azure")))
	}
	id := z.ClusterID
	var err error
	if id == "" {
		if id, err = z.ARM.FindCluster(ctx, a.Origin.Server); err != nil {
			return fail(err)
		}
	} else if err := z.ARM.CheckCluster(ctx, id, a.Origin.Server); err != nil {
		// A cluster id that is not this cluster's would answer for
		// another cluster: refuse it, as an error of the load (not a
		// warning beside an answer).
		var m interface{ ClusterMismatch() bool }
		if errors.As(err, &m) && m.ClusterMismatch() {
			return nil, err
		}
		return fail(fmt.Errorf("%w (the Azure data would be another cluster's)", err))
	}
	var namespaces []string
	switch {
	case inactive != nil:
		// Namespace scopes are guard's: the doors are at the cluster.
	case scope.Namespace != "" && !scope.AllNamespaces:
		namespaces = []string{scope.Namespace}
	default:
		for _, n := range snap.Namespaces {
			namespaces = append(namespaces, n.Name)
		}
		for _, b := range snap.RoleBindings {
			if !slices.Contains(namespaces, b.Namespace) {
				namespaces = append(namespaces, b.Namespace)
			}
		}
	}
	data, err := z.ARM.Load(ctx, id, namespaces)
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
	// The way out: the identities the cluster's pods may act as, before
	// Graph names the principals (theirs too). Not reading them is a gap
	// of the identities' part, never guard's.
	if err := z.ARM.Identities(ctx, data, annotatedClientIDs(snap)); err != nil {
		if ctx.Err() != nil {
			return fail(ctx.Err())
		}
		data.IdentityGaps = append(data.IdentityGaps, "the managed identities could not be read: "+err.Error())
	}
	var ws []rbac.Warning
	if n := len(data.IdentityGaps); n > 0 {
		ws = append(ws, rbac.Warnf(WarnWorkloadIdentity, "--azure-rbac: %d parts of the managed identities could not be read (%s): which Azure identities service accounts act as, and what those hold, is incomplete",
			n, strings.Join(data.IdentityGaps[:min(3, n)], "; ")))
	}
	// ARM names no principal: Graph does, and says which are gone.
	var ids []string
	seen := map[string]bool{}
	for _, as := range data.Assignments {
		if k := strings.ToLower(as.PrincipalID); !seen[k] {
			seen[k] = true
			ids = append(ids, as.PrincipalID)
		}
	}
	for _, e := range data.Eligible {
		if k := strings.ToLower(e.PrincipalID); !seen[k] {
			seen[k] = true
			ids = append(ids, e.PrincipalID)
		}
	}
	if len(ids) > 0 {
		dir, err := z.ARM.Directory(ctx, ids)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return fail(ctx.Err())
		case dir != nil:
			ws = append(ws, rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: Microsoft Graph: %v: broad groups among them are not told apart", err))
		default:
			ws = append(ws, rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: Microsoft Graph: %v: principals are shown by object id, and deleted or broad ones are not told apart", err))
		}
		data.Name(dir)
	}
	snap.Azure = data
	if len(data.Gaps) > 0 {
		ws = append(ws, rbac.Warnf(rbac.WarnAzureRBAC, "--azure-rbac: %d parts of Azure's data could not be read (%s): answers they could change are incomplete",
			len(data.Gaps), strings.Join(data.Gaps[:min(3, len(data.Gaps))], "; ")))
	}
	return append(inactive, ws...), nil
}

// annotatedClientIDs are the client ids the service accounts read name
// (azure.workload.identity/client-id), each once.
func annotatedClientIDs(snap *rbac.Snapshot) []string {
	var out []string
	for _, sa := range snap.ServiceAccounts {
		if c := sa.Annotations[azurerbac.AnnotationClientID]; c != "" && !slices.ContainsFunc(out, func(x string) bool { return strings.EqualFold(x, c) }) {
			out = append(out, c)
		}
	}
	return out
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
