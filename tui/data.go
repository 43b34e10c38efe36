package tui

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Data is one load of the cluster (or of files): everything the pages show.
// It is a plain value; the explorer never reaches past it to a client.
type Data struct {
	Index  *rbac.Index
	Report *audit.Report
	// Names are group object id -> display name, shown beside Entra ids.
	Names auth.Names
	// Source says where the data came from: a context and server, or files.
	Source string
	// Live is true when fixes can be applied (not for files).
	Live bool
	// Resolve turns a who-can query into a request, with warnings, the way
	// `kubectl access who-can` does (resource catalog, default namespace).
	Resolve func(Query) (rbac.Attributes, []string, error)
	// Resources are the resource names the query line completes.
	Resources []string
	// FixOptions are the options fixes are built with.
	FixOptions fix.Options
}

// Query is a who-can question as typed on the query line.
type Query struct {
	Verb, Resource, Name string
	// Namespace is -n's value ("" = the default namespace).
	Namespace     string
	AllNamespaces bool
}

// OpDiff is one operation of a fix as the server's dry run saw it.
type OpDiff struct {
	Operation string // "patch RoleBinding team-a/devs"
	Diff      string // unified diff of the object
}

// Backend does the explorer's I/O. The command layer implements it over a
// cluster or files; every call runs inside a tea.Cmd, never in Update.
type Backend interface {
	// Load reads and audits the cluster, reporting progress as it goes.
	Load(ctx context.Context, progress func(string)) (*Data, error)
	// DryRun runs every operation of fx as a server-side dry run.
	DryRun(ctx context.Context, fx *fix.Fix) ([]OpDiff, error)
	// Apply applies fx for real, in order.
	Apply(ctx context.Context, fx *fix.Fix) error
	// SignIn returns the command that signs in again on the real terminal
	// (the explorer hands the screen to it), or nil when there is none.
	SignIn() tea.ExecCommand
}

// ErrSession marks an error the backend saw as a rejected or expired
// sign-in: the explorer then offers to sign in again.
var ErrSession = errors.New("the cluster did not accept your credentials")

// Messages: every result of I/O reaches the model as one of these.
type (
	progressMsg string
	loadedMsg   struct {
		data *Data
		err  error
	}
	fixMsg struct {
		id      string
		fix     *fix.Fix
		preview []OpDiff
		err     error
	}
	dryRunMsg struct {
		id    string
		diffs []OpDiff
		err   error
	}
	appliedMsg struct {
		id  string
		err error
	}
	wroteMsg struct {
		path string
		err  error
	}
	signedInMsg struct{ err error }
	statusMsg   string
)
