package access

import (
	"errors"
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
	s.markLockouts(rep)
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
	// lockedOut are the findings markLockouts unmarked (any audit of the
	// session may add to it, from any goroutine).
	lockMu    sync.Mutex
	lockedOut map[string]bool
}

// LockedOut says whether the finding's fix is refused by the lockout
// guard alone: --allow-lockout (fix, explore) offers it.
func (s *Session) LockedOut(id string) bool {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	return s.lockedOut[id]
}

// Locate finds an object of a finding in the files it was read from, for
// SARIF.
func (s *Session) Locate(r rbac.ObjectRef) (string, int, bool) {
	l, ok := s.Locations[r.Key()]
	return l.File, l.Line, ok
}

// markLockouts unmarks the findings whose fix the lockout guard refuses
// (it would leave no person holding * on * cluster-wide), saying why, so
// that no surface offers a fix that `fix` would then refuse. Only findings
// about a person who holds * on * cluster-wide can be such: their fixes
// are checked, the others are not.
func (s *Session) markLockouts(rep *audit.Report) {
	admins := map[string]bool{}
	for _, g := range s.Index.WhoCan(rbac.Attributes{Verb: "*", APIGroup: "*", Resource: "*"}, false).Subjects {
		admins[g.Subject().Key()] = true
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if !f.Fixable || !slices.ContainsFunc(f.Subjects, func(sub rbac.Subject) bool { return admins[sub.Key()] }) {
			continue
		}
		o := fix.Options{}
		if s.App.Catalog != nil {
			o.Resources = s.App.Catalog.GroupResources
		}
		if _, err := fix.For(s.Index, f, o); errors.Is(err, fix.ErrLockout) {
			s.lockMu.Lock()
			if s.lockedOut == nil {
				s.lockedOut = map[string]bool{}
			}
			s.lockedOut[f.ID] = true
			s.lockMu.Unlock()
			f.Fixable = false
			f.Message += " (no fix offered: it would leave no person holding * on * cluster-wide; fix --allow-lockout shows it)"
		}
	}
}
