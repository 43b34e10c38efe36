// Package access is the application layer both front ends call: the CLI
// prints what it answers, the explorer draws it, and neither decides
// anything of its own. It loads a scope of a cluster or of files into the
// engine, resolves requests as kubectl does, answers who-can, what-can
// and can with every warning attached to the answer as a typed value,
// runs the audit, and builds, checks and applies fixes (a server-side dry
// run first, each call bounded by a timeout and the caller's context).
//
// It is pure: it imports neither client-go nor kubelogin. The cluster
// comes in through the Cluster and Resolver interfaces, which package
// cluster implements.
package access

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// Cluster is a live cluster as the application layer uses it.
type Cluster interface {
	// Load reads what scope needs (the node probes included when it asks
	// for them). A forbidden LIST is a gap in the snapshot, not an error.
	Load(ctx context.Context, scope loading.Scope) (*rbac.Snapshot, error)
	// Exists says whether one object exists (a namespace, a service
	// account).
	Exists(ctx context.Context, ref rbac.ObjectRef) (bool, error)
	// Do runs one fix operation, or its server-side dry run, and returns
	// the object before and after. A refused guard wraps fix.ErrChanged.
	Do(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error)
}

// Loader reads what a scope needs: a live cluster (through Cluster) or
// files (source.Files). Open asks it, whichever it is.
type Loader interface {
	Load(ctx context.Context, scope loading.Scope) (*source.Result, error)
}

// Resolver reads RESOURCE[.GROUP][/SUBRESOURCE] as kubectl's RESTMapper
// does, over what the server (or, offline, every server) serves.
type Resolver interface {
	Resolve(arg string) (loading.Resolved, []rbac.Warning, error)
}

// ErrSignIn marks an error of signing in: the cluster refused the
// credentials (401), or the credential plugin failed or timed out. The
// explorer offers to sign in again.
var ErrSignIn = errors.New("the cluster did not accept your credentials")

// Origin says where the data comes from.
type Origin struct {
	Context string   `json:"context,omitempty"`
	Server  string   `json:"server,omitempty"`
	Version string   `json:"version,omitempty"`
	Files   []string `json:"files,omitempty"`
}

func (o Origin) String() string {
	if len(o.Files) > 0 {
		return strings.Join(o.Files, ", ")
	}
	return o.Context + " (" + o.Server + ")"
}

// App is one front end's access to a cluster, or to files.
type App struct {
	// Cluster is the live cluster; nil works offline on Files.
	Cluster Cluster
	// Files are the offline inputs ("-" is Stdin).
	Files []string
	Stdin io.Reader
	// Resolver and Catalog are what the server serves (offline: the
	// built-in catalog).
	Resolver Resolver
	Catalog  *loading.Catalog
	// NewResolver makes a resolver of a catalog (cluster.NewResolver):
	// offline, a snapshot's own discovery replaces the built-in catalog
	// through it, so names resolve as on the server it was taken from.
	NewResolver func(*loading.Catalog) Resolver
	// Names are Entra group object id -> display name.
	Names identity.Names
	// People is who is in which Entra group: Microsoft Graph when signed
	// in with Entra ID, a directory file offline (--directory); nil: not
	// known.
	People identity.People
	// Namespace is -n, else the kubeconfig's, else "default";
	// NamespaceSet says -n was given.
	Namespace    string
	NamespaceSet bool
	// Origin says where the data comes from.
	Origin Origin
	// Credential is the kubeconfig's credential (live), for the
	// credentials rules.
	Credential *identity.Credential
	// Timeout bounds each load; CallTimeout each single call (an
	// existence check, one fix operation). Zero: two minutes, 30 seconds.
	Timeout, CallTimeout time.Duration
	// Warnings are what setting up found: API groups that did not answer
	// discovery, a credential that could not be inspected.
	Warnings []rbac.Warning
	// FileLimit caps each offline input; zero is source.DefaultMaxBytes.
	FileLimit int64
	// AzureClusterID is the AKS cluster's resource id the Azure RBAC data
	// decides for (--azure-cluster-id); "" = the one the data names.
	AzureClusterID string
	// Azure, when set, reads Azure RBAC's data from ARM (--azure-rbac) or
	// from files (--azure-rbac-from) with every live load; offline apps
	// have none.
	Azure *AzureSource
}

// Live says whether the app talks to a cluster (fixes can be applied).
func (a *App) Live() bool { return a.Cluster != nil }

func (a *App) timeout() time.Duration {
	if a.Timeout > 0 {
		return a.Timeout
	}
	return 2 * time.Minute
}

func (a *App) callTimeout() time.Duration {
	if a.CallTimeout > 0 {
		return a.CallTimeout
	}
	return 30 * time.Second
}

// Session is one load: the engine over what was read, and what the
// answers drawn from it need to say.
type Session struct {
	App   *App
	Index *rbac.Index
	// Scope is what was read; answers outside it are not given.
	Scope loading.Scope
	// Locations say where each object was read (offline).
	Locations map[rbac.ObjectRef]source.Location
	// Warnings are what loading found (offline: duplicates, roles taken
	// from Kubernetes' defaults).
	Warnings []rbac.Warning
	// whole: everything the input holds was read (files), so what the
	// session lacks is not there; a live load read only its scope.
	whole bool

	reportCache
	// reaches are the subjects' ways out to Azure (azureReaches), once.
	reachOnce sync.Once
	reaches   []AzureReach
}

// Open loads scope, from the cluster or the files, and indexes it. Loading
// from a cluster is bounded by the app's timeout.
func (a *App) Open(ctx context.Context, scope loading.Scope) (*Session, error) {
	s := &Session{App: a, Scope: scope}
	if a.Azure != nil && scope.AllNamespaces {
		// Every namespace's scope may hold assignments.
		scope.Namespaces = true
	}
	res, err := a.loader().Load(ctx, scope)
	if err != nil {
		return nil, err
	}
	snap := res.Snapshot
	s.Locations, s.Warnings, s.whole = res.Locations, res.Warnings, res.Whole
	if snap.Discovery != nil && res.Whole && a.NewResolver != nil {
		// A saved snapshot resolves names as the server it was taken
		// from did.
		a.Catalog = loading.CatalogOf(snap.Discovery)
		a.Resolver = a.NewResolver(a.Catalog)
	}
	if a.Azure != nil {
		// Azure's data beside a live cluster (offline, -f reads it with
		// the rest: the app has no Azure source).
		var fromFiles *azurerbac.Data
		if a.Azure.Files != nil {
			d, ws, err := a.Azure.Files(ctx)
			if err != nil {
				return nil, err
			}
			fromFiles, s.Warnings = d, append(s.Warnings, ws...)
		}
		lctx, cancel := context.WithTimeout(ctx, a.timeout())
		ws, err := a.loadAzure(lctx, snap, scope, fromFiles)
		cancel()
		if err != nil {
			return nil, err
		}
		s.Warnings = append(s.Warnings, ws...)
	}
	s.Index = rbac.NewIndex(snap)
	return s, nil
}

// loader is the app's: the live cluster, else its files. It is the one
// place loading tells the two apart; the other checks of Cluster are for
// what only a live cluster can do (apply a fix, verify, read an object as
// it is now), each refused offline with a message saying so.
func (a *App) loader() Loader {
	if a.Cluster != nil {
		return clusterLoader{a.Cluster, a.timeout()}
	}
	return source.FileLoader{Paths: a.Files, ReadOptions: source.ReadOptions{Stdin: a.Stdin, Namespace: a.Namespace, MaxBytes: a.FileLimit, AzureClusterID: a.AzureClusterID}}
}

// clusterLoader loads what the scope needs from a live cluster, bounded
// by the app's timeout.
type clusterLoader struct {
	c       Cluster
	timeout time.Duration
}

func (l clusterLoader) Load(ctx context.Context, scope loading.Scope) (*source.Result, error) {
	lctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	snap, err := l.c.Load(lctx, scope)
	if err != nil {
		if lctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("loading from the cluster took longer than --timeout %s: %w", l.timeout, err)
		}
		return nil, err
	}
	return &source.Result{Snapshot: snap}, nil
}

// Incomplete says whether the view as a whole lacks anything.
func (s *Session) Incomplete() bool { return s.Index.Incomplete() }
