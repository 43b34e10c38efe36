package fix

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// verify applies fx to a copy of the snapshot and fills in its
// Verification; it fails when the finding survives or anyone gains
// access the fix does not intend.
func verify(ix *rbac.Index, f *audit.Finding, fx *Fix) error {
	before := ix.Snapshot()
	after, err := Apply(before, fx.Operations)
	if err != nil {
		return fmt.Errorf("the fix does not apply to the snapshot: %w", err)
	}
	bix := ix
	if touchesClusterRoles(fx) && before.RulesAggregated {
		// A changed ClusterRole changes what the aggregation controller
		// writes into the roles that select it: compute aggregation on
		// both sides, as the controller would.
		b := *before
		b.RulesAggregated = false
		bix = rbac.NewIndex(&b)
		after.RulesAggregated = false
	}
	aix := rbac.NewIndex(after)

	rep := audit.Run(aix, audit.Options{Only: []string{f.Rule}})
	fx.Verification.FindingGone = !slices.ContainsFunc(rep.Findings, func(g audit.Finding) bool {
		return g.ID == f.ID || (g.Message == f.Message && reflect.DeepEqual(g.Subjects, f.Subjects))
	})

	gained, lost := diffAccess(bix, aix, affected(bix, aix, fx))
	fx.Verification.Gained, fx.Verification.Granted = []Change{}, nil
	for _, g := range gained {
		if slices.ContainsFunc(fx.intended, func(c Change) bool {
			return c.Subject.Key() == g.Subject.Key() && c.Namespace == g.Namespace && c.Rule == g.Rule
		}) {
			fx.Verification.Granted = append(fx.Verification.Granted, g)
		} else {
			fx.Verification.Gained = append(fx.Verification.Gained, g)
		}
	}
	fx.Verification.Lost = append(lost, fx.azureLost...)
	fx.Verification.Lockout = lockout(bix, aix)
	fx.Verification.Others = []rbac.Subject{}
	for _, l := range fx.Verification.Lost {
		named := slices.ContainsFunc(f.Subjects, func(s rbac.Subject) bool { return s.Key() == l.Subject.Key() }) ||
			slices.ContainsFunc(fx.azureLost, func(c Change) bool { return c.Subject.Key() == l.Subject.Key() })
		if !named && !slices.ContainsFunc(fx.Verification.Others, func(s rbac.Subject) bool { return s.Key() == l.Subject.Key() }) {
			fx.Verification.Others = append(fx.Verification.Others, l.Subject)
		}
	}
	// The ways in through Azure's control plane: a fix may shut some
	// (said), never open one.
	doors := func(ix *rbac.Index) map[string]bool {
		m := map[string]bool{}
		for _, d := range ix.AllAzureDoors() {
			m[d.Kind+": "+d.Subject.String()+" ("+d.Action+")"] = true
		}
		return m
	}
	doorsBefore, doorsAfter := doors(bix), doors(aix)
	for k := range doorsAfter {
		if !doorsBefore[k] {
			return fmt.Errorf("it would open a way in through Azure's control plane: %s", k)
		}
	}
	fx.Verification.DoorsLost = nil
	for k := range doorsBefore {
		if !doorsAfter[k] {
			fx.Verification.DoorsLost = append(fx.Verification.DoorsLost, k)
		}
	}
	slices.Sort(fx.Verification.DoorsLost)
	switch {
	case !fx.Verification.FindingGone:
		return errors.New("the finding would remain")
	case len(fx.Verification.Gained) > 0:
		return fmt.Errorf("it would widen access: %s", fx.Verification.Gained[0])
	case len(fx.intended) > 0 && len(fx.Verification.Granted) == 0:
		return errors.New("it would not grant what is missing")
	}
	return nil
}

func touchesClusterRoles(fx *Fix) bool {
	return slices.ContainsFunc(fx.Operations, func(o Operation) bool { return o.Target.Kind == "ClusterRole" })
}

// Apply returns a copy of s with the operations applied, as the API server
// would apply them (a failing test operation is an error). s is not
// changed.
func Apply(s *rbac.Snapshot, ops []Operation) (*rbac.Snapshot, error) {
	c := *s
	c.ClusterRoles, c.ClusterRoleBindings = slices.Clone(s.ClusterRoles), slices.Clone(s.ClusterRoleBindings)
	c.Roles, c.RoleBindings, c.Namespaces = slices.Clone(s.Roles), slices.Clone(s.RoleBindings), slices.Clone(s.Namespaces)
	for _, op := range ops {
		if err := applyOne(&c, op); err != nil {
			return nil, fmt.Errorf("%s %s: %w", op.Action, op.Target, err)
		}
	}
	return &c, nil
}

func applyOne(s *rbac.Snapshot, op Operation) error {
	t := op.Target
	if op.IsAzure() {
		return applyAzure(s, op)
	}
	if op.IsAKS() {
		return applyAKS(s, op)
	}
	if op.IsCredential() {
		return applyCredential(s, op)
	}
	switch t.Kind {
	case "ClusterRole":
		return applyTo(&s.ClusterRoles, op, func(o *rbacv1.ClusterRole) bool { return o.Name == t.Name })
	case "ClusterRoleBinding":
		return applyTo(&s.ClusterRoleBindings, op, func(o *rbacv1.ClusterRoleBinding) bool { return o.Name == t.Name })
	case "Role":
		return applyTo(&s.Roles, op, func(o *rbacv1.Role) bool { return o.Name == t.Name && o.Namespace == t.Namespace })
	case "RoleBinding":
		return applyTo(&s.RoleBindings, op, func(o *rbacv1.RoleBinding) bool { return o.Name == t.Name && o.Namespace == t.Namespace })
	case "Namespace":
		return applyTo(&s.Namespaces, op, func(o *corev1.Namespace) bool { return o.Name == t.Name })
	}
	return fmt.Errorf("fixes do not change %s objects", t.Kind)
}

func applyTo[T any](list *[]T, op Operation, is func(*T) bool) error {
	i := slices.IndexFunc(*list, func(o T) bool { return is(&o) })
	switch op.Action {
	case Create:
		if i >= 0 {
			return errors.New("already exists")
		}
		var o T
		if err := json.Unmarshal(op.Object, &o); err != nil {
			return err
		}
		*list = append(*list, o)
		return nil
	case Delete, Patch:
		if i < 0 {
			return errors.New("not found")
		}
	}
	ops := op.Patch
	if op.Action == Delete {
		ops = op.Guard
	}
	out, err := patched((*list)[i], ops)
	if err != nil {
		return err
	}
	if op.Action == Delete {
		*list = slices.Delete(*list, i, i+1)
		return nil
	}
	var o T
	if err := json.Unmarshal(out, &o); err != nil {
		return err
	}
	(*list)[i] = o
	return nil
}

// patched applies a JSON patch to v's JSON, as the API server would (a
// failing test operation is an error).
func patched(v any, ops []PatchOp) ([]byte, error) {
	doc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	p, err := jsonpatch.DecodePatch(raw)
	if err != nil {
		return nil, err
	}
	return p.Apply(doc)
}

// affected are the subjects whose access the fix can change: those of the
// bindings it touches (before and after), of every binding to a role whose
// effective rules differ, and of the bindings it creates.
func affected(bix, aix *rbac.Index, fx *Fix) []rbac.Subject {
	touched := map[rbac.ObjectRef]bool{}
	for _, op := range fx.Operations {
		touched[op.Target.Key()] = true
	}
	changed := map[rbac.ObjectRef]bool{}
	rules := map[rbac.ObjectRef][]rbacv1.PolicyRule{}
	for _, r := range bix.Roles() {
		rules[r.Ref] = r.Rules
	}
	for _, r := range aix.Roles() {
		if !reflect.DeepEqual(rules[r.Ref], r.Rules) {
			changed[r.Ref] = true
		}
		delete(rules, r.Ref)
	}
	for r := range rules { // deleted roles
		changed[r] = true
	}
	seen := map[string]bool{}
	var out []rbac.Subject
	for _, s := range azureAffected(bix.Snapshot(), fx) {
		if !seen[s.Key()] {
			seen[s.Key()] = true
			out = append(out, s)
		}
	}
	for _, ix := range []*rbac.Index{bix, aix} {
		for _, b := range ix.Bindings() {
			if !touched[b.Ref] && !changed[b.Role] {
				continue
			}
			for _, w := range b.Subjects {
				s := rbac.Subject{Kind: w.Kind, Name: w.Name}
				if w.Kind == rbacv1.ServiceAccountKind {
					s.Namespace = w.Namespace
					if s.Namespace == "" {
						s.Namespace = b.Ref.Namespace
					}
				}
				if !seen[s.Key()] {
					seen[s.Key()] = true
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// diffAccess compares what each subject holds before and after, rule by
// rule: the requests of a rule after that the rules before (in its
// namespace or cluster-wide) do not allow are gained; the reverse, lost. Coverage is
// checked on the rule's every verb, group, resource and name, with the
// authorizer's matching, so a wildcard is covered only by a wildcard.
func diffAccess(bix, aix *rbac.Index, subjects []rbac.Subject) (gained, lost []Change) {
	for _, s := range subjects {
		id := s.Identity()
		b, a := bix.WhatCan(id, "").Rules, aix.WhatCan(id, "").Rules
		prefix := azurerbac.ClusterType
		if d := bix.Snapshot().Azure; d != nil {
			prefix = d.Prefix()
		}
		for _, r := range a {
			if len(r.DataActions) > 0 {
				if azureUncovered(r, b, prefix) {
					gained = append(gained, Change{Subject: s, Namespace: r.Namespace, Rule: azureRule(r)})
				}
				continue
			}
			if atoms := uncovered(r, b); len(atoms) > 0 {
				gained = append(gained, Change{Subject: s, Namespace: r.Namespace, Rule: rbac.RuleString(r.PolicyRule()), atoms: atoms})
			}
		}
		for _, r := range b {
			if len(r.DataActions) > 0 {
				if azureUncovered(r, a, prefix) {
					lost = append(lost, Change{Subject: s, Namespace: r.Namespace, Rule: azureRule(r)})
				}
				continue
			}
			if atoms := uncovered(r, a); len(atoms) > 0 {
				lost = append(lost, Change{Subject: s, Namespace: r.Namespace, Rule: rbac.RuleString(r.PolicyRule()), atoms: atoms})
			}
		}
	}
	return gained, lost
}

// uncovered returns the requests of r that the rules by (in r's
// namespace or cluster-wide) do not allow.
func uncovered(r rbac.GrantedRule, by []rbac.GrantedRule) []rbac.Attributes {
	var candidates []rbacv1.PolicyRule
	for _, x := range by {
		if x.Namespace == "" || x.Namespace == r.Namespace {
			candidates = append(candidates, x.PolicyRule())
		}
	}
	var out []rbac.Attributes
	for _, a := range Atoms(r) {
		if !slices.ContainsFunc(candidates, func(p rbacv1.PolicyRule) bool { return rbac.RuleAllows(&a, &p) }) {
			out = append(out, a)
		}
	}
	return out
}

// Atoms are the single requests a granted rule allows: one per verb,
// group, resource and name (or URL), wildcards kept as written, in the
// rule's namespace.
func Atoms(r rbac.GrantedRule) []rbac.Attributes {
	var out []rbac.Attributes
	for _, v := range r.Verbs {
		for _, u := range r.NonResourceURLs {
			out = append(out, rbac.Attributes{Verb: v, Path: u})
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				resource, sub, _ := strings.Cut(res, "/")
				names := r.ResourceNames
				if len(names) == 0 {
					names = []string{""}
				}
				for _, n := range names {
					out = append(out, rbac.Attributes{Verb: v, APIGroup: g, Resource: resource, Subresource: sub, Name: n, Namespace: r.Namespace})
				}
			}
		}
	}
	return out
}

// Lockout says who holds cluster-admin-equivalent rights before and
// after a fix, when no person or group is left.
type Lockout struct {
	// Removed are the people and groups who hold them before the fix.
	Removed []rbac.Subject `json:"removed"`
	// Remaining are who still holds them: system identities and the
	// platform's local accounts only.
	Remaining []rbac.Subject `json:"remaining"`
}

// localAccounts are the users AKS binds cluster-admin to for its local
// accounts (aks-cluster-admin-binding): their certificates come from `az
// aks get-credentials --admin` and work only while local accounts are on,
// which disabling them (the hardening AKS recommends) ends; no person
// signs in as them through Entra, so they are not counted as people.
var localAccounts = []string{"clusterAdmin", "clusterUser"}

// person says whether s is an identity a person signs in as: a user or a
// group that is neither a system: identity nor a platform local account.
func person(s rbac.Subject) bool {
	switch {
	case s.Kind == rbac.ServiceAccountKind, strings.HasPrefix(s.Name, "system:"):
		return false
	case s.Kind == rbac.UserKind && slices.Contains(localAccounts, s.Name):
		return false
	}
	return true
}

func (l *Lockout) String() string {
	name := func(ss []rbac.Subject) string {
		if len(ss) == 0 {
			return "nobody"
		}
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = s.String()
		}
		return strings.Join(out, ", ")
	}
	left := name(l.Remaining)
	if slices.ContainsFunc(l.Remaining, func(s rbac.Subject) bool { return s.Kind == rbac.UserKind && slices.Contains(localAccounts, s.Name) }) {
		left += " (clusterAdmin and clusterUser are AKS's local accounts, usable only while local accounts are enabled: not counted as people)"
	}
	return fmt.Sprintf("it removes the last person or group holding * on * cluster-wide (%s); only %s would be left", name(l.Removed), left)
}

// admins are who may do everything cluster-wide, split into people (users
// and groups a person signs in as) and the others (system identities, the
// platform's local accounts).
func admins(ix *rbac.Index) (people, system []rbac.Subject) {
	all := rbac.Attributes{Verb: "*", APIGroup: "*", Resource: "*"}
	for _, g := range ix.WhoCan(all, false).Subjects {
		s := g.Subject()
		if person(s) {
			people = append(people, s)
		} else {
			system = append(system, s)
		}
	}
	return people, system
}

// LockoutPossible says whether any fix could lock people out on ix: only
// where some person or group holds * on * cluster-wide (lockout asks
// whether a fix takes the last of them away).
func LockoutPossible(ix *rbac.Index) bool {
	people, _ := admins(ix)
	return len(people) > 0
}

// lockout reports a fix after which no person or group holds
// cluster-admin-equivalent rights though some did before.
func lockout(before, after *rbac.Index) *Lockout {
	had, _ := admins(before)
	have, system := admins(after)
	if len(had) == 0 || len(have) > 0 {
		return nil
	}
	return &Lockout{Removed: had, Remaining: system}
}
