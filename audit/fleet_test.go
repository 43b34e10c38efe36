package audit_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// fleetOf audits the files of testdata/fleet-like clusters: "east" reads
// the fixtures, "west" the fixtures' cluster-admin binding only, "down"
// was not read.
func fleetOf(t *testing.T) (*audit.FleetReport, map[rbac.ObjectRef]source.Location) {
	t.Helper()
	snap, where, err := source.Files([]string{"testdata/fixtures.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	east := audit.Run(rbac.NewIndex(snap), audit.Options{})
	west := audit.Run(rbac.NewIndex(snap), audit.Options{Only: []string{"cluster-admin-equivalent"}})
	if len(west.Findings) == 0 || len(east.Findings) <= len(west.Findings) {
		t.Fatalf("fixtures: east %d findings, west %d", len(east.Findings), len(west.Findings))
	}
	return audit.NewFleetReport([]audit.FleetCluster{
		{Context: "east", Server: "https://east:443", Status: audit.ClusterStatus(east, nil), Report: east},
		{Context: "west", Server: "https://west:443", Status: audit.ClusterStatus(west, nil), Report: west},
		{Context: "down", Server: "https://down:443", Status: audit.ClusterStatus(nil, errors.New("connection refused")), Error: "connection refused"},
	}), where
}

// TestFleetReport: the summary adds the clusters' findings and counts them
// by status; the gate sees every cluster's findings; grouping shows each
// finding once with its clusters, the most severe and widespread first.
func TestFleetReport(t *testing.T) {
	f, _ := fleetOf(t)
	east, west := f.Clusters[0].Report, f.Clusters[1].Report
	s := f.Summary
	if s.Clusters != 3 || s.OK != 2 || s.Failed != 1 || s.Incomplete != 0 || s.OK == s.Clusters {
		t.Errorf("cluster counts: %+v", s)
	}
	if s.Critical != east.Summary.Critical+west.Summary.Critical || s.Medium != east.Summary.Medium+west.Summary.Medium {
		t.Errorf("severity totals %+v from %+v and %+v", s.Summary, east.Summary, west.Summary)
	}
	if !f.Reaches(audit.Critical) || f.Clusters[2].Status != audit.StatusError {
		t.Errorf("Reaches(critical) %v, down's status %q", f.Reaches(audit.Critical), f.Clusters[2].Status)
	}
	f.GroupByFinding()
	if len(f.Groups) != len(east.Findings) {
		t.Fatalf("%d groups, want one per distinct finding (%d: west's are all east's too)", len(f.Groups), len(east.Findings))
	}
	for i, g := range f.Groups {
		want := []string{"east"}
		if slices.ContainsFunc(west.Findings, func(x audit.Finding) bool { return x.ID == g.ID }) {
			want = []string{"east", "west"}
		}
		if !slices.Equal(g.Clusters, want) {
			t.Errorf("%s on %v, want %v", g.ID, g.Clusters, want)
		}
		if i > 0 {
			p := f.Groups[i-1]
			if p.Severity < g.Severity || p.Severity == g.Severity && len(p.Clusters) < len(g.Clusters) {
				t.Errorf("%s (%s, %d clusters) sorted after %s (%s, %d)", g.ID, g.Severity, len(g.Clusters), p.ID, p.Severity, len(p.Clusters))
			}
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind":"FleetAuditReport"`, `"apiVersion":"access.kubectl.io/v1alpha1"`, `"context":"down"`, `"status":"error"`, `"error":"connection refused"`, `"failed":1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the document lacks %s", want)
		}
	}
}

// TestFleetBaseline: each cluster is compared with the same cluster of the
// baseline; a cluster the baseline lacks keeps all its findings and is
// named.
func TestFleetBaseline(t *testing.T) {
	base, _ := fleetOf(t)
	base.Clusters = base.Clusters[:1] // only east was audited before
	now, _ := fleetOf(t)
	unmatched := now.Filter(base)
	if !slices.Equal(unmatched, []string{"west"}) {
		t.Errorf("unmatched %v, want [west]", unmatched)
	}
	if n := len(now.Clusters[0].Report.Findings); n != 0 || now.Clusters[0].Report.Baseline.Suppressed == 0 {
		t.Errorf("east against its own baseline: %d findings left, %+v", n, now.Clusters[0].Report.Baseline)
	}
	if now.Clusters[1].Report.Baseline.New != len(now.Clusters[1].Report.Findings) || len(now.Clusters[1].Report.Findings) == 0 {
		t.Errorf("west without a baseline: %+v", now.Clusters[1].Report.Baseline)
	}
	if now.Summary.Critical != now.Clusters[1].Report.Summary.Critical {
		t.Errorf("the summary was not recounted: %+v", now.Summary)
	}
	// By server when the context was renamed.
	base.Clusters[0].Context = "renamed"
	if c := base.Cluster("east", "https://east:443"); c == nil || c.Context != "renamed" {
		t.Errorf("no match by server: %+v", c)
	}
}

// TestFleetSARIF: one run per cluster, valid SARIF 2.1.0, each run named
// by its cluster (properties and a distinct automation id) and each
// result's locations naming the cluster; the cluster not read is a run
// that did not succeed, with its error.
func TestFleetSARIF(t *testing.T) {
	f, where := fleetOf(t)
	b, err := f.SARIF("v1.2.3", func(context string) audit.Locator {
		if context != "east" {
			return nil
		}
		return func(o rbac.ObjectRef) (string, int, bool) {
			l, ok := where[o.Key()]
			return l.File, l.Line, ok
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(b); err != nil {
		t.Fatalf("not valid SARIF 2.1.0: %v", err)
	}
	var log struct {
		Runs []struct {
			AutomationDetails struct{ ID string } `json:"automationDetails"`
			Properties        map[string]string   `json:"properties"`
			Invocations       []struct {
				ExecutionSuccessful        bool `json:"executionSuccessful"`
				ToolExecutionNotifications []struct {
					Message struct{ Text string } `json:"message"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			// The run's logical locations, each once, which results
			// refer to by index.
			LogicalLocations []struct {
				Name string `json:"name"`
				Kind string `json:"kind"`
			} `json:"logicalLocations"`
			Results []struct {
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Locations           []struct {
					PhysicalLocation *struct{} `json:"physicalLocation"`
					LogicalLocations []struct {
						Index *int `json:"index"`
					} `json:"logicalLocations"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(b, &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 3 {
		t.Fatalf("%d runs, want 3", len(log.Runs))
	}
	ids := map[string]bool{}
	for i, run := range log.Runs {
		c := f.Clusters[i]
		ids[run.AutomationDetails.ID] = true
		if run.Properties["cluster"] != c.Context || run.Properties["server"] != c.Server || run.Properties["status"] != c.Status {
			t.Errorf("run %d properties %v", i, run.Properties)
		}
		n := 0
		if c.Report != nil {
			n = len(c.Report.Findings)
		}
		if len(run.Results) != n {
			t.Errorf("run %s: %d results, want %d", c.Context, len(run.Results), n)
		}
		for _, r := range run.Results {
			if r.PartialFingerprints["kubectlAccessCluster/v1"] != c.Context {
				t.Errorf("run %s: fingerprints %v", c.Context, r.PartialFingerprints)
			}
			for _, l := range r.Locations {
				if !slices.ContainsFunc(l.LogicalLocations, func(x struct {
					Index *int `json:"index"`
				}) bool {
					if x.Index == nil || *x.Index < 0 || *x.Index >= len(run.LogicalLocations) {
						t.Errorf("run %s: a logical location that is not a reference to the run's: %v", c.Context, x.Index)
						return false
					}
					ll := run.LogicalLocations[*x.Index]
					return ll.Kind == "cluster" && ll.Name == c.Context
				}) {
					t.Errorf("run %s: a location without the cluster: %+v", c.Context, l)
				}
			}
		}
	}
	if len(ids) != 3 {
		t.Errorf("automation ids not distinct: %v", ids)
	}
	if phys := log.Runs[0].Results[0].Locations[0].PhysicalLocation; phys == nil {
		t.Error("east's results lost their file and line")
	}
	down := log.Runs[2].Invocations[0]
	if down.ExecutionSuccessful || len(down.ToolExecutionNotifications) != 1 || !strings.Contains(down.ToolExecutionNotifications[0].Message.Text, "connection refused") {
		t.Errorf("the cluster not read: %+v", down)
	}
}

// TestFindingIDsAreDistinct: no two findings of a report share an id
// (the fixtures hold an escalation through creating pods and one through
// minting tokens by the same binding, which once did), so `fix ID`,
// --baseline and a fleet's grouping never take one finding for another.
func TestFindingIDsAreDistinct(t *testing.T) {
	snap, _, err := source.Files([]string{"testdata/fixtures.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := audit.Run(rbac.NewIndex(snap), audit.Options{})
	seen := map[string]string{}
	for _, f := range rep.Findings {
		if prev, ok := seen[f.ID]; ok {
			t.Errorf("%s is the id of %q and of %q", f.ID, prev, f.Message)
		}
		seen[f.ID] = f.Message
		if rule, err := audit.ParseID(f.ID); err != nil || rule != f.Rule {
			t.Errorf("%s: ParseID %q %v", f.ID, rule, err)
		}
	}
	if len(seen) < 30 {
		t.Fatalf("only %d findings in the fixtures", len(seen))
	}
}
