// Package audit turns the engine's answers into findings an administrator
// can act on and a pipeline can gate on. Every check asks the engine
// (who-can over all namespaces, the resolved grants and roles), never the
// raw YAML, so aggregated roles, groups and wildcards count as the API
// server counts them. One small file per family of checks.
package audit

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Kind is the kind of the AuditReport document.
const Kind = "AuditReport"

// WarnNotProbed: rules that probe a live API server were not checked.
const WarnNotProbed rbac.WarningCode = "not-probed"

// Severity orders findings; the zero value is Info.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = []string{"info", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads one of critical, high, medium, low, info.
func ParseSeverity(s string) (Severity, error) {
	if i := slices.Index(severityNames, strings.ToLower(s)); i >= 0 {
		return Severity(i), nil
	}
	return 0, fmt.Errorf("unknown severity %q: use one of critical, high, medium, low, info", s)
}

// MarshalJSON writes the severity's name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a severity's name.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	v, err := ParseSeverity(name)
	*s = v
	return err
}

// Category groups rules, per the AuditReport contract.
type Category string

// Categories.
const (
	CategoryRBAC        Category = "rbac"
	CategoryGMSA        Category = "gmsa"
	CategoryNodeAuthz   Category = "node-authorization"
	CategoryCredentials Category = "credentials"
)

// Finding is one problem: who, what, through which path, and whether a fix
// exists.
type Finding struct {
	ID       string           `json:"id"`
	Rule     string           `json:"rule"`
	Severity Severity         `json:"severity"`
	Category Category         `json:"category"`
	Title    string           `json:"title"`
	Message  string           `json:"message"`
	Subjects []rbac.Subject   `json:"subjects"`
	Objects  []rbac.ObjectRef `json:"objects"`
	Evidence []rbac.Path      `json:"evidence"`
	Fixable  bool             `json:"fixable"`
	// Managed says the platform reconciles the objects of every path
	// (Kubernetes' bootstrap policy, AKS and its add-ons, by their labels):
	// who changes them and how, never a lower severity.
	Managed bool `json:"managed,omitempty"`
	// Default says every path is Kubernetes' default policy exactly as the
	// API server creates it (compared with the pinned policy, not taken
	// from a label): tables and the explorer count these and list them
	// with --all; JSON and SARIF carry them all.
	Default bool `json:"default,omitempty"`
	// Scope, in a report narrowed to a namespace (audit -n), says why the
	// finding is in it: "namespace" (its objects, bindings or service
	// accounts are there) or "cluster-wide" (a cluster-wide grant or a
	// fact of the whole cluster, which reaches the namespace too).
	Scope string `json:"scope,omitempty"`
	// People count who is in each Entra group among Subjects, where a
	// directory was asked (Microsoft Graph, or a directory file).
	People []GroupPeople `json:"people,omitempty"`
	// identity, when a rule sets it, is what the finding is about (for a
	// path: its subject, scope and step), hashed into the id instead of
	// the subjects and objects, which for such a finding include the first
	// few targets it lists and so change when something else does.
	identity string
	// actors, when set, is how many of the first Subjects hold the risk
	// (the others are what they reach); zero: all of them. links, when
	// set, splits Evidence into two links of a chain, both needed
	// (Evidence[:links] and Evidence[links:]); zero: any one path gives
	// the finding. Both are what the groupings count by (groups.go).
	actors, links int
	// refs, objRefs and subjectRefs, set by Report.SharePaths, are
	// Evidence, Objects and Subjects as indexes into the report's tables:
	// what the document writes.
	refs, objRefs, subjectRefs []int
}

// GroupPeople counts the members of one group a finding names.
type GroupPeople struct {
	Group  string `json:"group"`
	People int    `json:"people"`
	Guests int    `json:"guests,omitempty"`
	// Other are service principals and nested groups.
	Other int `json:"other,omitempty"`
	// AtLeast: counted up to a limit, there are more.
	AtLeast bool `json:"atLeast,omitempty"`
}

// Finding scopes in a namespace's report.
const (
	ScopeNamespace   = "namespace"
	ScopeClusterWide = "cluster-wide"
)

// NamespaceScope says a report was narrowed to one namespace, and how
// many of its findings are there and how many reach it cluster-wide.
type NamespaceScope struct {
	Name        string `json:"name"`
	InNamespace int    `json:"inNamespace"`
	ClusterWide int    `json:"clusterWide"`
}

// Summary counts findings by severity.
type Summary struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

// Cluster says which cluster a live report is about.
type Cluster struct {
	Context string `json:"context,omitempty"`
	Server  string `json:"server,omitempty"`
	Version string `json:"version,omitempty"`
}

// Report is the AuditReport document.
type Report struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Cluster    *Cluster `json:"cluster,omitempty"`
	Source     string   `json:"source,omitempty"`
	Summary    Summary  `json:"summary"`
	// Paths, Objects and Subjects, in a report written as a document
	// (SharePaths), hold each distinct path of the findings' evidence and
	// each distinct object and subject they name once; a finding's
	// evidence, objects and subjects are then written as indexes into
	// them.
	Paths    []rbac.Path      `json:"paths,omitempty" document:"stream"`
	Objects  []rbac.ObjectRef `json:"objects,omitempty" document:"stream"`
	Subjects []rbac.Subject   `json:"subjects,omitempty" document:"stream"`
	Findings []Finding        `json:"findings" document:"stream"`
	// Incomplete: parts of the cluster could not be read, so findings may
	// be missing (no rule reports on what it could not read). Gaps say
	// which parts.
	Incomplete bool           `json:"incomplete"`
	Gaps       []rbac.Gap     `json:"gaps,omitempty"`
	Warnings   []rbac.Warning `json:"warnings"`
	// Baseline, with --baseline, says what the report was compared with.
	Baseline *Baseline `json:"baseline,omitempty"`
	// Namespace, with audit -n, says the report was narrowed to it.
	Namespace *NamespaceScope `json:"namespace,omitempty"`
	// Checks are the posture checks (is a protection in force?), each
	// answered passed as well as failed or unknown: a failed one is also
	// a finding, a passed one is not.
	Checks []Check `json:"checks"`
	// Groups (audit --group-by rule, subject or binding) summarise the
	// findings one way (Groups).
	Groups []Group `json:"groups,omitempty"`
}

// CheckStatus is a posture check's outcome.
type CheckStatus string

// Check outcomes.
const (
	CheckPassed  CheckStatus = "passed"
	CheckFailed  CheckStatus = "failed"
	CheckUnknown CheckStatus = "unknown"
)

// Check is one posture check's outcome and what it rests on.
type Check struct {
	Rule   string      `json:"rule"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
}

// Rule is one entry of the rule catalogue.
type Rule struct {
	Name     string
	Category Category
	// Severity is the highest severity the rule reports.
	Severity Severity
	Title    string
	Why      string // why it matters
	Fix      string // what the fix does
	check    func(*checker)
}

// Catalogue returns every rule by category, then highest severity first,
// then name: the order docs/audit.md documents them in.
func Catalogue() []Rule {
	out := slices.Clone(catalogue)
	slices.SortStableFunc(out, func(a, b Rule) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Categories are the catalogue's categories, each once: Kubernetes' first
// (rbac, gmsa, node-authorization, credentials), then Azure's, then any
// other by name. What a front end offers to filter on.
func Categories() []Category {
	order := []Category{CategoryRBAC, CategoryGMSA, CategoryActiveDirectory, CategoryNodeAuthz, CategoryCredentials, CategoryAzure, CategoryAKS, CategoryAzureIdentity}
	var out []Category
	for _, r := range catalogue {
		if !slices.Contains(out, r.Category) {
			out = append(out, r.Category)
		}
	}
	rank := func(c Category) int {
		if i := slices.Index(order, c); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(out, func(a, b Category) int { return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b)) })
	return out
}

var catalogue []Rule

func register(r ...Rule) { catalogue = append(catalogue, r...) }

// Options select rules and carry what the snapshot cannot.
type Options struct {
	Only, Skip []string
	// Credential is the kubeconfig credential a live audit runs with, for
	// the credentials rules; nil offline.
	Credential *identity.Credential
	// Fixable says which rules have a fix; package fix declares them (the
	// application layer passes fix.Has). Nil: none.
	Fixable func(rule string) bool
	// Defaults says which paths and objects are Kubernetes' default
	// policy as pinned (the application layer passes the source's
	// comparison). Nil: none are.
	Defaults DefaultPolicy
	// Now is when certificates are judged (the AD webhook's); zero: the
	// time of the run.
	Now time.Time
}

// DefaultPolicy says whether a path, or an object, is Kubernetes' default
// policy exactly as the API server creates it.
type DefaultPolicy interface {
	Path(*rbac.Path) bool
	Object(rbac.ObjectRef) bool
}

// Listed says whether a table (the CLI's, CSV, Markdown, the explorer's)
// lists f: every finding with all, else those not on Kubernetes' default
// policy. The one rule every surface hides by.
func Listed(f *Finding, all bool) bool { return all || !f.Default }

// Validate checks the rule names in Only and Skip.
func (o Options) Validate() error {
	for _, n := range append(slices.Clone(o.Only), o.Skip...) {
		if !slices.ContainsFunc(catalogue, func(r Rule) bool { return r.Name == n }) {
			names := make([]string, len(catalogue))
			for i, r := range Catalogue() {
				names[i] = r.Name
			}
			return fmt.Errorf("unknown rule %q; rules: %s", n, strings.Join(names, ", "))
		}
	}
	return nil
}

func (o Options) selected(name string) bool {
	if len(o.Only) > 0 && !slices.Contains(o.Only, name) {
		return false
	}
	return !slices.Contains(o.Skip, name)
}

// Run checks the snapshot behind ix with the selected rules.
func Run(ix *rbac.Index, o Options) *Report {
	c := newChecker(ix)
	c.opts = o
	var rules []Rule
	for _, r := range catalogue {
		if o.selected(r.Name) {
			rules = append(rules, r)
		}
	}
	// The rules run in parallel, each on its own copy of the checker (the
	// index, the snapshot and the managed set are read-only; the probes'
	// answers are computed once, by whichever rule asks first). Findings
	// are joined in catalogue order, so the report does not depend on
	// scheduling.
	//
	// First the probes' answers the rules will ask for, in parallel:
	// escalation-path asks for a dozen of them, and computing each in turn
	// itself (or waiting for the rule computing it) made it the audit's
	// long pole. Then the rules, escalation-path first (the longest of
	// what is left), so that the others share the cores with it.
	probes := c.probesFor(rules)
	inParallel(len(probes), func(i int) { c.hits(probes[i]) })
	order := make([]int, len(rules))
	for i := range order {
		order[i] = i
	}
	if k := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == "escalation-path" }); k > 0 {
		order = slices.Insert(slices.Delete(order, k, k+1), 0, k)
	}
	found := make([][]Finding, len(rules))
	checked := make([][]Check, len(rules))
	inParallel(len(order), func(k int) {
		i := order[k]
		rc := *c
		rc.rule = rules[i]
		rules[i].check(&rc)
		found[i], checked[i] = rc.findings, rc.checks
	})
	rep := &Report{
		APIVersion: rbac.APIVersion, Kind: Kind,
		Findings:   sortedFindings(found),
		Incomplete: ix.Incomplete(),
		Gaps:       ix.Gaps(),
		Warnings:   append([]rbac.Warning{}, ix.Warnings()...),
		Checks:     slices.Concat(checked...),
	}
	if rep.Checks == nil {
		rep.Checks = []Check{}
	}
	for _, g := range ix.Gaps() {
		rep.Warnings = append(rep.Warnings, rbac.Warning{Code: rbac.WarnGap, Message: g.String()})
	}
	if ix.AzureRBACPending() {
		// No rule sees what Azure role assignments grant.
		rep.Warnings = append(rep.Warnings, rbac.AzureRBACWarning())
	} else if p := ix.Snapshot().AzureRBAC; p != nil && p.State == rbac.ProbeUnknown && ix.Snapshot().Azure == nil {
		rep.Warnings = append(rep.Warnings, rbac.AzureRBACUndecidedWarning(p))
	}
	if ix.Snapshot().Probes == nil && (o.selected("node-authorizer-active") || o.selected("node-restriction-active")) {
		rep.Warnings = append(rep.Warnings, rbac.Warnf(WarnNotProbed, "node-authorizer-active and node-restriction-active were not checked: "+
			"they probe a live API server (run against the cluster, or audit a snapshot saved from it)"))
	}
	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}
	distinctIDs(rep.Findings)
	rep.Summary = summarize(rep.Findings)
	return rep
}

// sortedFindings joins the rules' findings (found, in catalogue order),
// most severe first, then by rule and message, in catalogue order where
// those are equal: each finding is copied once, into its place (sorting
// the joined list moved tens of thousands of findings, with the
// collector's write barriers, several times over).
func sortedFindings(found [][]Finding) []Finding {
	type at struct{ rule, i int32 }
	n := 0
	for _, fs := range found {
		n += len(fs)
	}
	order := make([]at, 0, n)
	for r, fs := range found {
		for i := range fs {
			order = append(order, at{int32(r), int32(i)})
		}
	}
	slices.SortFunc(order, func(x, y at) int {
		a, b := &found[x.rule][x.i], &found[y.rule][y.i]
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message),
			cmp.Compare(x.rule, y.rule), cmp.Compare(x.i, y.i))
	})
	out := make([]Finding, len(order))
	for k, x := range order {
		out[k] = found[x.rule][x.i]
	}
	return out
}

// inParallel calls fn(0) to fn(n-1), as many at once as there are cores,
// in that order.
func inParallel(n int, fn func(int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// probesFor are the probe rules whose answers the rules will ask for: a
// probe rule's own (and cluster-admin-equivalent's, which every other
// probe rule leaves out), where it applies; escalation-path's, the risky
// rules' and the steps'.
func (c *checker) probesFor(rules []Rule) []*probeRule {
	var out []*probeRule
	add := func(pr *probeRule) {
		if !slices.Contains(out, pr) {
			out = append(out, pr)
		}
	}
	for _, r := range rules {
		if r.Name == "escalation-path" {
			for _, name := range riskyRules {
				add(probeRuleNamed(name))
			}
			for _, name := range []string{"workload-create", "serviceaccount-token-create"} {
				add(probeRuleNamed(name))
			}
			continue
		}
		for i := range probeRules {
			if pr := &probeRules[i]; pr.Name == r.Name && (pr.when == nil || pr.when(c)) {
				add(probeRuleNamed("cluster-admin-equivalent"))
				add(pr)
			}
		}
	}
	return out
}

// distinctIDs gives each finding its own id. Two findings of one rule on
// the same subjects and objects (an escalation through creating pods and
// one through minting tokens, both by the same binding) would share one,
// and then `fix ID`, --baseline and a fleet's grouping would take one for
// the other: the later ones (in the report's order) hash their message
// too. Findings that never collide keep the ids earlier versions gave.
func distinctIDs(fs []Finding) {
	seen := make(map[string]bool, len(fs))
	for i := range fs {
		f := &fs[i]
		if seen[f.ID] {
			f.ID = hashedID(f.Rule, []byte(f.ID+"\n"+f.Message+"\n"))
		}
		seen[f.ID] = true
	}
}

func summarize(fs []Finding) Summary {
	var s Summary
	for _, f := range fs {
		s.add(f.Severity)
	}
	return s
}

// Baseline says how a report compares with an earlier one.
type Baseline struct {
	// New are the findings reported: absent from the baseline, or there at
	// a lower severity.
	New int `json:"new"`
	// Suppressed are in the baseline at the same or a higher severity.
	Suppressed int `json:"suppressed"`
	// Resolved are in the baseline and gone now.
	Resolved int `json:"resolved"`
}

// Filter keeps the findings that are new since an earlier report: absent
// from it by id, or there at a lower severity (a risk that grew is news).
// It recounts the summary and says what it compared.
func (r *Report) Filter(baseline *Report) {
	was := map[string]Severity{}
	for _, f := range baseline.Findings {
		was[f.ID] = f.Severity
	}
	b := &Baseline{}
	now := map[string]bool{}
	r.Findings = slices.DeleteFunc(r.Findings, func(f Finding) bool {
		now[f.ID] = true
		if s, ok := was[f.ID]; ok && f.Severity <= s {
			b.Suppressed++
			return true
		}
		b.New++
		return false
	})
	for id := range was {
		if !now[id] {
			b.Resolved++
		}
	}
	r.Baseline = b
	r.Summary = summarize(r.Findings)
}

// InNamespace narrows the report to the findings that concern namespace
// ns: those whose objects, bindings or service accounts are there, and
// those that reach it from the whole cluster (a ClusterRoleBinding's
// grant, system:masters, a fact of the cluster such as the node
// authorizer); each is marked with its Scope. Findings only about other
// namespaces go.
func (r *Report) InNamespace(ns string) {
	n := &NamespaceScope{Name: ns}
	r.Findings = slices.DeleteFunc(r.Findings, func(f Finding) bool {
		return !scopeIn(&f, ns)
	})
	for i := range r.Findings {
		f := &r.Findings[i]
		scopeIn(f, ns)
		if f.Scope == ScopeNamespace {
			n.InNamespace++
		} else {
			n.ClusterWide++
		}
	}
	r.Namespace = n
	r.Summary = summarize(r.Findings)
}

// scopeIn sets f.Scope for namespace ns and says whether f concerns it.
func scopeIn(f *Finding, ns string) bool {
	local, cluster, elsewhere := false, false, false
	for _, o := range f.Objects {
		switch o.Namespace {
		case ns:
			local = true
		case "":
		default:
			elsewhere = true
		}
	}
	for _, s := range f.Subjects {
		if s.Kind == rbac.ServiceAccountKind && s.Namespace == ns {
			local = true
		}
	}
	for _, p := range f.Evidence {
		switch {
		case p.Binding == nil || p.Binding.Namespace == "":
			cluster = true
		case p.Binding.Namespace == ns:
			local = true
		default:
			elsewhere = true
		}
	}
	switch {
	case local:
		f.Scope = ScopeNamespace
	case cluster || !elsewhere:
		f.Scope = ScopeClusterWide
	default:
		return false
	}
	return true
}

// Reaches says whether any finding is at or above s: the --fail-on gate.
// Findings on Kubernetes' default policy, exactly as pinned, are the
// platform's design on every cluster: the gate judges, as the tables
// list, the others (they keep their severity in the documents).
func (r *Report) Reaches(s Severity) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity >= s && !f.Default })
}

// checker carries what the checks share while they run.
type checker struct {
	opts     Options
	ix       *rbac.Index
	snap     *rbac.Snapshot
	rule     Rule
	managed  map[rbac.ObjectRef]bool
	findings []Finding
	checks   []Check
	// probed keeps each probe rule's hits, for the rule itself and for the
	// checks that combine them (escalation-path); computed once, on first
	// use, by whichever rule asks.
	probed map[string]*probeMemo
	// views are the index's bindings (rbac.Index.Bindings), made once for
	// the rules that walk them, shared by the rules' copies.
	views *bindingsMemo
	// evidenceNotManaged keeps a finding's severity when its evidence runs
	// through platform-owned objects: set by rules for which no platform
	// default ever matches, so a match is someone's edit of such an object.
	evidenceNotManaged bool
}

type bindingsMemo struct {
	once  sync.Once
	views []rbac.BindingView
}

// bindings are every binding of the index, ClusterRoleBindings first,
// made once per audit (a dense cluster has tens of thousands, and several
// rules walk them).
func (c *checker) bindings() []rbac.BindingView {
	c.views.once.Do(func() { c.views.views = c.ix.Bindings() })
	return c.views.views
}

type probeMemo struct {
	once sync.Once
	hits []probeHit
}

// probeHit is one subject a probe rule found in one scope, with the
// severity before any platform-managed downgrade.
type probeHit struct {
	subject  rbac.Subject
	scope    string
	severity Severity
	evidence []rbac.Path
}

func newChecker(ix *rbac.Index) *checker {
	c := &checker{ix: ix, snap: ix.Snapshot(), managed: map[rbac.ObjectRef]bool{}, probed: map[string]*probeMemo{}, views: &bindingsMemo{}}
	for _, pr := range probeRules {
		c.probed[pr.Name] = &probeMemo{}
	}
	// Only the managed objects are kept: a lookup of any other misses.
	s := c.snap
	for _, o := range s.ClusterRoles {
		if isManaged(o.Labels, o.Annotations) {
			c.managed[rbac.ObjectRef{Kind: "ClusterRole", Name: o.Name}] = true
		}
	}
	for _, o := range s.ClusterRoleBindings {
		if isManaged(o.Labels, o.Annotations) {
			c.managed[rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: o.Name}] = true
		}
	}
	for _, o := range s.Roles {
		if isManaged(o.Labels, o.Annotations) {
			c.managed[rbac.ObjectRef{Kind: "Role", Name: o.Name, Namespace: o.Namespace}] = true
		}
	}
	for _, o := range s.RoleBindings {
		if isManaged(o.Labels, o.Annotations) {
			c.managed[rbac.ObjectRef{Kind: "RoleBinding", Name: o.Name, Namespace: o.Namespace}] = true
		}
	}
	return c
}

// isManaged recognises objects the platform reconciles: Kubernetes'
// bootstrap policy (labelled kubernetes.io/bootstrapping=rbac-defaults,
// annotated rbac.authorization.kubernetes.io/autoupdate=true) and add-ons
// that the addon manager or AKS own.
func isManaged(labels, annotations map[string]string) bool {
	switch {
	case labels["kubernetes.io/bootstrapping"] == "rbac-defaults",
		annotations["rbac.authorization.kubernetes.io/autoupdate"] == "true",
		labels["addonmanager.kubernetes.io/mode"] != "",
		labels["kubernetes.azure.com/managedby"] != "":
		return true
	}
	return false
}

// unread says whether the snapshot lacks a whole collection: resource in
// namespace ns (a gap for every namespace counts too; ns "" asks for any
// gap of the resource). No rule may call "missing" what it could not read.
func (c *checker) unread(resource, ns string) bool {
	for _, g := range c.snap.Gaps {
		if g.Resource == resource && g.Name == "" && (ns == "" || g.Namespace == "" || g.Namespace == ns) {
			return true
		}
	}
	return false
}

// unknownRole says whether a role is missing from offline input only (a
// named gap): it may exist on the cluster.
func (c *checker) unknownRole(r rbac.ObjectRef) bool {
	res := map[string]string{"ClusterRole": "clusterroles", "Role": "roles"}[r.Kind]
	for _, g := range c.snap.Gaps {
		if g.Resource == res && g.Name == r.Name && g.Namespace == r.Namespace {
			return true
		}
	}
	return false
}

// pathManaged says whether a path runs through platform-owned objects only.
func (c *checker) pathManaged(p *rbac.Path) bool {
	if len(c.managed) == 0 {
		return false
	}
	if p.Binding == nil {
		return c.managed[p.Role] // a role's own rule, not granted through a binding
	}
	return c.managed[*p.Binding]
}

// add records a finding of the current rule, filling in what every finding
// has: its rule, category, id and the managed downgrade; it returns the
// finding as recorded.
func (c *checker) add(f Finding) Finding {
	f.Rule, f.Category = c.rule.Name, c.rule.Category
	f.Fixable = c.opts.Fixable != nil && c.opts.Fixable(c.rule.Name)
	if f.Title == "" {
		f.Title = c.rule.Title
	}
	if f.Subjects == nil {
		f.Subjects = []rbac.Subject{}
	}
	if f.Evidence == nil {
		f.Evidence = []rbac.Path{}
	}
	f.Objects = objectsOf(f.Objects, f.Evidence)
	if len(f.Evidence) > 0 && !f.Managed && !c.evidenceNotManaged {
		f.Managed = true
		for i := range f.Evidence {
			if !c.pathManaged(&f.Evidence[i]) {
				f.Managed = false
				break
			}
		}
	}
	if d := c.opts.Defaults; d != nil && !c.evidenceNotManaged {
		switch {
		case len(f.Evidence) > 0:
			f.Default = true
			for i := range f.Evidence {
				if !d.Path(&f.Evidence[i]) {
					f.Default = false
					break
				}
			}
		case len(f.Objects) > 0:
			f.Default = !slices.ContainsFunc(f.Objects, func(o rbac.ObjectRef) bool { return !d.Object(rbacObject(o)) })
		}
	}
	f.ID = findingID(&f)
	c.findings = append(c.findings, f)
	return f
}

// objectsOf adds the bindings and roles of the evidence to objs, once each.
// A finding names a few objects, found in a list of their own (a map only
// past 16); the list returned is exactly as long as it needs to be (a dense
// cluster's report holds tens of thousands).
func objectsOf(objs []rbac.ObjectRef, evidence []rbac.Path) []rbac.ObjectRef {
	out := make([]rbac.ObjectRef, 0, 16) // on the stack: only its copy is kept
	var seen map[rbac.ObjectRef]bool     // past 16 references
	for _, o := range objs {
		out, seen = pushRef(out, seen, o)
	}
	for i := range evidence {
		if p := &evidence[i]; p.Binding != nil { // system:masters has neither binding nor role
			out, seen = pushRef(out, seen, rbacRef(*p.Binding))
			out, seen = pushRef(out, seen, rbacRef(p.Role))
		}
	}
	return append(make([]rbac.ObjectRef, 0, len(out)), out...)
}

// pushRef adds o to out unless it is there: found in out itself while it
// is short, in seen once it is longer.
func pushRef(out []rbac.ObjectRef, seen map[rbac.ObjectRef]bool, o rbac.ObjectRef) ([]rbac.ObjectRef, map[rbac.ObjectRef]bool) {
	if seen == nil {
		if slices.Contains(out, o) {
			return out, nil
		}
		out = append(out, o)
		if len(out) > 16 {
			seen = make(map[rbac.ObjectRef]bool, 2*len(out))
			for _, x := range out {
				seen[x] = true
			}
		}
		return out, seen
	}
	if !seen[o] {
		seen[o] = true
		out = append(out, o)
	}
	return out, seen
}

func rbacRef(r rbac.ObjectRef) rbac.ObjectRef { return r.WithAPIVersion(rbac.RBACAPIVersion) }

// findingID is stable for the same rule, subjects and objects across runs:
// rule name plus a short hash.
func findingID(f *Finding) string {
	// What is hashed is what fmt.Fprintln wrote line by line, built in one
	// buffer and hashed once.
	var buf [512]byte
	b := append(append(buf[:0], f.Rule...), '\n')
	if f.identity != "" {
		b = append(append(b, f.identity...), '\n')
		return hashedID(f.Rule, b)
	}
	for _, s := range f.Subjects {
		b = append(append(append(append(append(b, s.Kind...), ' '), s.Namespace...), ' '), s.Name...)
		b = append(b, '\n')
	}
	objs := make([]string, len(f.Objects))
	for i, o := range f.Objects {
		objs[i] = o.APIVersion + "/" + o.String()
	}
	slices.Sort(objs)
	for _, o := range objs {
		b = append(append(b, o...), '\n')
	}
	return hashedID(f.Rule, b)
}

// hashedID is rule-HASH, HASH the first ten hex digits of b's SHA-256.
func hashedID(rule string, b []byte) string {
	sum := sha256.Sum256(b)
	var h [10]byte
	hex.Encode(h[:], sum[:5])
	return rule + "-" + string(h[:])
}

// ParseID reads a finding id (RULE-HASH, as the audit prints them) and
// returns its rule.
func ParseID(id string) (string, error) {
	i := strings.LastIndex(id, "-")
	if i > 0 && len(id)-i-1 == 10 && isHex(id[i+1:]) &&
		slices.ContainsFunc(catalogue, func(r Rule) bool { return r.Name == id[:i] }) {
		return id[:i], nil
	}
	return "", fmt.Errorf("%q is not a finding id (RULE-HASH, as kubectl access audit prints them)", id)
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// rbacObject is an object's reference without its apiVersion, as the
// snapshot's objects are keyed.
func rbacObject(o rbac.ObjectRef) rbac.ObjectRef {
	o.APIVersion = ""
	return o
}
