// Package large generates the LARGE synthetic cluster the benchmarks use:
// 500 namespaces, 10,000 service accounts, 5,000 Roles, 20,000
// RoleBindings, 1,000 ClusterRoles (some aggregated) and 2,000
// ClusterRoleBindings. It is deterministic: the same seed gives the same
// objects.
package large

import (
	"fmt"
	"math/rand/v2"
	"slices"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// Sizes of LARGE.
const (
	Namespaces          = 500
	ServiceAccounts     = 10000
	Roles               = 5000
	RoleBindings        = 20000
	ClusterRoles        = 1000
	AggregatedRoles     = 20
	ClusterRoleBindings = 2000
	Users               = 2000
	Groups              = 300
)

// Sizes says how many objects of each kind a generated cluster has.
type Sizes struct {
	Namespaces, ServiceAccounts, Roles, RoleBindings   int
	ClusterRoles, AggregatedRoles, ClusterRoleBindings int
	Users, Groups                                      int
	// Dense adds the dense variant's objects (see dense): about the same
	// cluster, about twice the findings.
	Dense bool
}

// Large is the LARGE cluster.
var Large = Sizes{
	Namespaces: Namespaces, ServiceAccounts: ServiceAccounts, Roles: Roles, RoleBindings: RoleBindings,
	ClusterRoles: ClusterRoles, AggregatedRoles: AggregatedRoles, ClusterRoleBindings: ClusterRoleBindings,
	Users: Users, Groups: Groups,
}

// DenseLarge is the dense variant of LARGE: the same cluster with a
// powerful service account in every namespace where teams create pods, and
// an "everything" role bound to teams in many namespaces.
var DenseLarge = func() Sizes { z := Large; z.Dense = true; return z }()

// Scaled returns LARGE divided by d (at least one of each), for smoke
// tests of the code that loads and measures LARGE.
func Scaled(d int) Sizes {
	f := func(n int) int { return max(1, n/d) }
	return Sizes{
		Namespaces: f(Namespaces), ServiceAccounts: f(ServiceAccounts), Roles: f(Roles), RoleBindings: f(RoleBindings),
		ClusterRoles: max(2, ClusterRoles/d), AggregatedRoles: 1, ClusterRoleBindings: f(ClusterRoleBindings),
		Users: f(Users), Groups: f(Groups),
	}
}

// Objects is the number of objects the sizes make, the heavy subjects'
// included.
func (z Sizes) Objects() int {
	heavyBindings := z.Namespaces + 5*(z.Namespaces-z.Namespaces/10) + HeavyGroups
	if z.Dense {
		heavyBindings += denseObjects(z)
	}
	return z.Namespaces + z.ServiceAccounts + 1 + z.Roles + z.RoleBindings + z.ClusterRoles + z.ClusterRoleBindings + heavyBindings
}

var (
	verbs     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	resources = []string{"pods", "secrets", "configmaps", "services", "deployments", "statefulsets", "jobs", "pods/exec", "pods/log", "deployments/scale", "ingresses", "persistentvolumeclaims"}
	groupOf   = map[string]string{"deployments": "apps", "statefulsets": "apps", "deployments/scale": "apps", "jobs": "batch", "ingresses": "networking.k8s.io"}
)

// Verbs, Resources and GroupOf are the vocabulary of the generated rules.
func Verbs() []string { return slices.Clone(verbs) }

// Resources are the resources generated rules name (subresources as
// "pods/exec").
func Resources() []string { return slices.Clone(resources) }

// GroupOf is the API group of a generated resource.
func GroupOf(res string) string { return groupOf[res] }

func rule(r *rand.Rand) rbacv1.PolicyRule {
	res := resources[r.IntN(len(resources))]
	n := 1 + r.IntN(4)
	return rbacv1.PolicyRule{APIGroups: []string{groupOf[res]}, Resources: []string{res}, Verbs: verbs[:n]}
}

// Namespace returns the name of namespace i.
func Namespace(i int) string { return fmt.Sprintf("team-%03d", i) }

// User returns the name of user i (Entra-style UPN).
func User(i int) string { return fmt.Sprintf("user%04d@contoso.com", i) }

// Group returns the object id of group i (Entra-style GUID).
func Group(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// The heavy subjects, the benchmark's worst cases: a user in HeavyGroups
// groups that are bound across nine namespaces in ten (thousands of rules
// through its groups), and the service account bound in every namespace.
const (
	HeavyUser   = "heavy@contoso.com"
	HeavyGroups = 20
	BusySA      = "busy"
)

// HeavyGroup returns the object id of heavy group i.
func HeavyGroup(i int) string { return fmt.Sprintf("00000000-0000-4000-9000-%012d", i) }

// Version names the generator's output: loaded data of another version is
// reloaded.
const Version = "v2-heavy"

// Snapshot builds LARGE in memory, with the aggregated roles' rules left
// for the index to compute (as offline input would).
func Snapshot(seed uint64) *rbac.Snapshot { return Generate(seed, Large) }

// Generate builds a cluster of the given sizes in memory.
func Generate(seed uint64, z Sizes) *rbac.Snapshot {
	r := rand.New(rand.NewPCG(seed, 42))
	s := rbac.NewSnapshot()
	for i := range z.Namespaces {
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace(i)}})
	}
	for i := range z.ServiceAccounts {
		s.ServiceAccounts = append(s.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
			Namespace: Namespace(i % z.Namespaces), Name: fmt.Sprintf("sa-%02d", i/z.Namespaces)}})
	}
	for i := range z.ClusterRoles - z.AggregatedRoles {
		cr := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cr-%04d", i)}}
		for range 1 + r.IntN(6) {
			cr.Rules = append(cr.Rules, rule(r))
		}
		if i%10 == 0 {
			cr.Labels = map[string]string{"example.com/aggregate-to": fmt.Sprintf("agg-%02d", i/10%z.AggregatedRoles)}
		}
		s.ClusterRoles = append(s.ClusterRoles, cr)
	}
	for i := range z.AggregatedRoles {
		s.ClusterRoles = append(s.ClusterRoles, rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("agg-%02d", i)},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"example.com/aggregate-to": fmt.Sprintf("agg-%02d", i)}}}},
		})
	}
	for i := range z.Roles {
		ro := rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace(i % z.Namespaces), Name: fmt.Sprintf("role-%02d", i/z.Namespaces)}}
		for range 1 + r.IntN(4) {
			ro.Rules = append(ro.Rules, rule(r))
		}
		s.Roles = append(s.Roles, ro)
	}
	subject := func(ns string) rbacv1.Subject {
		switch r.IntN(3) {
		case 0:
			return rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: User(r.IntN(z.Users))}
		case 1:
			return rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName, Name: Group(r.IntN(z.Groups))}
		}
		if ns == "" {
			ns = Namespace(r.IntN(z.Namespaces))
		}
		return rbacv1.Subject{Kind: "ServiceAccount", Namespace: ns, Name: fmt.Sprintf("sa-%02d", r.IntN(max(1, z.ServiceAccounts/z.Namespaces)))}
	}
	for i := range z.RoleBindings {
		ns := Namespace(i % z.Namespaces)
		b := rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("rb-%02d", i/z.Namespaces)}}
		if r.IntN(2) == 0 {
			b.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: fmt.Sprintf("role-%02d", r.IntN(max(1, z.Roles/z.Namespaces)))}
		} else {
			b.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: s.ClusterRoles[r.IntN(len(s.ClusterRoles))].Name}
		}
		for range 1 + r.IntN(3) {
			b.Subjects = append(b.Subjects, subject(ns))
		}
		s.RoleBindings = append(s.RoleBindings, b)
	}
	for i := range z.ClusterRoleBindings {
		b := rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%04d", i)},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: s.ClusterRoles[r.IntN(len(s.ClusterRoles))].Name}}
		for range 1 + r.IntN(3) {
			b.Subjects = append(b.Subjects, subject(""))
		}
		s.ClusterRoleBindings = append(s.ClusterRoleBindings, b)
	}
	heavy(s, z)
	if z.Dense {
		dense(s, z)
	}
	return s
}

// heavy adds the heavy subjects' bindings (after everything else, so the
// rest of LARGE is as it was).
func heavy(s *rbac.Snapshot, z Sizes) {
	plain := z.ClusterRoles - z.AggregatedRoles
	group := func(i int) rbacv1.Subject {
		return rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName, Name: HeavyGroup(i % HeavyGroups)}
	}
	s.ServiceAccounts = append(s.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: Namespace(0), Name: BusySA}})
	busy := rbacv1.Subject{Kind: "ServiceAccount", Namespace: Namespace(0), Name: BusySA}
	for i := range z.Namespaces {
		ns := Namespace(i)
		s.RoleBindings = append(s.RoleBindings, rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "busy"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: fmt.Sprintf("cr-%04d", (i*13)%plain)},
			Subjects: []rbacv1.Subject{busy}})
		if i%10 == 9 {
			continue
		}
		for k := range 5 {
			s.RoleBindings = append(s.RoleBindings, rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("heavy-%d", k)},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: fmt.Sprintf("cr-%04d", (i*7+k*101)%plain)},
				Subjects: []rbacv1.Subject{group(i + k), group(i + k + 7)}})
		}
	}
	for i := range HeavyGroups {
		s.ClusterRoleBindings = append(s.ClusterRoleBindings, rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("heavy-%02d", i)},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: fmt.Sprintf("cr-%04d", (i*37)%plain)},
			Subjects: []rbacv1.Subject{group(i)}})
	}
}

// Everything is the dense variant's role that holds every verb on every
// resource of every group.
const Everything = "everything"

// DeployerSA is the powerful service account the dense variant puts in
// every namespace.
const DeployerSA = "deployer"

// DenseTeams is how many of the generated groups the dense variant binds
// to Everything, each in DenseTeamNamespaces namespaces.
const (
	DenseTeams          = 100
	DenseTeamNamespaces = 20
)

// denseObjects is how many objects dense adds.
func denseObjects(z Sizes) int {
	return 2 + 2*z.Namespaces + min(DenseTeams, z.Groups)*DenseTeamNamespaces
}

// dense adds what makes the findings dense, as on a cluster where teams
// own namespaces: in every namespace a deployer service account bound to
// Everything there (so whoever creates pods in the namespace can act as
// it), and DenseTeams groups each bound to Everything in
// DenseTeamNamespaces namespaces (every risky right, there, for each).
func dense(s *rbac.Snapshot, z Sizes) {
	s.ClusterRoles = append(s.ClusterRoles, rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: Everything},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}})
	everything := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: Everything}
	admins := rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "deployers-" + Everything}, RoleRef: everything}
	for i := range z.Namespaces {
		ns := Namespace(i)
		sa := rbacv1.Subject{Kind: "ServiceAccount", Namespace: ns, Name: DeployerSA}
		s.ServiceAccounts = append(s.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: DeployerSA}})
		s.RoleBindings = append(s.RoleBindings, rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: DeployerSA},
			RoleRef: everything, Subjects: []rbacv1.Subject{sa}})
		if i%10 == 0 {
			admins.Subjects = append(admins.Subjects, sa)
		}
	}
	s.ClusterRoleBindings = append(s.ClusterRoleBindings, admins)
	for t := range min(DenseTeams, z.Groups) {
		b := rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("team-%02d-everything", t)}, RoleRef: everything,
			Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: Group(t)}}}
		for k := range DenseTeamNamespaces {
			b.Namespace = Namespace((t*DenseTeamNamespaces + k*7) % z.Namespaces)
			s.RoleBindings = append(s.RoleBindings, b)
		}
	}
}
