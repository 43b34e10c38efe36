package livebench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/kubectl-access/kubectl-access/source"
)

// FleetSize is how many clusters the fleet benchmark audits: copies of
// the benchmark cluster's snapshot, each a cluster of the fleet.
const FleetSize = 5

// FleetParallel is the --parallel the fleet is audited with: the tool's
// default.
const FleetParallel = 4

// FleetResult compares auditing FleetSize snapshots as one fleet with
// auditing them one after another, in the same run.
type FleetResult struct {
	Clusters    int
	SnapshotMiB float64
	// Sequential is the median over the runs of the sum of the single
	// audits' walls; SingleRSSMiB the largest peak RSS of one.
	Sequential   time.Duration
	SingleRSSMiB float64
	// Fleet is audit -f DIR at FleetParallel; Serial at --parallel 1
	// (whose peak RSS shows what one cluster at a time costs).
	Fleet, Serial             time.Duration
	FleetRSSMiB, SerialRSSMiB float64
}

// Ratio is the fleet's wall against the clusters audited one after
// another.
func (f *FleetResult) Ratio() float64 { return float64(f.Fleet) / float64(f.Sequential) }

// reportShare bounds what each cluster beyond the first (or beyond the
// --parallel in flight) may add to peak memory, as a share of a single
// audit's peak RSS: its report is kept (it is the output), its index is
// released. An index kept would add about a whole single audit per cluster.
const reportShare = 0.5

// memoryCeiling is the peak RSS a fleet of n read p at a time may reach.
func (f *FleetResult) memoryCeiling(p int) float64 {
	return f.SingleRSSMiB * (float64(p) + reportShare*float64(f.Clusters-p))
}

// Missed says which of the fleet's ceilings were missed: never slower
// than the audits one after another; memory that grows with the fleet
// only by the reports kept (memoryCeiling), at --parallel 1 and at the
// default.
func (f *FleetResult) Missed() []string {
	var out []string
	if f.Fleet > f.Sequential {
		out = append(out, fmt.Sprintf("fleet: %s, slower than %d audits one after another (%s)", ms(f.Fleet), f.Clusters, ms(f.Sequential)))
	}
	if c := f.memoryCeiling(1); f.SerialRSSMiB > c {
		out = append(out, fmt.Sprintf("fleet --parallel 1: %.0f MiB, over %.0f MiB (a single audit's %.0f plus %.1fx that for each further cluster's report): indexes are kept", f.SerialRSSMiB, c, f.SingleRSSMiB, reportShare))
	}
	if c := f.memoryCeiling(FleetParallel); f.FleetRSSMiB > c {
		out = append(out, fmt.Sprintf("fleet --parallel %d: %.0f MiB, over %.0f MiB", FleetParallel, f.FleetRSSMiB, c))
	}
	return out
}

// runFleet saves the cluster's snapshot once, writes a fleet directory of
// FleetSize copies, and measures the three ways of auditing them.
func runFleet(r *runner, bin, kubeconfig string, runs int, progress io.Writer) (*FleetResult, error) {
	dir, err := os.MkdirTemp("", "kubectl-access-fleet-bench-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // a temporary directory: best effort
	rep, snap, stderr, err := r.run([]string{bin, "snapshot", "-o", "json", "--kubeconfig", kubeconfig})
	if err != nil {
		return nil, err
	}
	if rep.Err != "" {
		return nil, fmt.Errorf("snapshot: %s: %s", rep.Err, stderr)
	}
	res := &FleetResult{Clusters: FleetSize, SnapshotMiB: float64(len(snap)) / (1 << 20)}
	var files []string
	var entries []source.FleetEntry
	for i := range FleetSize {
		name := "c" + strconv.Itoa(i+1) + ".json"
		files = append(files, filepath.Join(dir, name))
		entries = append(entries, source.FleetEntry{Context: "c" + strconv.Itoa(i+1), File: name})
		if err := os.WriteFile(files[i], snap, 0o600); err != nil {
			return nil, err
		}
	}
	snap = nil
	if err := source.WriteFleetIndex(dir, entries, true); err != nil {
		return nil, err
	}
	audit := func(args ...string) (runReply, error) {
		rep, out, stderr, err := r.run(append([]string{bin, "audit", "-o", "json"}, args...))
		if err == nil && rep.Err != "" {
			err = fmt.Errorf("audit %v: %s: %s", args, rep.Err, stderr)
		}
		if err == nil && len(out) == 0 {
			err = errors.New("audit wrote nothing")
		}
		return rep, err
	}
	// Warm up the page cache.
	if _, err := audit("-f", dir); err != nil {
		return nil, err
	}
	var seq, fleet, serial []time.Duration
	for i := range runs {
		var sum time.Duration
		for _, f := range files {
			rep, err := audit("-f", f)
			if err != nil {
				return nil, err
			}
			sum += rep.Wall
			res.SingleRSSMiB = max(res.SingleRSSMiB, float64(rep.MaxRSSKiB)/1024)
		}
		seq = append(seq, sum)
		rep, err := audit("-f", dir, "--parallel", strconv.Itoa(FleetParallel))
		if err != nil {
			return nil, err
		}
		fleet = append(fleet, rep.Wall)
		res.FleetRSSMiB = max(res.FleetRSSMiB, float64(rep.MaxRSSKiB)/1024)
		if rep, err = audit("-f", dir, "--parallel", "1"); err != nil {
			return nil, err
		}
		serial = append(serial, rep.Wall)
		res.SerialRSSMiB = max(res.SerialRSSMiB, float64(rep.MaxRSSKiB)/1024)
		if progress != nil {
			fmt.Fprintf(progress, "fleet run %d/%d: %d audits one after another %s, fleet %s, fleet --parallel 1 %s\n", i+1, runs, FleetSize, ms(sum), ms(fleet[i]), ms(serial[i]))
		}
	}
	res.Sequential, res.Fleet, res.Serial = median(seq), median(fleet), median(serial)
	return res, nil
}

// print writes the fleet's figures.
func (f *FleetResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nfleet: %d copies of the cluster's snapshot (%.0f MiB of JSON each), audited offline (-f DIR)\n", f.Clusters, f.SnapshotMiB)
	fmt.Fprintf(w, "%-36s %10s %8s %9s\n", "HOW", "WALL", "xSEQ", "RSS MiB")
	fmt.Fprintf(w, "%-36s %10s %8.2f %9.1f  (largest single audit)\n", fmt.Sprintf("%d audits one after another", f.Clusters), ms(f.Sequential), 1.0, f.SingleRSSMiB)
	fmt.Fprintf(w, "%-36s %10s %8.2f %9.1f\n", fmt.Sprintf("one fleet audit, --parallel %d", FleetParallel), ms(f.Fleet), f.Ratio(), f.FleetRSSMiB)
	fmt.Fprintf(w, "%-36s %10s %8.2f %9.1f\n", "one fleet audit, --parallel 1", ms(f.Serial), float64(f.Serial)/float64(f.Sequential), f.SerialRSSMiB)
	if missed := f.Missed(); len(missed) > 0 {
		for _, m := range missed {
			fmt.Fprintf(w, "  MISSED: %s\n", m)
		}
		return
	}
	fmt.Fprintf(w, "  met: never slower than one after another; peak RSS within a single audit's plus %.1fx that per further cluster (its report is kept, its index released): %.0f MiB at --parallel 1, %.0f MiB at --parallel %d\n",
		reportShare, f.memoryCeiling(1), f.memoryCeiling(FleetParallel), FleetParallel)
}
