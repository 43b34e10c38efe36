package audit_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// escalationSnapshot: in namespace apps, a team that may create jobs (not
// pods) and a user who may create pods, beside service accounts that can
// read every secret; powerful lists how many such accounts there are.
func escalationSnapshot(powerful int) *rbac.Snapshot {
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	cr := func(name string, rules ...rbacv1.PolicyRule) rbacv1.ClusterRole {
		return rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	}
	snap.ClusterRoles = []rbacv1.ClusterRole{
		cr("secrets", rbacv1.PolicyRule{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"secrets"}}),
		cr("jobs", rbacv1.PolicyRule{Verbs: []string{"create"}, APIGroups: []string{"batch"}, Resources: []string{"jobs"}}),
		cr("pods", rbacv1.PolicyRule{Verbs: []string{"create"}, APIGroups: []string{""}, Resources: []string{"pods"}}),
	}
	ref := func(name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
	}
	snap.RoleBindings = []rbacv1.RoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "team-jobs"}, RoleRef: ref("jobs"),
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "team"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "pat-pods"}, RoleRef: ref("pods"),
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "pat"}}},
	}
	for i := range powerful {
		name := "robot-" + string(rune('a'+i))
		snap.ServiceAccounts = append(snap.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: name}})
		snap.ClusterRoleBindings = append(snap.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name + "-secrets"},
			RoleRef: ref("secrets"), Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "apps", Name: name}}})
	}
	return snap
}

// TestEscalationPathSaysTheStep: a subject that may create jobs, not pods,
// is said to create jobs (whose controller makes the pods); one that may
// create pods, pods.
func TestEscalationPathSaysTheStep(t *testing.T) {
	rep := audit.Run(rbac.NewIndex(escalationSnapshot(2)), audit.Options{Only: []string{"escalation-path"}})
	found := map[string]string{}
	for _, f := range rep.Findings {
		found[f.Subjects[0].String()] = f.Message
	}
	if m := found["group:team"]; !strings.Contains(m, "can create jobs.batch (whose controller creates the pods) in namespace apps") || strings.Contains(m, "create pods") {
		t.Errorf("the team's step: %q", m)
	}
	if m := found["user:pat"]; !strings.Contains(m, "can create pods in namespace apps") {
		t.Errorf("pat's step: %q", m)
	}
}

// TestEscalationPathIDIsItsIdentity: a path finding's id is its rule,
// subject, scope and step: another powerful account beside the ones it
// lists first, or one of them gone, leaves it the same, so a baseline
// reports nothing new.
func TestEscalationPathIDIsItsIdentity(t *testing.T) {
	ids := func(powerful int) map[string]string {
		out := map[string]string{}
		for _, f := range audit.Run(rbac.NewIndex(escalationSnapshot(powerful)), audit.Options{Only: []string{"escalation-path"}}).Findings {
			out[f.Subjects[0].String()] = f.ID
		}
		return out
	}
	base := ids(4)
	if len(base) != 2 {
		t.Fatalf("want escalation paths for the team and pat, got %v", base)
	}
	for _, n := range []int{1, 2, 6} {
		if got := ids(n); got["group:team"] != base["group:team"] || got["user:pat"] != base["user:pat"] {
			t.Errorf("with %d powerful accounts instead of 4 the ids moved: %v, was %v", n, got, base)
		}
	}
	old := audit.Run(rbac.NewIndex(escalationSnapshot(4)), audit.Options{Only: []string{"escalation-path"}})
	now := audit.Run(rbac.NewIndex(escalationSnapshot(3)), audit.Options{Only: []string{"escalation-path"}})
	now.Filter(old)
	if now.Baseline.New != 0 || len(now.Findings) != 0 {
		t.Errorf("against a baseline, one target fewer gave %d new findings: %+v", now.Baseline.New, now.Findings)
	}
}
