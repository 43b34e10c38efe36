package source_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// tripleLarge is LARGE three times over: its snapshot is about 55 MB of
// JSON as snapshot writes it, the size issue 28 measured.
var tripleLarge = large.Sizes{
	Namespaces: 3 * large.Namespaces, ServiceAccounts: 3 * large.ServiceAccounts, Roles: 3 * large.Roles,
	RoleBindings: 3 * large.RoleBindings, ClusterRoles: 3 * large.ClusterRoles, AggregatedRoles: 3 * large.AggregatedRoles,
	ClusterRoleBindings: 3 * large.ClusterRoleBindings, Users: 3 * large.Users, Groups: 3 * large.Groups,
}

// writeLarge writes the tripled LARGE snapshot as JSON (indented, as
// snapshot writes it) or YAML into dir, and drops the generated objects
// before the benchmark measures anything.
func writeLarge(b *testing.B, format string) string {
	b.Helper()
	s := large.Generate(1, tripleLarge)
	s.TypeMeta.Kind, s.TypeMeta.APIVersion = rbac.SnapshotKind, rbac.APIVersion
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	if format == "yaml" {
		if data, err = yaml.JSONToYAML(data); err != nil {
			b.Fatal(err)
		}
	}
	p := filepath.Join(b.TempDir(), "cluster."+format)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// heapObjects is the heap's live and not yet collected objects.
func heapObjects() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

// peakHeap samples the heap's objects every half millisecond while f
// runs, and gives the highest above the heap it started from, and what
// is left after a collection (what f's result holds).
func peakHeap(f func()) (peak, kept uint64) {
	read := heapObjects
	runtime.GC()
	base := read()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	peak = max(peak, read())
	runtime.GC()
	after := read()
	return peak - min(peak, base), after - min(after, base)
}

// benchReadMemory reads the file b.N times and reports the peak heap
// above where each read started, and its ratio to the file's size.
func benchReadMemory(b *testing.B, format string) {
	p := writeLarge(b, format)
	fi, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	var peak, kept uint64
	b.ResetTimer()
	for b.Loop() {
		var r *source.Result
		pk, k := peakHeap(func() {
			var err error
			if r, err = source.Read(b.Context(), []string{p}, source.ReadOptions{}); err != nil {
				b.Fatal(err)
			}
		})
		runtime.KeepAlive(r)
		peak, kept = max(peak, pk), max(kept, k)
	}
	b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	b.ReportMetric(float64(peak)/1e6, "peak-MB")
	b.ReportMetric(float64(peak)/float64(fi.Size()), "peak/file")
	// The result alone: the useful data the peak is a multiple of.
	b.ReportMetric(float64(kept)/1e6, "result-MB")
}

// BenchmarkReadSnapshotJSON: the peak heap reading a 55 MB snapshot in
// JSON, against its size.
func BenchmarkReadSnapshotJSON(b *testing.B) { benchReadMemory(b, "json") }

// BenchmarkReadSnapshotYAML: the same snapshot in YAML.
func BenchmarkReadSnapshotYAML(b *testing.B) { benchReadMemory(b, "yaml") }
