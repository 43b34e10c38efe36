package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/internal/gcpace"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

// AuditOptions select rules.
type AuditOptions struct {
	Only, Skip []string
	// People counts who is in each Entra group the findings name, with
	// the app's directory (Microsoft Graph, or --directory), bounded by
	// Context (nil: the app's timeout).
	People  bool
	Context context.Context
}

// Audit runs the rule catalogue over the session (the kubeconfig's
// credential included when live) and says where the report comes from.
// Findings are marked fixable where package fix has a fix for their rule.
func (s *Session) Audit(o AuditOptions) *audit.Report {
	opts := audit.Options{Only: o.Only, Skip: o.Skip, Credential: s.App.Credential, Fixable: fix.Has,
		Defaults: source.Defaults().Pinned(s.Index.Snapshot())}
	// An audit keeps its report while the probes' answers, also live,
	// turn to garbage: at 70 rather than the default 100 the dense
	// LARGE's audit stays under its 300 MiB ceiling (docs/benchmarks.md).
	rep := func() *audit.Report {
		defer gcpace.Tight(auditGCPercent)()
		return audit.Run(s.Index, opts)
	}()
	s.markLockouts(rep)
	rep.Warnings = slices.Concat(s.App.Warnings, s.Warnings, rep.Warnings)
	if o.People && s.App.People != nil {
		ctx := o.Context
		if ctx == nil {
			c, cancel := context.WithTimeout(context.Background(), s.App.timeout())
			defer cancel()
			ctx = c
		}
		s.countPeople(ctx, rep)
	}
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

// auditGCPercent is the collector's percent (GOGC) while an audit runs.
const auditGCPercent = 70

// GroupFindings summarises findings as the CLI's audit table does
// (audit.Groups, the listed findings: not those on Kubernetes' default
// policy): by rule, by the subject holding them, or by the binding whose
// fix removes them. The explorer's Findings page groups with it.
func GroupFindings(fs []audit.Finding, by audit.GroupBy) []audit.Group {
	return audit.Groups(fs, by, false)
}

// Report is the full audit of the session, run once on first use (the
// explorer's Findings page and fixes share it).
func (s *Session) Report() *audit.Report {
	s.reportOnce.Do(func() {
		s.report = s.Audit(AuditOptions{People: true})
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
	if !fix.LockoutPossible(s.Index) {
		// No person holds * on * cluster-wide: no fix can take it away
		// (and on a dense cluster, verifying each admin's fix is an
		// audit of the whole cluster each).
		return
	}
	admins := map[string]bool{}
	for _, g := range s.Index.WhoCan(rbac.Attributes{Verb: "*", APIGroup: "*", Resource: "*"}, false).Subjects {
		admins[g.Subject().Key()] = true
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		// The holders: a chain's fix takes the step from its subject, not
		// from the accounts it reaches.
		if !f.Fixable || !slices.ContainsFunc(f.Holders(), func(sub rbac.Subject) bool { return admins[sub.Key()] }) {
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

// PeopleCountLimit is how many members of a group the audit counts; past
// it the count says "at least".
const PeopleCountLimit = 1000

// countPeople says, in each finding about Entra groups, how many people
// are in them (guests apart), as the app's directory says: "a group of
// three" and "every employee" are not the same finding. A count that
// could not be read is a warning; the findings stand.
func (s *Session) countPeople(ctx context.Context, rep *audit.Report) {
	var groups []string
	for _, f := range rep.Findings {
		for _, sub := range f.Subjects {
			if sub.Kind == rbac.GroupKind && rbac.IsGUID(sub.Name) && !slices.Contains(groups, sub.Name) {
				groups = append(groups, sub.Name)
			}
		}
	}
	if len(groups) == 0 {
		return
	}
	ms, err := s.App.People.MembersOf(ctx, groups, PeopleCountLimit)
	if err != nil {
		rep.Warnings = append(rep.Warnings, rbac.Warnf(WarnPeople, "the members of the findings' groups could not all be counted (%s): %v", s.App.People.Source(), err))
	}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		var says []string
		for _, sub := range f.Subjects {
			m, ok := ms[sub.Name]
			if sub.Kind != rbac.GroupKind || !ok {
				continue
			}
			people, guests := m.People()
			f.People = append(f.People, audit.GroupPeople{Group: sub.Name, People: people, Guests: guests, Other: len(m.Members) - people, AtLeast: m.Truncated})
			says = append(says, "group:"+sub.Name+" has "+MembersSummary(m))
		}
		switch {
		case len(says) == 1 && len(f.Subjects) == 1:
			m := ms[f.Subjects[0].Name]
			f.Message += fmt.Sprintf(" (in the group: %s, by %s)", MembersSummary(m), s.App.People.Source())
		case len(says) > 0:
			f.Message += fmt.Sprintf(" (%s, by %s)", strings.Join(says, "; "), s.App.People.Source())
		}
	}
}
