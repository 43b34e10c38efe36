package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/gcpace"
	"github.com/kubectl-access/kubectl-access/loading"
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
	// AzureClusterID is the AKS cluster's resource id the Azure role
	// assignments read decide for (--azure-cluster-id); "" = the one their
	// scopes name.
	AzureClusterID string
}

// DefaultMaxBytes caps each input file: far more than any GitOps
// repository's RBAC or a snapshot of a large cluster (LARGE, 39,000
// objects, is 25 MiB as YAML), and far less than would exhaust memory.
const DefaultMaxBytes = 512 << 20

// MaxObjectBytes caps one object: the API server's store (etcd) refuses a
// request over 1.5 MiB, so no Kubernetes object is larger. Snapshots and
// List documents, which hold many objects, are capped by MaxBytes only.
const MaxObjectBytes = 16 << 20

// Warning codes of reading offline input.
const (
	WarnDuplicate rbac.WarningCode = "duplicate"
	// WarnStrayNamespace: a cluster-scoped object given with a namespace,
	// which the API server ignores.
	WarnStrayNamespace rbac.WarningCode = "stray-namespace"
	WarnDefaults       rbac.WarningCode = "defaults"
	// WarnMerged: snapshots of different clusters were read as one.
	WarnMerged rbac.WarningCode = "merged-clusters"
	// WarnDiscoveryDiffers: snapshots read together were taken from
	// servers that serve different resources.
	WarnDiscoveryDiffers rbac.WarningCode = "discovery-differs"
)

// Result is what reading offline input gives.
type Result struct {
	Snapshot  *rbac.Snapshot
	Locations map[rbac.ObjectRef]Location
	Warnings  []rbac.Warning
	// Whole: everything the input holds was read, whatever the scope
	// asked (files are read whole); a live load reads only the scope.
	Whole bool
}

// FileLoader loads offline input: one of the two loaders behind
// access.Loader (package cluster has the live one).
type FileLoader struct {
	Paths []string
	ReadOptions
}

// Load reads the files whole (scope does not narrow what files give).
func (f FileLoader) Load(ctx context.Context, _ loading.Scope) (*Result, error) {
	res, err := Read(ctx, f.Paths, f.ReadOptions)
	if res != nil {
		res.Whole = true
	}
	return res, err
}

// ErrEmpty says the input held no object at all: an empty file or
// directory is a mistake to report, never a clean bill of health.
var ErrEmpty = errors.New("no Kubernetes objects in the input")

// Read loads a snapshot from files, directories (recursively: *.yaml,
// *.yml, *.json) and "-" for stdin, whole or not at all, as kubectl reads
// them: YAML and JSON streams, List kinds and saved snapshots, in UTF-8 or
// UTF-16 with a byte-order mark. A malformed, truncated or trailing
// document is an error naming the file and line; so are devices, FIFOs
// and inputs over the size cap. An object given twice counts once, the
// last (as kubectl apply would leave it), with a warning naming both
// places. A binding whose role the input lacks gets Kubernetes' default
// role of that name, or else is a gap: what it grants is unknown, never
// "nothing". Reading stops when ctx ends (Ctrl-C while stdin is a
// terminal).
func Read(ctx context.Context, paths []string, o ReadOptions) (*Result, error) {
	defer gcpace.Tight(readGCPercent)()
	l, err := readFiles(ctx, paths, o)
	if err != nil {
		return nil, err
	}
	if l.objects+l.snapshots == 0 {
		if l.azureFiles > 0 {
			return nil, fmt.Errorf("%w %s: only Azure RBAC data was read; Kubernetes RBAC decides first, so give the cluster's RBAC too (a snapshot, or kubectl get roles,rolebindings,clusterroles,clusterrolebindings -A -o yaml)", ErrEmpty, strings.Join(paths, ", "))
		}
		return nil, fmt.Errorf("%w %s: an empty input is no proof of anything; point -f at manifests or a snapshot", ErrEmpty, strings.Join(paths, ", "))
	}
	l.finish()
	if err := l.finishAzure(); err != nil {
		return nil, err
	}
	l.snap.Source = strings.Join(paths, ",")
	return &Result{Snapshot: l.snap, Locations: l.where, Warnings: l.warnings}, nil
}

// readFiles reads every file of paths into a loader.
func readFiles(ctx context.Context, paths []string, o ReadOptions) (*loader, error) {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	l := newLoader(o)
	files, err := expand(paths)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if f != "-" {
			if err := l.readPath(ctx, f, f, o.MaxBytes); err != nil {
				return nil, err
			}
			continue
		}
		const name = "<stdin>"
		if o.Stdin == nil {
			return nil, errors.New("-f -: no standard input")
		}
		path, err := spool(ctx, o.Stdin, name, o.MaxBytes)
		if path != "" {
			if err == nil {
				err = l.readPath(ctx, path, name, o.MaxBytes)
			}
			_ = os.Remove(path) // a copy of what was read: nothing lost
			if err != nil {
				return nil, err
			}
			continue
		}
		// No temporary file could be made: read whole, as before.
		data, err := readAll(ctx, o.Stdin, name, o.MaxBytes)
		if err != nil {
			return nil, err
		}
		if err := l.file(name, data); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// readPath reads one file, streamed where it can be (streamFile), else
// whole; name is what messages and locations call it.
func (l *loader) readPath(ctx context.Context, path, name string, max int64) error {
	done, err := l.streamFile(ctx, path, name, max)
	if done || err != nil {
		return err
	}
	data, err := readFile(ctx, path, name, max)
	if err != nil {
		return err
	}
	return l.file(name, data)
}

// spoolStdin: stdin is copied to a temporary file and read from there
// (the tests turn it off to read it whole, as the reference).
var spoolStdin = true

// spool copies r, standard input, to a temporary file (0600, made
// exclusively; the caller removes it) so that it is read as a file is:
// streamed, never held whole, and read again for an error's message. It
// gives up when ctx ends (reading a terminal or a pipe may block), and
// gives no path when no temporary file can be made (a read-only or full
// disk): the caller then reads r whole.
func spool(ctx context.Context, r io.Reader, name string, max int64) (string, error) {
	if !spoolStdin {
		return "", nil
	}
	f, err := os.CreateTemp("", "kubectl-access-stdin-*")
	if err != nil {
		return "", nil
	}
	path := f.Name()
	ch := make(chan error, 1)
	go func() {
		n, err := io.Copy(f, io.LimitReader(r, max+1))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil && n > max {
			err = tooLarge(name, 0, max)
		} else if err != nil {
			err = fmt.Errorf("read %s: %w", name, err)
		}
		if ctx.Err() != nil {
			_ = os.Remove(path) // given up on: the caller removed it where it could
		}
		ch <- err
	}()
	select {
	case <-ctx.Done():
		return path, fmt.Errorf("read %s: %w", name, ctx.Err())
	case err := <-ch:
		return path, err
	}
}

// ReadAzure reads Azure RBAC data alone, for a live cluster whose Azure
// side comes from files (--azure-rbac-from): the JSON of az role
// assignment list and az role definition list, ARM's list responses, or a
// snapshot holding it. Kubernetes objects among them are not used (the
// cluster's RBAC is read live) and a warning says so. Input without Azure
// data is an error.
func ReadAzure(ctx context.Context, paths []string, o ReadOptions) (*azurerbac.Data, []rbac.Warning, error) {
	l, err := readFiles(ctx, paths, o)
	if err != nil {
		return nil, nil, err
	}
	if l.snap.Azure == nil {
		return nil, nil, fmt.Errorf("%w %s: no Azure RBAC data (give the JSON of az role assignment list and az role definition list, ARM's list responses, or a snapshot taken with --azure-rbac)", ErrEmpty, strings.Join(paths, ", "))
	}
	if s := l.snap; len(s.ClusterRoles)+len(s.Roles)+len(s.ClusterRoleBindings)+len(s.RoleBindings)+len(s.ServiceAccounts)+len(s.Namespaces) > 0 {
		l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "the Kubernetes objects in %s are not used: only their Azure RBAC data is, beside the cluster's RBAC read live", strings.Join(paths, ", ")))
	}
	if err := l.finishAzure(); err != nil {
		return nil, nil, err
	}
	return l.snap.Azure, l.warnings, nil
}

// Files reads paths with the default options (a convenience for tests and
// tools).
func Files(paths []string, stdin io.Reader) (*rbac.Snapshot, map[rbac.ObjectRef]Location, error) {
	r, err := Read(context.Background(), paths, ReadOptions{Stdin: stdin})
	if err != nil {
		return nil, nil, err
	}
	return r.Snapshot, r.Locations, nil
}

// expand turns the paths into files: a directory into its *.yaml, *.yml
// and *.json files, sorted; only regular files are read (a FIFO, a device
// such as /dev/zero or a socket is refused by name).
func expand(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		if p == "-" {
			files = append(files, "-")
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		if !fi.IsDir() {
			if err := regular(p, fi); err != nil {
				return nil, err
			}
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				if d.IsDir() {
					return nil
				}
				info, err := os.Stat(path) // through a link, as os.ReadFile would go
				if err != nil {
					return err
				}
				if err := regular(path, info); err != nil {
					return err
				}
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// input is a manifest file for the opener every input goes through
// (internal/files): a regular file, opened without blocking, within max.
func input(path string, max int64) files.Input {
	return files.Input{What: "read", Path: path, Max: max,
		NotFile: "pass files or directories of manifests, or - for stdin", TooLarge: "split it, or raise --max-input-size"}
}

// regular refuses what is not a regular file, as the opener does.
func regular(path string, fi fs.FileInfo) error { return input(path, 0).Regular(fi) }

func readFile(ctx context.Context, path, name string, max int64) ([]byte, error) {
	f, fi, err := files.Open(input(path, max)) // it may have changed since expand
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: its close loses nothing
	return readAll(ctx, sized{f, fi.Size()}, name, max)
}

// sized is a reader whose length is known, so it is read into one buffer
// of that size rather than grown into a doubling at a time.
type sized struct {
	io.Reader
	size int64
}

func tooLarge(name string, size, max int64) error {
	what := "more than"
	if size > 0 {
		what = fmt.Sprintf("%d MiB, more than", size>>20)
	}
	return fmt.Errorf("read %s: %s the limit of %d MiB per input: split it, or raise --max-input-size", name, what, max>>20)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// readAll reads r whole, up to max bytes, decoding UTF-16 (with its
// byte-order mark) to UTF-8 and dropping a UTF-8 byte-order mark, as
// kubectl's file visitor does. It gives up when ctx ends: reading a
// terminal or a pipe may block.
func readAll(ctx context.Context, r io.Reader, name string, max int64) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var buf bytes.Buffer
		if s, ok := r.(sized); ok && s.size <= max {
			buf.Grow(int(s.size) + bytes.MinRead) // room for the read that finds the end
		}
		_, err := buf.ReadFrom(io.LimitReader(r, max+1))
		b := buf.Bytes()
		if int64(len(b)) > max {
			// Over the limit before decoding: UTF-16 shrinks as UTF-8,
			// so a cut input must not pass the check below.
			ch <- result{b, nil}
			return
		}
		if err == nil && (!utf8.Valid(b) || bytes.HasPrefix(b, utf8BOM)) {
			// UTF-16, a byte-order mark, or bytes that are not UTF-8
			// (replaced, as the decoder does): a text without them is
			// its own decoding, and is not copied through the decoder.
			b, err = io.ReadAll(transform.NewReader(bytes.NewReader(b), unicode.BOMOverride(unicode.UTF8.NewDecoder())))
		}
		ch <- result{b, err}
	}()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("read %s: %w", name, ctx.Err())
	case res := <-ch:
		if res.err != nil {
			return nil, fmt.Errorf("read %s: %w", name, res.err)
		}
		if int64(len(res.b)) > max {
			return nil, tooLarge(name, 0, max)
		}
		return res.b, nil
	}
}

// jsonStream says whether data is a JSON stream, as kubectl decides it:
// its first non-space byte is a brace.
func jsonStream(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{"))
}

// readGCPercent is the collector's headroom while offline input is read:
// what is read stays, what decoding it leaves is garbage at once, and the
// default (100: the heap may double before a collection) would make the
// peak twice what the view keeps. A quarter of it costs some CPU and keeps
// the peak near the view (make bench's BenchmarkReadSnapshot*).
const readGCPercent = 25
