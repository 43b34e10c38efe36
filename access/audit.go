package access

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// AuditOptions select rules.
type AuditOptions struct {
	Only, Skip []string
}

// Audit runs the rule catalogue over the session (the kubeconfig's
// credential included when live) and says where the report comes from.
// Findings are marked fixable where package fix has a fix for their rule.
func (s *Session) Audit(o AuditOptions) *audit.Report {
	opts := audit.Options{Only: o.Only, Skip: o.Skip, Credential: s.App.Credential, Fixable: fix.Has,
		Defaults: source.Defaults().Pinned(s.Index.Snapshot())}
	rep := audit.Run(s.Index, opts)
	rep.Warnings = slices.Concat(s.App.Warnings, s.Warnings, rep.Warnings)
	if s.App.Live() && s.App.Credential == nil {
		rep.Warnings = append(rep.Warnings, rbac.Warnf(WarnCredentialUnchecked, "the credentials rules were not checked: the kubeconfig's credential could not be inspected"))
	}
	if s.App.Live() {
		o := s.App.Origin
		rep.Cluster = &audit.Cluster{Context: o.Context, Server: o.Server, Version: o.Version}
	} else {
		rep.Source = s.App.Origin.String()
	}
	return rep
}

// Report is the full audit of the session, run once on first use (the
// explorer's Findings page and fixes share it).
func (s *Session) Report() *audit.Report {
	s.reportOnce.Do(func() {
		s.report = s.Audit(AuditOptions{})
		s.reported.Store(true)
	})
	return s.report
}

// Audited is the report when the audit has run, nil until then; it never
// waits (the explorer draws its first screen before the audit ends).
func (s *Session) Audited() *audit.Report {
	if !s.reported.Load() {
		return nil
	}
	return s.report
}

// reportCache is embedded in Session.
type reportCache struct {
	reportOnce sync.Once
	report     *audit.Report
	reported   atomic.Bool // report is set
}

// Locate finds an object of a finding in the files it was read from, for
// SARIF.
func (s *Session) Locate(r rbac.ObjectRef) (string, int, bool) {
	l, ok := s.Locations[r.Key()]
	return l.File, l.Line, ok
}
