package source

import (
	"context"
	"io"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// ReadOptions tune reading offline input.
type ReadOptions struct {
	// Stdin is read for "-".
	Stdin io.Reader
	// Namespace is where objects without one are placed, as kubectl apply
	// -n places them ("" = default).
	Namespace string
	// MaxBytes caps each input; zero is DefaultMaxBytes.
	MaxBytes int64
}

// Result is what reading offline input gives.
type Result struct {
	Snapshot  *rbac.Snapshot
	Locations map[rbac.ObjectRef]Location
	Warnings  []rbac.Warning
}

// Read loads a snapshot from files, directories and "-".
func Read(ctx context.Context, paths []string, o ReadOptions) (*Result, error) {
	snap, where, err := Files(paths, o.Stdin)
	if err != nil {
		return nil, err
	}
	return &Result{Snapshot: snap, Locations: where}, nil
}

const DefaultMaxBytes = 256 << 20
