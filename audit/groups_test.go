package audit_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// groupsSnapshot: a team bound to every right in namespace apps; pat, who
// may create pods in apps, where robot can read every secret of the
// cluster (an escalation chain of two bindings); sam, who reads secrets
// through two bindings (no single fix removes that).
func groupsSnapshot() *rbac.Snapshot {
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	cr := func(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
		return rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	}
	snap.ClusterRoles = []rbacv1.ClusterRole{
		cr("everything", rbacv1.PolicyRule{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}),
		cr("secrets", rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"secrets"}}),
		cr("pods", rbacv1.PolicyRule{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods"}}),
	}
	ref := func(name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
	}
	user := func(n string) []rbacv1.Subject {
		return []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: n}}
	}
	snap.Namespaces = []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "apps"}}}
	snap.ServiceAccounts = []corev1.ServiceAccount{{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "robot"}}}
	snap.RoleBindings = []rbacv1.RoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "team-everything"}, RoleRef: ref("everything"),
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "team"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "pat-pods"}, RoleRef: ref("pods"), Subjects: user("pat")},
	}
	snap.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Name: "robot-secrets"}, RoleRef: ref("secrets"),
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "apps", Name: "robot"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "sam-secrets-1"}, RoleRef: ref("secrets"), Subjects: user("sam")},
		{ObjectMeta: metav1.ObjectMeta{Name: "sam-secrets-2"}, RoleRef: ref("secrets"), Subjects: user("sam")},
	}
	return snap
}

// group finds the group whose key is key.
func group(gs []audit.Group, key string) *audit.Group {
	for i := range gs {
		if gs[i].Key() == key {
			return &gs[i]
		}
	}
	return nil
}

// ids are the ids of the group's findings.
func ids(fs []audit.Finding, g *audit.Group) []string {
	var out []string
	for _, i := range g.Findings {
		out = append(out, fs[i].ID)
	}
	return out
}

func TestSeverityWeight(t *testing.T) {
	for s, want := range map[audit.Severity]int{audit.Critical: 8, audit.High: 4, audit.Medium: 2, audit.Low: 1, audit.Info: 0} {
		if got := s.Weight(); got != want {
			t.Errorf("%s weighs %d, want %d", s, got, want)
		}
	}
}

func TestGroups(t *testing.T) {
	rep := audit.Run(rbac.NewIndex(groupsSnapshot()), audit.Options{})
	fs := rep.Findings
	find := func(rule, subject string) string {
		for _, f := range fs {
			if f.Rule == rule && f.Subjects[0].String() == subject {
				return f.ID
			}
		}
		t.Fatalf("no %s finding about %s in %d findings", rule, subject, len(fs))
		return ""
	}
	chain := find("escalation-path", "user:pat")
	samSecrets := find("secrets-read", "user:sam")
	robotSecrets := find("secrets-read", "sa:apps:robot")

	t.Run("rule", func(t *testing.T) {
		gs := audit.Groups(fs, audit.ByRule, true)
		total := 0
		for i, g := range gs {
			total += g.Count
			if len(g.Findings) != g.Count || g.Rule == "" || g.Example != fs[g.Findings[0]].ID {
				t.Errorf("group %s: count %d, %d findings, example %s", g.Rule, g.Count, len(g.Findings), g.Example)
			}
			for _, j := range g.Findings {
				if fs[j].Rule != g.Rule {
					t.Errorf("group %s holds a %s finding", g.Rule, fs[j].Rule)
				}
			}
			if i > 0 && gs[i-1].Severity < g.Severity {
				t.Errorf("%s (%s) after %s (%s): most severe first", g.Rule, g.Severity, gs[i-1].Rule, gs[i-1].Severity)
			}
		}
		if total != len(fs) {
			t.Errorf("the rule groups hold %d findings of %d", total, len(fs))
		}
		s := group(gs, "secrets-read")
		if s == nil || s.Subjects < 3 || s.Bindings < 4 {
			t.Fatalf("secrets-read: %+v, want team, robot and sam through team-everything, robot-secrets and sam's two", s)
		}
	})
	t.Run("subject", func(t *testing.T) {
		gs := audit.Groups(fs, audit.BySubject, true)
		pat, robot, team := group(gs, "user:pat"), group(gs, "sa:apps:robot"), group(gs, "group:team")
		if pat == nil || robot == nil || team == nil {
			t.Fatalf("groups %v: want pat, robot and team", keys(gs))
		}
		if !slices.Contains(ids(fs, pat), chain) || slices.Contains(ids(fs, robot), chain) {
			t.Errorf("pat's chain is pat's (%v), not robot's, whom pat reaches (%v)", ids(fs, pat), ids(fs, robot))
		}
		reach := 0
		for _, i := range team.Findings {
			reach += fs[i].Severity.Weight()
		}
		if team.Reach != reach || reach == 0 {
			t.Errorf("team's reach %d, its findings weigh %d", team.Reach, reach)
		}
		for i := 1; i < len(gs); i++ {
			if gs[i].Reach > gs[i-1].Reach {
				t.Errorf("%s (reach %d) after %s (%d): widest reach first", gs[i].Key(), gs[i].Reach, gs[i-1].Key(), gs[i-1].Reach)
			}
		}
		if gs[0].Key() != "group:team" {
			t.Errorf("the widest reach is %s's (%d), want the team with every right in apps", gs[0].Key(), gs[0].Reach)
		}
	})
	t.Run("binding", func(t *testing.T) {
		gs := audit.Groups(fs, audit.ByBinding, true)
		pods, robot := group(gs, "RoleBinding apps/pat-pods"), group(gs, "ClusterRoleBinding robot-secrets")
		if pods == nil || robot == nil {
			t.Fatalf("groups %v: want pat-pods and robot-secrets", keys(gs))
		}
		// Either link of the chain removes it: pat's step or robot's right.
		if !slices.Contains(ids(fs, pods), chain) || !slices.Contains(ids(fs, robot), chain) || !slices.Contains(ids(fs, robot), robotSecrets) {
			t.Errorf("pat-pods removes %v, robot-secrets %v: want the chain %s by both, %s by robot-secrets", ids(fs, pods), ids(fs, robot), chain, robotSecrets)
		}
		for _, g := range gs {
			if slices.Contains(ids(fs, &g), samSecrets) {
				t.Errorf("%s removes sam's secrets-read, which sam holds through two bindings", g.Key())
			}
		}
		if gs[0].Key() != "RoleBinding apps/team-everything" {
			t.Errorf("the binding whose fix removes the most is %s (%d), want team-everything", gs[0].Key(), gs[0].Count)
		}
	})
}

func keys(gs []audit.Group) []string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Key())
	}
	return out
}

// TestGroupsDense: on the dense LARGE (57,065 findings), a few dozen rule
// groups hold every listed finding once, and the subjects and bindings at
// the top are the dense variant's: the cluster-wide deployers' binding
// and the teams bound to every right in twenty namespaces.
func TestGroupsDense(t *testing.T) {
	rep := audit.Run(rbac.NewIndex(large.Generate(1, large.DenseLarge)), audit.Options{})
	fs := rep.Findings
	if len(fs) < 50000 {
		t.Fatalf("the dense LARGE has %d findings, want about twice LARGE's 30,000", len(fs))
	}
	rules := audit.Groups(fs, audit.ByRule, false)
	seen := make([]bool, len(fs))
	for _, g := range rules {
		for _, i := range g.Findings {
			if seen[i] {
				t.Fatalf("finding %s in two rule groups", fs[i].ID)
			}
			seen[i] = true
		}
	}
	for i, f := range fs {
		if audit.Listed(&f, false) != seen[i] {
			t.Fatalf("finding %s listed %v, grouped %v", f.ID, audit.Listed(&f, false), seen[i])
		}
	}
	if len(rules) > 30 {
		t.Errorf("%d rule groups: a summary should fit on a screen", len(rules))
	}
	subjects := audit.Groups(fs, audit.BySubject, false)
	bindings := audit.Groups(fs, audit.ByBinding, false)
	t.Logf("%d findings: %d rules, %d subjects, %d bindings; top subject %s (reach %d), top binding %s (%d findings)",
		len(fs), len(rules), len(subjects), len(bindings), subjects[0].Key(), subjects[0].Reach, bindings[0].Key(), bindings[0].Count)
	if k := bindings[0].Key(); k != "ClusterRoleBinding deployers-"+large.Everything {
		t.Errorf("the binding whose fix removes the most is %s, want the one that makes 50 deployers cluster-admin (every pod creator in their namespaces reaches them)", k)
	}
	for _, g := range subjects[1:] {
		if g.Reach > subjects[0].Reach {
			t.Fatalf("%s reaches %d, more than the first, %s (%d)", g.Key(), g.Reach, subjects[0].Key(), subjects[0].Reach)
		}
	}
	for _, g := range bindings[1:] {
		if g.Count > bindings[0].Count {
			t.Fatalf("%s removes %d, more than the first, %s (%d)", g.Key(), g.Count, bindings[0].Key(), bindings[0].Count)
		}
	}
}

// TestSharedPathsRoundTrip: a report written with its paths, objects and
// subjects shared reads back as the report it was.
func TestSharedPathsRoundTrip(t *testing.T) {
	rep := audit.Run(rbac.NewIndex(groupsSnapshot()), audit.Options{})
	want, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	rep.SharePaths()
	shared, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Paths) == 0 || len(rep.Objects) == 0 || len(rep.Subjects) == 0 {
		t.Fatalf("tables: %d paths, %d objects, %d subjects", len(rep.Paths), len(rep.Objects), len(rep.Subjects))
	}
	var doc struct {
		Findings []struct {
			Evidence, Objects, Subjects []int
		}
	}
	if err := json.Unmarshal(shared, &doc); err != nil || len(doc.Findings) != len(rep.Findings) || len(doc.Findings[0].Evidence) != len(rep.Findings[0].Evidence) {
		t.Fatalf("the shared document's findings do not refer by index: %v\n%s", err, shared)
	}
	var back audit.Report
	if err := json.Unmarshal(shared, &back); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(&back)
	if string(got) != string(want) {
		t.Errorf("read back:\n%s\nwant:\n%s", got, want)
	}
	// The earlier format, every path in each finding, reads as well.
	var old audit.Report
	if err := json.Unmarshal(want, &old); err != nil || !slices.EqualFunc(old.Findings, back.Findings, func(a, b audit.Finding) bool { return a.ID == b.ID && len(a.Evidence) == len(b.Evidence) }) {
		t.Errorf("the earlier format: %v", err)
	}
	bad := strings.Replace(string(shared), `"paths":[`, `"paths":[],"x":[`, 1)
	if err := json.Unmarshal([]byte(bad), &old); err == nil || !strings.Contains(err.Error(), "is not one of the report's 0") {
		t.Errorf("a reference past the table: %v", err)
	}
}

// TestSharedPathsShrinkDense: on the dense LARGE the document, written as
// `audit -o json` writes it (indented), is several times smaller with
// each path, object and subject once.
func TestSharedPathsShrinkDense(t *testing.T) {
	rep := audit.Run(rbac.NewIndex(large.Generate(1, large.DenseLarge)), audit.Options{})
	before, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	rep.SharePaths()
	after, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	ratio := float64(len(before)) / float64(len(after))
	t.Logf("%d findings: %.1f MB -> %.1f MB (%.2fx smaller); %d paths, %d objects, %d subjects",
		len(rep.Findings), float64(len(before))/1e6, float64(len(after))/1e6, ratio, len(rep.Paths), len(rep.Objects), len(rep.Subjects))
	if ratio < 2.5 {
		t.Errorf("the shared document is only %.2fx smaller", ratio)
	}
	// SARIF, live (no file to point at): one result per finding, each
	// object once in the run's logical locations.
	sarif, err := rep.SARIF("test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			LogicalLocations []json.RawMessage
			Results          []struct {
				Locations []struct {
					LogicalLocations []map[string]any
				}
			}
		}
	}
	if err := json.Unmarshal(sarif, &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	t.Logf("SARIF: %.1f MB, %d results, %d logical locations", float64(len(sarif))/1e6, len(run.Results), len(run.LogicalLocations))
	if len(run.Results) != len(rep.Findings) || len(run.LogicalLocations) != len(rep.Objects) {
		t.Errorf("SARIF: %d results for %d findings, %d logical locations for %d objects", len(run.Results), len(rep.Findings), len(run.LogicalLocations), len(rep.Objects))
	}
	for _, l := range run.Results[0].Locations {
		if len(l.LogicalLocations) != 1 || len(l.LogicalLocations[0]) != 1 || l.LogicalLocations[0]["index"] == nil {
			t.Errorf("a result's location is not a reference to the run's: %v", l.LogicalLocations)
		}
	}
}
