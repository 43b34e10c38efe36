package access

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Verification asks the cluster's own authorizer chain (RBAC and whatever
// else it runs: the Node authorizer, Azure RBAC's guard, another webhook)
// about the requests an answer decided, with SubjectAccessReviews, and
// reports where it disagrees. It never changes the answer.

// Decision is the server's word on one request.
type Decision struct {
	Allowed bool
	// Denied: an authorizer denied outright (a webhook's deny), not only
	// "no opinion" from every authorizer.
	Denied bool
	// Reason is the server's reason; its text shows which authorizer
	// decided (RBAC's "RBAC: allowed by ...", the Node authorizer's, a
	// webhook's own words).
	Reason string
	// EvaluationError is an authorizer's failure the server reported.
	EvaluationError string
}

// Reviewer asks the cluster's authorizer chain about one request, as the
// subject: user, groups and, for an Entra identity named by its object
// id, extra.oid.
type Reviewer interface {
	Review(ctx context.Context, sub rbac.Subject, at rbac.Attributes) (Decision, error)
}

// ErrReviewForbidden says the caller may not create SubjectAccessReviews.
var ErrReviewForbidden = errors.New("verifying needs create on subjectaccessreviews.authorization.k8s.io (ClusterRole kubectl-access-reader in deploy/reader.yaml grants it)")

// Verification is what the server said of an answer.
type Verification struct {
	// Checked requests, and how many of them the server decided as the
	// answer did.
	Checked int `json:"checked"`
	Agreed  int `json:"agreed"`
	// Sampled says what was left unchecked when the checks were a sample
	// (--verify=all checks everything).
	Sampled string `json:"sampled,omitempty"`
	// Disagreements are every request the server decided otherwise.
	Disagreements []Disagreement `json:"disagreements"`
}

// Disagreement is one request the server decided otherwise than the
// answer.
type Disagreement struct {
	Subject rbac.Subject    `json:"subject"`
	Request rbac.Attributes `json:"request"`
	// Ours and Server are "allowed" or "denied".
	Ours   string `json:"ours"`
	Server string `json:"server"`
	// Reason is the server's reason (and its evaluation error, if any).
	Reason string `json:"reason"`
}

// Agrees says whether the server agreed with every checked request.
func (v *Verification) Agrees() bool { return v == nil || len(v.Disagreements) == 0 }

// Verification marks on subjects and rules.
const (
	VerifiedAgreed    = "agreed"
	VerifiedDisagreed = "disagreed"
	VerifiedUnchecked = "unchecked"
)

// VerifyOptions bound a verification.
type VerifyOptions struct {
	// All checks every bound subject a who-can answer leaves out and every
	// request a what-can rule expands to; otherwise a sample of each.
	All bool
	// Denied is how many bound subjects a who-can answer leaves out to
	// check (0: DefaultVerifyDenied); Requests how many requests a
	// what-can answer's rules expand to at most (0: DefaultVerifyRequests).
	Denied, Requests int
	// Parallel bounds the reviews in flight (0: DefaultVerifyParallel).
	Parallel int
}

// Defaults of VerifyOptions.
const (
	DefaultVerifyDenied   = 50
	DefaultVerifyRequests = 500
	DefaultVerifyParallel = 8
)

// check is one request to ask the server about.
type check struct {
	sub  rbac.Subject
	at   rbac.Attributes
	ours bool
	// mark records the server's agreement on what the check came from.
	mark func(agreed bool)
}

func (s *Session) reviewer() (Reviewer, error) {
	if s.App.Cluster == nil {
		return nil, errors.New("verifying asks the cluster's own authorizer, and this answer was read from files: ask it of a cluster (without -f)")
	}
	r, ok := s.App.Cluster.(Reviewer)
	if !ok {
		return nil, errors.New("this cluster connection cannot ask SubjectAccessReviews")
	}
	return r, nil
}

// run asks the server about every check, at most o.Parallel at a time.
// A forbidden review ends it with ErrReviewForbidden.
func (s *Session) run(ctx context.Context, checks []check, o VerifyOptions) (*Verification, error) {
	r, err := s.reviewer()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	v := &Verification{Disagreements: []Disagreement{}}
	var mu sync.Mutex
	sem := make(chan struct{}, cmp.Or(o.Parallel, DefaultVerifyParallel))
	var wg sync.WaitGroup
	for i := range checks {
		c := &checks[i]
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			cctx, ccancel := context.WithTimeout(ctx, s.App.callTimeout())
			defer ccancel()
			d, err := r.Review(cctx, c.sub, c.at)
			if err != nil {
				cancel(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			v.Checked++
			agreed := d.Allowed == c.ours
			if agreed {
				v.Agreed++
			} else {
				reason := d.Reason
				if d.EvaluationError != "" {
					reason = cmp.Or(reason+"; ", "") + "evaluation error: " + d.EvaluationError
				}
				v.Disagreements = append(v.Disagreements, Disagreement{Subject: c.sub, Request: c.at,
					Ours: decisionWord(c.ours), Server: decisionWord(d.Allowed), Reason: cmp.Or(reason, "(the server gave no reason)")})
			}
			if c.mark != nil {
				c.mark(agreed)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(v.Disagreements, func(a, b Disagreement) int {
		return cmp.Or(cmp.Compare(a.Subject.String(), b.Subject.String()), cmp.Compare(a.Request.Namespace, b.Request.Namespace), cmp.Compare(a.Request.String(), b.Request.String()))
	})
	return v, nil
}

func decisionWord(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}

// VerifyCan asks the server about the one request decided.
func (s *Session) VerifyCan(ctx context.Context, ans *CanAnswer, o VerifyOptions) error {
	v, err := s.run(ctx, []check{{sub: ans.Subject, at: ans.Query, ours: ans.Allowed}}, o)
	if err != nil {
		return err
	}
	ans.Verification = v
	return nil
}

// VerifyWhoCan asks the server about every subject the answer lists as
// allowed (in the namespace of a path that allows it, with -A) and about
// bound subjects it leaves out: a sample, or all of them with o.All, each
// in every namespace one of its RoleBindings is in and cluster-wide.
func (s *Session) VerifyWhoCan(ctx context.Context, ans *WhoCanAnswer, o VerifyOptions) error {
	at := ans.Query.Attributes
	var checks []check
	listed := map[subjectID]bool{}
	for i := range ans.Subjects {
		g := &ans.Subjects[i]
		listed[idOf(g.Subject())] = true
		req := at
		if ans.Query.AllNamespaces {
			req.Namespace = grantNamespace(g.Via)
		}
		checks = append(checks, check{sub: g.Subject(), at: req, ours: true, mark: markGrant(g)})
	}
	// Bound subjects left out, each with the namespaces its RoleBindings
	// are in.
	where := map[subjectID][]string{}
	var order []subjectID
	for _, b := range s.Index.Bindings() {
		for _, sub := range b.Subjects {
			id, ok := subjectOf(sub, b.Ref.Namespace)
			if !ok || listed[id] {
				continue
			}
			if _, seen := where[id]; !seen {
				order = append(order, id)
				where[id] = nil
			}
			if ans.Query.AllNamespaces && b.Ref.Namespace != "" && !slices.Contains(where[id], b.Ref.Namespace) {
				where[id] = append(where[id], b.Ref.Namespace)
			}
		}
	}
	slices.SortFunc(order, func(a, b subjectID) int { return cmp.Compare(a.String(), b.String()) })
	sample, note := pick(order, cmp.Or(o.Denied, DefaultVerifyDenied), o.All)
	for _, id := range sample {
		sub := id.subject()
		nss := []string{at.Namespace}
		if ans.Query.AllNamespaces {
			nss = append([]string{""}, where[id]...)
		}
		for _, ns := range nss {
			req := at
			req.Namespace = ns
			ours := s.Index.Can(sub.Identity(), req).Allowed
			checks = append(checks, check{sub: sub, at: req, ours: ours})
		}
	}
	v, err := s.run(ctx, checks, o)
	if err != nil {
		return err
	}
	if note != "" {
		v.Sampled = fmt.Sprintf("checked %s of the %d bound subjects the answer leaves out (--verify=all checks every one)", note, len(order))
	}
	ans.Verification = v
	return nil
}

// markGrant records the server's word on a listed subject.
func markGrant(g *rbac.SubjectGrant) func(bool) {
	return func(agreed bool) {
		g.Verified = VerifiedDisagreed
		if agreed {
			g.Verified = VerifiedAgreed
		}
	}
}

// grantNamespace is where to ask about a subject a who-can -A answer
// lists: cluster-wide when a ClusterRoleBinding (or system:masters) grants
// it, else the namespace of its first RoleBinding.
func grantNamespace(via []rbac.Path) string {
	for _, p := range via {
		if p.Azure != nil {
			return p.GrantNamespace()
		}
		if p.Binding == nil || p.Binding.Kind == "ClusterRoleBinding" {
			return ""
		}
	}
	if len(via) > 0 {
		return via[0].Binding.Namespace
	}
	return ""
}

// VerifyWhatCan asks the server about the requests every listed rule
// grants (fix.Atoms): each verb x group x resource x name it names,
// wildcards asked as written ("*" is a request only a wildcard rule
// allows; "*/scale" is resource "*", subresource scale), in the
// rule's namespace (cluster-wide rules at cluster scope). Past
// o.Requests requests (unless o.All) each rule is asked about its first
// request and the rest is an even sample, stated.
func (s *Session) VerifyWhatCan(ctx context.Context, ans *WhatCanAnswer, o VerifyOptions) error {
	type ruleChecks struct {
		rule   *rbac.GrantedRule
		reqs   []rbac.Attributes
		asked  int
		agreed int
		mu     sync.Mutex
	}
	all := make([]*ruleChecks, len(ans.Rules))
	total := 0
	for i := range ans.Rules {
		all[i] = &ruleChecks{rule: &ans.Rules[i], reqs: fix.Atoms(ans.Rules[i])}
		total += len(all[i].reqs)
	}
	limit := cmp.Or(o.Requests, DefaultVerifyRequests)
	var checks []check
	add := func(rc *ruleChecks, at rbac.Attributes) {
		rc.asked++
		checks = append(checks, check{sub: ans.Subject, at: at, ours: true, mark: func(agreed bool) {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if agreed {
				rc.agreed++
			}
		}})
	}
	if o.All || total <= limit {
		for _, rc := range all {
			for _, at := range rc.reqs {
				add(rc, at)
			}
		}
	} else {
		// Every rule's first request, then an even sample of the rest.
		var rest []struct {
			rc *ruleChecks
			at rbac.Attributes
		}
		for _, rc := range all {
			if len(rc.reqs) > 0 {
				add(rc, rc.reqs[0])
			}
			for _, at := range rc.reqs[min(1, len(rc.reqs)):] {
				rest = append(rest, struct {
					rc *ruleChecks
					at rbac.Attributes
				}{rc, at})
			}
		}
		if room := limit - len(checks); room > 0 {
			sample, _ := pick(rest, room, false)
			for _, r := range sample {
				add(r.rc, r.at)
			}
		}
	}
	v, err := s.run(ctx, checks, o)
	if err != nil {
		return err
	}
	for _, rc := range all {
		switch {
		case rc.agreed < rc.asked:
			rc.rule.Verified = VerifiedDisagreed
		case rc.asked < len(rc.reqs):
			rc.rule.Verified = VerifiedUnchecked
			if rc.asked > 0 {
				rc.rule.Verified = VerifiedAgreed // on the requests asked; Sampled says so
			}
		default:
			rc.rule.Verified = VerifiedAgreed
		}
	}
	if len(checks) < total {
		v.Sampled = fmt.Sprintf("the rules grant %d requests; %d were asked, each rule's first and an even sample of the rest (--verify=all asks every one)", total, len(checks))
	}
	ans.Verification = v
	return nil
}

// pick returns up to n items evenly spread over items (all with every),
// and says "N" of how many when it sampled.
func pick[T any](items []T, n int, every bool) ([]T, string) {
	if every || len(items) <= n {
		return items, ""
	}
	out := make([]T, 0, n)
	for i := range n {
		out = append(out, items[i*len(items)/n])
	}
	return out, fmt.Sprint(n)
}

// subjectID keys a subject (no groups).
type subjectID struct{ kind, name, namespace string }

func idOf(s rbac.Subject) subjectID { return subjectID{s.Kind, s.Name, s.Namespace} }

func (id subjectID) subject() rbac.Subject {
	return rbac.Subject{Kind: id.kind, Name: id.name, Namespace: id.namespace}
}

func (id subjectID) String() string { return id.subject().String() }

// subjectOf reads a binding's subject as the authorizer does: a service
// account without a namespace is in the binding's (none in a
// ClusterRoleBinding: it names nobody).
func subjectOf(s rbacv1.Subject, bindingNamespace string) (subjectID, bool) {
	sub, ok := rbac.BindingSubject(s, bindingNamespace)
	return subjectID{kind: sub.Kind, name: sub.Name, namespace: sub.Namespace}, ok
}

// IsObjectID says whether s is shaped like an Entra object id (a GUID).
func IsObjectID(s string) bool { return rbac.IsGUID(s) }

// ObjectID is the Entra object id a user is known by, for extra.oid: the
// one given (can --oid), else the user's name when it is one (service principals and managed identities
// are named by their object id), else "".
func ObjectID(s rbac.Subject) string {
	if s.ObjectID != "" {
		return s.ObjectID
	}
	if s.Kind == rbac.UserKind && rbac.IsGUID(s.Name) {
		return s.Name
	}
	return ""
}
