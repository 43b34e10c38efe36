package fix

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

var fixtures = []string{"../audit/testdata/fixtures.yaml", "../audit/testdata/gmsa.yaml", "../audit/testdata/workloads.yaml", "../audit/testdata/adauth.yaml"}

func offline(t *testing.T) (*rbac.Index, *audit.Report) {
	t.Helper()
	snap, _, err := source.Files(fixtures, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix := rbac.NewIndex(snap)
	return ix, audit.Run(ix, audit.Options{Fixable: Has})
}

// Fixability is declared once, by the generators: every rule with one is
// in the catalogue, and For refuses every other rule.
func TestFixableRulesHaveFixes(t *testing.T) {
	for _, r := range Rules() {
		if !slices.ContainsFunc(audit.Catalogue(), func(c audit.Rule) bool { return c.Name == r }) {
			t.Errorf("fix %s is for no rule of the catalogue", r)
		}
	}
	for _, r := range audit.Catalogue() {
		if Has(r.Name) {
			continue
		}
		if _, err := For(nil, &audit.Finding{Rule: r.Name}, Options{}); !errors.Is(err, ErrNotFixable) {
			t.Errorf("%s is not fixable, but For says %v", r.Name, err)
		}
	}
}

// Offline, every fixable rule's findings in the fixtures get a verified
// fix whose every removed or replaced value is guarded by a test, and
// every delete by a guard.
func TestEveryRuleHasAVerifiedFixOffline(t *testing.T) {
	ix, rep := offline(t)
	fixed := map[string]int{}
	for i := range rep.Findings {
		f := &rep.Findings[i]
		if !f.Fixable {
			continue
		}
		// u-admin is the fixture's only person with * on *: removing it is a
		// lockout, allowed here (TestLockoutIsRefused checks the refusal).
		fx, err := For(ix, f, Options{AllowLockout: true, Resources: func(string) []string { return []string{"configmaps", "secrets"} }})
		if err != nil {
			t.Errorf("%s (%s): %v", f.ID, f.Message, err)
			continue
		}
		fixed[f.Rule]++
		v := fx.Verification
		if !v.FindingGone || len(v.Gained) > 0 || fx.Finding != f.ID || fx.Kind != Kind {
			t.Errorf("%s: verification %+v", f.ID, v)
		}
		for _, op := range fx.Operations {
			checkGuarded(t, f.ID, op)
		}
	}
	for _, r := range Rules() {
		if strings.HasPrefix(r, "azure-") || strings.HasPrefix(r, "aks-") {
			continue // TestAzureFixes; cmd's TestAKSFixes
		}
		if i := slices.IndexFunc(audit.Catalogue(), func(c audit.Rule) bool { return c.Name == r }); i >= 0 && audit.Catalogue()[i].Category == audit.CategoryAzureIdentity {
			continue // TestIdentityFixes
		}
		if fixed[r] == 0 {
			t.Errorf("rule %s: no finding in the fixtures got a fix", r)
		}
	}
}

func checkGuarded(t *testing.T, id string, op Operation) {
	t.Helper()
	switch op.Action {
	case Patch:
		tested := map[string]bool{}
		for _, p := range op.Patch {
			switch p.Op {
			case "test":
				tested[p.Path] = true
			case "remove", "replace":
				if !tested[p.Path] {
					t.Errorf("%s: %s %s is not guarded by a test", id, p.Op, p.Path)
				}
			default:
				t.Errorf("%s: unexpected patch op %s", id, p.Op)
			}
		}
	case Delete:
		if len(op.Guard) == 0 || slices.ContainsFunc(op.Guard, func(p PatchOp) bool { return p.Op != "test" }) {
			t.Errorf("%s: delete of %s without a test-only guard: %v", id, op.Target, op.Guard)
		}
	case Create:
		if !json.Valid(op.Object) {
			t.Errorf("%s: create without an object", id)
		}
	}
}

// A change that would widen anyone's access is refused, and so is one
// that leaves the finding.
func TestWideningAndUselessFixesAreRefused(t *testing.T) {
	ix, rep := offline(t)
	f := &rep.Findings[slices.IndexFunc(rep.Findings, func(f audit.Finding) bool { return f.Rule == "secrets-read" })]
	crb := rbacv1.ClusterRoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: "widen"}, RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "audit-secret-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "u-innocent"}}}
	widen := &Fix{Operations: []Operation{createOp(ref("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "widen", ""), crb)}}
	err := verify(ix, f, widen)
	if err == nil || !strings.Contains(err.Error(), "widen access") && !strings.Contains(err.Error(), "remain") {
		t.Errorf("a fix granting u-innocent secrets: %v", err)
	}
	if len(widen.Verification.Gained) == 0 || widen.Verification.Gained[0].Subject.Name != "u-innocent" {
		t.Errorf("gained %v, want u-innocent's new grant", widen.Verification.Gained)
	}
}

// A guard fails on a concurrent change: the subject moved, or the
// object's content changed.
func TestGuardsFailOnConcurrentChange(t *testing.T) {
	ix, rep := offline(t)
	snap := ix.Snapshot()
	i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool {
		return f.Rule == "secrets-read" && slices.ContainsFunc(f.Subjects, func(s rbac.Subject) bool { return s.Name == "u-secrets" })
	})
	fx, err := For(ix, &rep.Findings[i], Options{})
	if err != nil {
		t.Fatal(err)
	}
	changed := *snap
	changed.ClusterRoleBindings = slices.Clone(snap.ClusterRoleBindings)
	for k := range changed.ClusterRoleBindings {
		if b := &changed.ClusterRoleBindings[k]; b.Name == fx.Operations[0].Target.Name {
			b.Subjects = append([]rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "u-newcomer"}}, b.Subjects...)
		}
	}
	if _, err := Apply(&changed, fx.Operations); err == nil {
		t.Error("the patch applied although another subject now sits at the index it removes")
	}
	if _, err := Apply(snap, fx.Operations); err != nil {
		t.Errorf("on the unchanged snapshot: %v", err)
	}
}

// TestLockoutIsRefused: removing the last person holding * on *
// cluster-wide is refused unless allowed, and the refusal says who would
// be left (issue 14, item 11).
func TestLockoutIsRefused(t *testing.T) {
	ix, rep := offline(t)
	i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool {
		return f.Rule == "cluster-admin-equivalent" && strings.Contains(f.Message, "user:u-admin")
	})
	if i < 0 {
		t.Fatal("no cluster-admin-equivalent finding for u-admin")
	}
	_, err := For(ix, &rep.Findings[i], Options{})
	if !errors.Is(err, ErrLockout) || !strings.Contains(err.Error(), "only group:system:masters") || !strings.Contains(err.Error(), "--allow-lockout") {
		t.Fatalf("the lockout was not refused with who is left: %v", err)
	}
	fx, err := For(ix, &rep.Findings[i], Options{AllowLockout: true})
	if err != nil || fx.Verification.Lockout == nil || len(fx.Verification.Lockout.Removed) != 1 {
		t.Fatalf("--allow-lockout: %v, lockout %+v", err, fx)
	}
}

// TestLockoutIgnoresLocalAccounts: with AKS's binding of cluster-admin to
// its local account clusterAdmin beside the only Entra admin group,
// removing the group is a lockout (the local account is no person, and
// works only while local accounts are on), and the refusal says why.
func TestLockoutIgnoresLocalAccounts(t *testing.T) {
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	snap.ClusterRoles = []rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "cluster-admin"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}}}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}
	snap.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{
		{ObjectMeta: metav1.ObjectMeta{Name: "aks-cluster-admin-binding"}, RoleRef: ref,
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "clusterAdmin"}, {Kind: "User", APIGroup: rbacv1.GroupName, Name: "clusterUser"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "aks-cluster-admin-binding-aad"}, RoleRef: ref,
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: "6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01"}}},
	}
	ix := rbac.NewIndex(snap)
	rep := audit.Run(ix, audit.Options{Fixable: Has, Only: []string{"cluster-admin-equivalent"}})
	i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool {
		return strings.Contains(f.Message, "group:6f1c2d3e-4b5a-4c7d-9e8f-0a1b2c3d4e01")
	})
	if i < 0 {
		t.Fatalf("no cluster-admin-equivalent finding for the admin group: %+v", rep.Findings)
	}
	_, err := For(ix, &rep.Findings[i], Options{})
	if !errors.Is(err, ErrLockout) || !strings.Contains(err.Error(), "AKS's local accounts") {
		t.Fatalf("removing the only Entra admin group beside the local accounts: %v; want a lockout naming the local accounts", err)
	}
}

// TestLockoutPossible: a lockout needs a person or group holding * on *
// cluster-wide to begin with; service accounts and system: identities
// alone are no one to lock out, so no fix needs the check there.
func TestLockoutPossible(t *testing.T) {
	ix, _ := offline(t)
	if !LockoutPossible(ix) {
		t.Error("the fixtures' u-admin holds * on *: a lockout is possible")
	}
	snap := rbac.NewSnapshot()
	snap.ClusterRoles = []rbacv1.ClusterRole{{ObjectMeta: metav1.ObjectMeta{Name: "all"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}}}}}
	snap.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{{ObjectMeta: metav1.ObjectMeta{Name: "robot"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "all"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "ci", Name: "robot"}}}}
	if LockoutPossible(rbac.NewIndex(snap)) {
		t.Error("only a service account holds * on *: no person can be locked out")
	}
}
