package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// FleetKind is the kind of the FleetAuditReport document.
const FleetKind = "FleetAuditReport"

// A fleet cluster's status: whether its report can be trusted whole.
const (
	StatusOK         = "ok"
	StatusIncomplete = "incomplete" // read in part: findings may be missing
	StatusError      = "error"      // not read at all: no report
)

// FleetReport is the FleetAuditReport document: one audit of many
// clusters, each with its own report and status.
type FleetReport struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Summary    FleetSummary   `json:"summary"`
	Clusters   []FleetCluster `json:"clusters"`
	// Groups (--group-by finding) are the findings once each, with the
	// clusters they are on.
	Groups []FleetGroup `json:"groups,omitempty"`
}

// FleetSummary counts clusters by status and findings by severity across
// the fleet.
type FleetSummary struct {
	Clusters   int `json:"clusters"`
	OK         int `json:"ok"`
	Incomplete int `json:"incomplete"`
	Failed     int `json:"failed"`
	Summary    `json:",inline"`
}

// FleetCluster is one cluster of the fleet: its kubeconfig context (or,
// offline, the context its snapshot was saved from), its server, and its
// report or why there is none.
type FleetCluster struct {
	Context string  `json:"context"`
	Server  string  `json:"server,omitempty"`
	Status  string  `json:"status"`
	Error   string  `json:"error,omitempty"`
	Report  *Report `json:"report,omitempty"`
}

// FleetGroup is one finding (the same id: the same rule on the same
// subjects and objects) and the clusters it is on.
type FleetGroup struct {
	ID       string         `json:"id"`
	Rule     string         `json:"rule"`
	Severity Severity       `json:"severity"`
	Category Category       `json:"category"`
	Title    string         `json:"title"`
	Message  string         `json:"message"`
	Subjects []rbac.Subject `json:"subjects"`
	Evidence []rbac.Path    `json:"evidence"`
	Fixable  bool           `json:"fixable"`
	Managed  bool           `json:"managed,omitempty"`
	Default  bool           `json:"default,omitempty"`
	Clusters []string       `json:"clusters"`
}

// NewFleetReport joins the clusters' results, in the order given, and
// counts them.
func NewFleetReport(clusters []FleetCluster) *FleetReport {
	f := &FleetReport{APIVersion: rbac.APIVersion, Kind: FleetKind, Clusters: clusters}
	if f.Clusters == nil {
		f.Clusters = []FleetCluster{}
	}
	f.Recount()
	return f
}

// ClusterStatus is the status of a cluster whose load ended with err and
// report rep.
func ClusterStatus(rep *Report, err error) string {
	switch {
	case err != nil || rep == nil:
		return StatusError
	case rep.Incomplete:
		return StatusIncomplete
	}
	return StatusOK
}

// Recount sets the summary from the clusters (after a baseline or a
// namespace narrowed their reports).
func (f *FleetReport) Recount() {
	s := FleetSummary{Clusters: len(f.Clusters)}
	for _, c := range f.Clusters {
		switch c.Status {
		case StatusOK:
			s.OK++
		case StatusIncomplete:
			s.Incomplete++
		default:
			s.Failed++
		}
		if c.Report == nil {
			continue
		}
		r := c.Report.Summary
		s.Critical += r.Critical
		s.High += r.High
		s.Medium += r.Medium
		s.Low += r.Low
		s.Info += r.Info
	}
	f.Summary = s
}

// Reaches says whether a finding on any cluster is at or above s.
func (f *FleetReport) Reaches(s Severity) bool {
	return slices.ContainsFunc(f.Clusters, func(c FleetCluster) bool { return c.Report != nil && c.Report.Reaches(s) })
}

// Filter compares each cluster's report with the same cluster's in an
// earlier fleet report (by context, else by server) and keeps what is new.
// A cluster the baseline lacks keeps every finding; its name is returned.
func (f *FleetReport) Filter(baseline *FleetReport) (unmatched []string) {
	for i := range f.Clusters {
		c := &f.Clusters[i]
		if c.Report == nil {
			continue
		}
		b := baseline.Cluster(c.Context, c.Server)
		if b == nil || b.Report == nil {
			unmatched = append(unmatched, c.Context)
			c.Report.Filter(&Report{})
			continue
		}
		c.Report.Filter(b.Report)
	}
	f.Recount()
	return unmatched
}

// Cluster finds a cluster by context, else by server; nil when neither
// matches.
func (f *FleetReport) Cluster(context, server string) *FleetCluster {
	for i := range f.Clusters {
		if f.Clusters[i].Context == context {
			return &f.Clusters[i]
		}
	}
	for i := range f.Clusters {
		if server != "" && f.Clusters[i].Server == server {
			return &f.Clusters[i]
		}
	}
	return nil
}

// GroupByFinding sets Groups: each finding once (by id), at the highest
// severity it has anywhere, with the clusters it is on in the fleet's
// order; the most severe first, then the most widespread.
func (f *FleetReport) GroupByFinding() {
	at := map[string]int{}
	var groups []FleetGroup
	for _, c := range f.Clusters {
		if c.Report == nil {
			continue
		}
		for _, x := range c.Report.Findings {
			i, ok := at[x.ID]
			if !ok {
				at[x.ID] = len(groups)
				groups = append(groups, FleetGroup{ID: x.ID, Rule: x.Rule, Severity: x.Severity, Category: x.Category, Title: x.Title,
					Message: x.Message, Subjects: x.Subjects, Evidence: x.Evidence, Fixable: x.Fixable, Managed: x.Managed, Default: x.Default})
				i = len(groups) - 1
			}
			g := &groups[i]
			g.Severity = max(g.Severity, x.Severity)
			g.Managed = g.Managed && x.Managed
			g.Default = g.Default && x.Default
			if !slices.Contains(g.Clusters, c.Context) {
				g.Clusters = append(g.Clusters, c.Context)
			}
		}
	}
	slices.SortStableFunc(groups, func(a, b FleetGroup) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(len(b.Clusters), len(a.Clusters)),
			cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
	if groups == nil {
		groups = []FleetGroup{}
	}
	f.Groups = groups
}

// SARIF renders the fleet as one SARIF 2.1.0 log with a run per cluster:
// the cluster is named in each run's properties and automation id (so code
// scanning keeps the runs apart) and in each result's logical locations.
// A cluster that could not be read is a run that did not succeed, with its
// error. locate gives each cluster's locator (nil: none).
func (f *FleetReport) SARIF(toolVersion string, locate func(context string) Locator) ([]byte, error) {
	log := sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{}}
	for _, c := range f.Clusters {
		var run sarifRun
		if c.Report != nil {
			var l Locator
			if locate != nil {
				l = locate(c.Context)
			}
			run = c.Report.sarifRun(toolVersion, l)
		} else {
			run = (&Report{Findings: []Finding{}}).sarifRun(toolVersion, nil)
			run.Invocations = []sarifInvocation{{ExecutionSuccessful: false, ToolExecutionNotifications: []sarifNotification{
				{Level: "error", Message: sarifText{fmt.Sprintf("cluster %s was not read: %s", c.Context, c.Error)}}}}}
		}
		run.AutomationDetails = &sarifAutomation{ID: "kubectl-access/" + c.Context + "/"}
		run.Properties = map[string]string{"cluster": c.Context, "server": c.Server, "status": c.Status}
		run.LogicalLocations = append(run.LogicalLocations, sarifLogical{Name: c.Context, FullyQualifiedName: c.Context, Kind: "cluster"})
		cluster := logicalRef(len(run.LogicalLocations) - 1)
		for i := range run.Results {
			r := &run.Results[i]
			r.PartialFingerprints["kubectlAccessCluster/v1"] = c.Context
			if len(r.Locations) == 0 {
				r.Locations = []sarifLocation{{}}
			}
			for j := range r.Locations {
				r.Locations[j].LogicalLocations = append(r.Locations[j].LogicalLocations, cluster)
			}
		}
		log.Runs = append(log.Runs, run)
	}
	return json.MarshalIndent(log, "", "  ")
}
