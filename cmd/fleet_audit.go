package cmd

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/internal/version"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// runFleet audits several clusters into one FleetAuditReport.
func (o *AuditOptions) runFleet(ctx context.Context) error {
	fl, err := o.Fleet.Fleet(ctx, &o.Input, needs{credential: true, version: true})
	if err != nil {
		return err
	}
	ns, nsSet := o.namespace()
	names := o.Input.names
	sarif := o.Output.Value == FormatSARIF
	// SARIF points offline findings at file and line: the places of the
	// findings' objects are kept, not the sessions that know them all.
	places := map[string]map[rbac.ObjectRef]source.Location{}
	var mu sync.Mutex
	rep := fl.Audit(ctx, access.AuditOptions{Only: o.Only, Skip: o.Skip}, func(m access.Member, s *access.Session, r *audit.Report) {
		if nsSet {
			r.InNamespace(ns)
		}
		nameFindings(r, names)
		if sarif && len(s.Locations) > 0 {
			keep := map[rbac.ObjectRef]source.Location{}
			for _, f := range r.Findings {
				for _, obj := range f.Objects {
					if l, ok := s.Locations[obj.Key()]; ok {
						keep[obj.Key()] = l
					}
				}
			}
			mu.Lock()
			places[m.Context] = keep
			mu.Unlock()
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if o.fleetBaseline != nil {
		for _, c := range rep.Filter(o.fleetBaseline) {
			fmt.Fprintf(o.ErrOut, "Warning: the baseline %s has no report of cluster %s: all its findings are shown as new\n", safe.Terminal(o.Baseline), safe.Terminal(c))
		}
	}
	if o.GroupBy == "finding" {
		rep.GroupByFinding()
	}
	for _, c := range rep.Clusters {
		if c.Report != nil && o.groupBy != "" {
			c.Report.Groups = audit.Groups(c.Report.Findings, o.groupBy, o.All)
		}
	}
	switch o.Output.Value {
	case FormatJSON, FormatYAML:
		for _, c := range rep.Clusters {
			if c.Report != nil {
				c.Report.SharePaths() // each distinct path once a cluster
			}
		}
		err = writeFleetDoc(o.Out, o.Output.Value, rep)
	case FormatSARIF:
		for _, c := range rep.Clusters {
			if c.Report != nil {
				for i := range c.Report.Findings {
					c.Report.Findings[i].Message = names.Annotate(c.Report.Findings[i].Message)
				}
			}
		}
		var b []byte
		b, err = rep.SARIF(version.Version, func(context string) audit.Locator {
			keep := places[context]
			return func(r rbac.ObjectRef) (string, int, bool) {
				l, ok := keep[r.Key()]
				return l.File, l.Line, ok
			}
		})
		if err == nil {
			// Written as it is, not copied into a string: a SARIF log
			// of a dense cluster is tens of MB.
			if _, err = o.Out.Write(safe.JSON(b)); err == nil {
				_, err = io.WriteString(o.Out, "\n")
			}
		}
	case FormatCSV, FormatMarkdown:
		o.fleetWarnings(rep)
		err = printFleetRows(o.Out, o.Output.Value, rep, o.All, o.groupBy, names)
	default:
		o.fleetWarnings(rep)
		printFleet(o.Out, rep, o.table(names), names)
	}
	if err != nil {
		return err
	}
	return o.fleetGate(rep)
}

// fleetGate is the fleet's exit code: 3 when a finding on any cluster
// reaches --fail-on; 4 when a cluster was not read (or, with --fail-on,
// was read in part), unless --allow-incomplete.
func (o *AuditOptions) fleetGate(rep *audit.FleetReport) error {
	if o.FailOn != "" && rep.Reaches(o.failOn) {
		return &ExitCodeError{Code: ExitFailOn}
	}
	if o.AllowIncomplete {
		return nil
	}
	s := rep.Summary
	switch {
	case s.Failed > 0:
		fmt.Fprintf(o.ErrOut, "%d of %d clusters could not be read, so the fleet's report is incomplete (exit 4); --allow-incomplete judges what could be read\n", s.Failed, s.Clusters)
		return &ExitCodeError{Code: ExitIncomplete}
	case o.FailOn != "" && s.Incomplete > 0:
		fmt.Fprintf(o.ErrOut, "--fail-on: %d of %d clusters were read in part, so the gate fails (exit 4); --allow-incomplete judges what could be read\n", s.Incomplete, s.Clusters)
		return &ExitCodeError{Code: ExitIncomplete}
	}
	return nil
}

// fleetWarnings writes each cluster's warnings to stderr, headed by the
// cluster.
func (o *AuditOptions) fleetWarnings(rep *audit.FleetReport) {
	for _, c := range rep.Clusters {
		if c.Report != nil {
			printWarnings(clusterErrOut(o.ErrOut, c.Context), c.Report.Incomplete, c.Report.Warnings)
		}
	}
}

// printFleet writes the summary table, then each cluster's findings (or,
// grouped by finding, each finding once with its clusters), then the
// fleet's totals.
func printFleet(w io.Writer, rep *audit.FleetReport, o auditTable, names identity.Names) {
	t := newTable(w)
	fmt.Fprintln(t, "CLUSTER\tSERVER\tCRITICAL\tHIGH\tMEDIUM\tLOW\tINFO\tSTATUS")
	for _, c := range rep.Clusters {
		counts := "-\t-\t-\t-\t-"
		if r := c.Report; r != nil {
			s := r.Summary
			counts = fmt.Sprintf("%d\t%d\t%d\t%d\t%d", s.Critical, s.High, s.Medium, s.Low, s.Info)
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", cell(c.Context), cell(c.Server), counts, c.Status)
	}
	_ = t.Flush() // the command's output: a failed write has nowhere to go
	for _, c := range rep.Clusters {
		if c.Error != "" {
			wrap(w, o.width, 0, 4, fmt.Sprintf("%s: error: %s", c.Context, c.Error))
		}
	}
	if rep.Groups != nil {
		printGroups(w, rep, o, names)
	} else {
		for _, c := range rep.Clusters {
			if c.Report == nil {
				continue
			}
			fmt.Fprintln(w)
			clusterHeading(w, access.Result{Member: access.Member{Context: c.Context, Server: c.Server}})
			printAudit(w, c.Report, o)
		}
	}
	s := rep.Summary
	fmt.Fprintln(w)
	wrap(w, o.width, 0, 2, fmt.Sprintf("Fleet: %d clusters (%d read whole, %d in part, %d not read); %d critical, %d high, %d medium, %d low, %d info",
		s.Clusters, s.OK, s.Incomplete, s.Failed, s.Critical, s.High, s.Medium, s.Low, s.Info))
}

// printGroups writes each finding once with the clusters it is on.
func printGroups(w io.Writer, rep *audit.FleetReport, o auditTable, names identity.Names) {
	hidden := 0
	current := audit.Severity(-1)
	fmt.Fprintln(w)
	for _, g := range rep.Groups {
		if g.Default && !o.all {
			hidden++
			continue
		}
		if g.Severity != current {
			current = g.Severity
			fmt.Fprintln(w, strings.ToUpper(current.String()))
		}
		head := g.ID + ": " + names.Annotate(g.Message)
		if g.Fixable {
			head += " [fix]"
		}
		wrap(w, o.width, 2, 4, head)
		wrap(w, o.width, 6, 4, fmt.Sprintf("on %d of %d clusters: %s", len(g.Clusters), rep.Summary.Clusters, strings.Join(g.Clusters, ", ")))
		printEvidence(w, o, g.Evidence)
	}
	if len(rep.Groups) == hidden {
		fmt.Fprintln(w, "No findings.")
	}
	if hidden > 0 {
		fmt.Fprintf(w, "(%d findings on Kubernetes' default policy, unchanged, not listed: --all lists them)\n", hidden)
	}
}

// printFleetRows writes a fleet's findings as CSV or Markdown, a row a
// finding on a cluster (a finding once with its clusters, grouped), and a
// row for each cluster not read.
func printFleetRows(w io.Writer, format string, rep *audit.FleetReport, all bool, by audit.GroupBy, names identity.Names) error {
	if by != "" {
		// Each cluster's groups: a binding or a subject is one
		// cluster's.
		header, row := groupColumns(by, names)
		t := newRows(w, format, append([]string{"CLUSTER", "STATUS"}, header...)...)
		for _, c := range rep.Clusters {
			if c.Report == nil {
				t.add(c.Context, c.Status, "not read: "+c.Error)
				continue
			}
			for _, g := range audit.Groups(c.Report.Findings, by, all) {
				t.add(append([]string{c.Context, c.Status}, row(&g)...)...)
			}
		}
		return t.flush()
	}
	subjects := func(ss []rbac.Subject) string {
		var out []string
		for _, s := range ss {
			out = append(out, names.Subject(s))
		}
		return strings.Join(out, " ")
	}
	first := func(ps []rbac.Path) string {
		if len(ps) == 0 {
			return ""
		}
		return ps[0].String()
	}
	if rep.Groups != nil {
		t := newRows(w, format, "ID", "SEVERITY", "RULE", "CATEGORY", "SUBJECTS", "MESSAGE", "PATH", "FIXABLE", "MANAGED", "CLUSTERS")
		for _, g := range rep.Groups {
			if g.Default && !all {
				continue
			}
			t.add(g.ID, g.Severity.String(), g.Rule, string(g.Category), subjects(g.Subjects), names.Annotate(g.Message), first(g.Evidence),
				strconv.FormatBool(g.Fixable), strconv.FormatBool(g.Managed), strings.Join(g.Clusters, " "))
		}
		return t.flush()
	}
	t := newRows(w, format, "CLUSTER", "STATUS", "ID", "SEVERITY", "RULE", "CATEGORY", "SUBJECTS", "MESSAGE", "PATH", "FIXABLE", "MANAGED")
	for _, c := range rep.Clusters {
		if c.Report == nil {
			t.add(c.Context, c.Status, "", "", "", "", "", "not read: "+c.Error, "", "", "")
			continue
		}
		for _, f := range c.Report.Findings {
			if !audit.Listed(&f, all) {
				continue
			}
			t.add(c.Context, c.Status, f.ID, f.Severity.String(), f.Rule, string(f.Category), subjects(f.Subjects), names.Annotate(f.Message), first(f.Evidence),
				strconv.FormatBool(f.Fixable), strconv.FormatBool(f.Managed))
		}
	}
	return t.flush()
}
