package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// FleetIndexFile is the index `snapshot --all-contexts` writes beside the
// snapshots of a fleet; a directory holding it is read as a fleet.
const FleetIndexFile = "fleet.yaml"

// FleetSnapshotKind is the kind of the index.
const FleetSnapshotKind = "FleetSnapshot"

// FleetIndex lists a fleet's clusters and the snapshot of each, and the
// clusters that could not be saved (so reading the directory back loses
// nothing: a cluster that failed stays a cluster that failed).
type FleetIndex struct {
	metav1.TypeMeta `json:",inline"`
	Clusters        []FleetEntry `json:"clusters"`
}

// FleetEntry is one cluster of a fleet directory.
type FleetEntry struct {
	Context string `json:"context"`
	Server  string `json:"server,omitempty"`
	// File is the snapshot's name in the directory; empty when Error.
	File string `json:"file,omitempty"`
	// Incomplete: the snapshot lacks what the identity could not read.
	Incomplete bool   `json:"incomplete,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Fleet is a fleet directory as read.
type Fleet struct {
	Dir   string
	Index FleetIndex
}

// Path is where an entry's snapshot is.
func (f *Fleet) Path(e FleetEntry) string { return filepath.Join(f.Dir, e.File) }

// ReadFleet says whether paths name a fleet directory (one directory
// holding fleet.yaml) and reads its index. A fleet directory given with
// other inputs is an error: its snapshots are of different clusters and
// must not be merged into one view.
func ReadFleet(paths []string) (*Fleet, error) {
	var fleets []string
	for _, p := range paths {
		if p == "-" {
			continue
		}
		if st, err := os.Stat(filepath.Join(p, FleetIndexFile)); err == nil && st.Mode().IsRegular() {
			fleets = append(fleets, p)
		}
	}
	switch {
	case len(fleets) == 0:
		return nil, nil
	case len(paths) > 1:
		return nil, fmt.Errorf("%s is a fleet directory (it holds %s): give it alone to -f, since its snapshots are of different clusters and are not merged", fleets[0], FleetIndexFile)
	}
	dir := fleets[0]
	index := filepath.Join(dir, FleetIndexFile)
	data, err := readFile(context.Background(), index, index, DefaultMaxBytes)
	if err != nil {
		return nil, err
	}
	var ix FleetIndex
	if err := yaml.UnmarshalStrict(data, &ix); err != nil {
		return nil, fmt.Errorf("%s: not a fleet index: %v", index, err)
	}
	if ix.Kind != FleetSnapshotKind || ix.APIVersion != rbac.APIVersion {
		return nil, fmt.Errorf("%s: kind %q (%s), want %s (%s), as kubectl access snapshot --all-contexts writes it", index, ix.Kind, ix.APIVersion, FleetSnapshotKind, rbac.APIVersion)
	}
	if len(ix.Clusters) == 0 {
		return nil, fmt.Errorf("%w %s: the fleet index lists no cluster", ErrEmpty, index)
	}
	seen := map[string]bool{}
	for i, e := range ix.Clusters {
		at := fmt.Sprintf("%s: clusters[%d]", index, i)
		switch {
		case e.Context == "":
			return nil, fmt.Errorf("%s: no context", at)
		case seen[e.Context]:
			return nil, fmt.Errorf("%s: context %q is listed twice", at, e.Context)
		case e.File == "" && e.Error == "":
			return nil, fmt.Errorf("%s: neither a file nor an error", at)
		case e.File != "" && (e.File != filepath.Base(e.File) || e.File == "." || e.File == ".." || strings.ContainsAny(e.File, `/\`)):
			// The index names files beside it, nothing elsewhere.
			return nil, fmt.Errorf("%s: file %q is not a name in the directory", at, e.File)
		}
		if e.File != "" {
			if _, err := os.Stat(filepath.Join(dir, e.File)); err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
		}
		seen[e.Context] = true
	}
	return &Fleet{Dir: dir, Index: ix}, nil
}

// WriteFleetIndex writes the index into dir, readable by its owner only,
// never through a link; one there already is replaced only with
// overwrite.
func WriteFleetIndex(dir string, entries []FleetEntry, overwrite bool) error {
	ix := FleetIndex{TypeMeta: metav1.TypeMeta{APIVersion: rbac.APIVersion, Kind: FleetSnapshotKind}, Clusters: entries}
	b, err := safe.YAML(ix)
	if err != nil {
		return err
	}
	return files.Write(filepath.Join(dir, FleetIndexFile), overwrite, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// FleetFileName is a file name for a context's snapshot: the context with
// every character outside [A-Za-z0-9._-] replaced by _, made unique
// against taken (which it updates).
func FleetFileName(context string, taken map[string]bool) string {
	var b strings.Builder
	for _, r := range context {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	base := strings.TrimLeft(b.String(), ".")
	if len(base) > 100 {
		base = base[:100]
	}
	if base == "" {
		base = "cluster"
	}
	name := base + ".yaml"
	for i := 2; taken[strings.ToLower(name)] || strings.EqualFold(name, FleetIndexFile); i++ {
		name = fmt.Sprintf("%s-%d.yaml", base, i)
	}
	taken[strings.ToLower(name)] = true
	return name
}
