package rbac

import (
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// trapSnapshot holds the cases peers get wrong.
func trapSnapshot() *Snapshot {
	s := NewSnapshot()
	s.RulesAggregated = true
	s.ClusterRoles = []rbacv1.ClusterRole{
		clusterRole("secret-reader", rule(l("get", "list"), l(""), l("secrets"))),
		clusterRole("scaler", rule(l("update", "patch"), l("*"), l("*/scale"))),
		clusterRole("pod-star", rule(l("get"), l(""), l("pods/*"))),
		clusterRole("exec", rule(l("create"), l(""), l("pods/exec"))),
		clusterRole("named", rule(l("get", "list", "delete"), l(""), l("configmaps"), "app-config")),
		clusterRole("metrics", urlRule(l("get"), "/metrics"), urlRule(l("get"), "/logs/*"), urlRule(l("post"), "/api*")),
		clusterRole("nodes-reader", rule(l("get", "list"), l(""), l("nodes"))),
		clusterRole("all", rule(l("*"), l("*"), l("*"))),
	}
	s.Roles = []rbacv1.Role{nsRole("dev", "pod-reader", rule(l("get", "list"), l(""), l("pods")))}
	s.ClusterRoleBindings = []rbacv1.ClusterRoleBinding{
		crb("scalers", "scaler", group("scalers")),
		crb("metrics", "metrics", group(GroupAuthenticated)),
		crb("sa-no-ns", "all", sa("", "ghost")), // matches nobody
		crb("dangling", "missing-role", user("dan")),
	}
	s.RoleBindings = []rbacv1.RoleBinding{
		rb("dev", "alice-secrets", "ClusterRole", "secret-reader", user("alice")),
		rb("dev", "alice-pods", "Role", "pod-reader", user("alice")),
		rb("dev", "bob-nodes", "ClusterRole", "nodes-reader", user("bob")),
		rb("dev", "builder-exec", "ClusterRole", "exec", sa("", "builder")),
		rb("dev", "star", "ClusterRole", "pod-star", user("carol")),
		rb("dev", "named", "ClusterRole", "named", user("erin")),
		rb("prod", "devs-secrets", "ClusterRole", "secret-reader", group("devs"), sa("ci", "deployer")),
		rb("prod", "all-sas", "ClusterRole", "secret-reader", group("system:serviceaccounts:ci")),
	}
	return s
}

func TestCan(t *testing.T) {
	ix := NewIndex(trapSnapshot())
	res := func(verb, group, resource, sub, name, ns string) Attributes {
		return Attributes{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Name: name, Namespace: ns}
	}
	for _, tc := range []struct {
		name    string
		subject Subject
		attrs   Attributes
		want    bool
	}{
		{"RoleBinding to ClusterRole grants in its namespace", Subject{Kind: UserKind, Name: "alice"}, res("get", "", "secrets", "", "x", "dev"), true},
		{"RoleBinding to ClusterRole grants nothing elsewhere", Subject{Kind: UserKind, Name: "alice"}, res("get", "", "secrets", "", "x", "prod"), false},
		{"RoleBinding to Role", Subject{Kind: UserKind, Name: "alice"}, res("list", "", "pods", "", "", "dev"), true},
		{"verb not granted", Subject{Kind: UserKind, Name: "alice"}, res("delete", "", "pods", "", "x", "dev"), false},
		{"RoleBinding never grants cluster-scoped requests without a namespace", Subject{Kind: UserKind, Name: "bob"}, res("list", "", "nodes", "", "", ""), false},
		{"*/scale matches deployments/scale", Subject{Kind: UserKind, Name: "u", Groups: l("scalers")}, res("update", "apps", "deployments", "scale", "web", "any"), true},
		{"*/scale does not match the parent", Subject{Kind: UserKind, Name: "u", Groups: l("scalers")}, res("update", "apps", "deployments", "", "web", "any"), false},
		{"pods/* is not a wildcard", Subject{Kind: UserKind, Name: "carol"}, res("get", "", "pods", "log", "p", "dev"), false},
		{"subresource exact", Subject{Kind: ServiceAccountKind, Namespace: "dev", Name: "builder"}, res("create", "", "pods", "exec", "p", "dev"), true},
		{"SA subject without namespace defaults to the binding's", Subject{Kind: ServiceAccountKind, Namespace: "other", Name: "builder"}, res("create", "", "pods", "exec", "p", "dev"), false},
		{"SA without namespace in a ClusterRoleBinding matches nobody", Subject{Kind: ServiceAccountKind, Namespace: "default", Name: "ghost"}, res("get", "", "pods", "", "p", "default"), false},
		{"resourceNames match the name", Subject{Kind: UserKind, Name: "erin"}, res("get", "", "configmaps", "", "app-config", "dev"), true},
		{"resourceNames never match a request without a name", Subject{Kind: UserKind, Name: "erin"}, res("list", "", "configmaps", "", "", "dev"), false},
		{"resourceNames other name", Subject{Kind: UserKind, Name: "erin"}, res("get", "", "configmaps", "", "other", "dev"), false},
		{"group membership inherited", Subject{Kind: UserKind, Name: "zed", Groups: l("devs")}, res("get", "", "secrets", "", "x", "prod"), true},
		{"SA by name in a RoleBinding", Subject{Kind: ServiceAccountKind, Namespace: "ci", Name: "deployer"}, res("list", "", "secrets", "", "", "prod"), true},
		{"implicit system:serviceaccounts:NS", Subject{Kind: ServiceAccountKind, Namespace: "ci", Name: "other"}, res("list", "", "secrets", "", "", "prod"), true},
		{"system:masters needs no binding", Subject{Kind: UserKind, Name: "root", Groups: l(GroupMasters)}, res("delete", "", "nodes", "", "n1", ""), true},
		{"dangling binding grants nothing", Subject{Kind: UserKind, Name: "dan"}, res("get", "", "pods", "", "p", "dev"), false},
		{"nonResourceURL exact", Subject{Kind: UserKind, Name: "any"}, Attributes{Verb: "get", Path: "/metrics"}, true},
		{"nonResourceURL prefix", Subject{Kind: UserKind, Name: "any"}, Attributes{Verb: "get", Path: "/logs/kubelet.log"}, true},
		{"nonResourceURL prefix needs the prefix", Subject{Kind: UserKind, Name: "any"}, Attributes{Verb: "get", Path: "/log"}, false},
		{"nonResourceURL prefix without slash", Subject{Kind: UserKind, Name: "any"}, Attributes{Verb: "post", Path: "/apis/x"}, true},
		{"anonymous is not authenticated", Subject{Kind: UserKind, Name: UserAnonymous}, Attributes{Verb: "get", Path: "/metrics"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ix.Can(tc.subject.Identity(), tc.attrs)
			if got.Allowed != tc.want {
				t.Fatalf("Can(%s, %s) = %v, want %v (via %v)", tc.subject, tc.attrs.String(), got.Allowed, tc.want, got.Via)
			}
			if got.Allowed && len(got.Via) == 0 {
				t.Fatal("allowed without a path")
			}
			// what-can must agree: some held rule in scope allows it.
			wc := ix.WhatCan(tc.subject.Identity(), "")
			agree := false
			for _, r := range wc.Rules {
				pr := r.PolicyRule()
				if (r.Namespace == "" || r.Namespace == tc.attrs.Namespace) && RuleAllows(&tc.attrs, &pr) {
					agree = true
				}
			}
			if agree != tc.want {
				t.Errorf("WhatCan disagrees with Can: %v", agree)
			}
			// who-can must list a subject that matches.
			wh := ix.WhoCan(tc.attrs, false)
			id := tc.subject.Identity()
			listed := false
			for _, s := range wh.Subjects {
				rs := rbacv1.Subject{Kind: s.Kind, Name: s.Name, Namespace: s.Namespace}
				if appliesToUser(&id, &rs, "") {
					listed = true
				}
			}
			if listed != tc.want {
				t.Errorf("WhoCan disagrees with Can: listed=%v subjects=%v", listed, wh.Subjects)
			}
		})
	}
}

func TestWhoCanAllNamespacesIncludesRoleBindings(t *testing.T) {
	ix := NewIndex(trapSnapshot())
	got := ix.WhoCan(Attributes{Verb: "get", Resource: "secrets", Name: "x", Namespace: "any"}, true)
	var names []string
	for _, s := range got.Subjects {
		names = append(names, s.Kind+":"+s.Namespace+":"+s.Name)
	}
	for _, want := range []string{"User::alice", "Group::devs", "ServiceAccount:ci:deployer", "Group::system:serviceaccounts:ci", "Group::system:masters"} {
		if !slices.Contains(names, want) {
			t.Errorf("who-can -A get secrets: missing %s in %v", want, names)
		}
	}
	for _, s := range got.Subjects {
		if s.Name == "system:serviceaccounts:ci" && s.Broad == "" {
			t.Error("implicit group not marked broad")
		}
		if s.Name == GroupMasters && (len(s.Via) != 1 || s.Via[0].Binding != nil || s.Via[0].Role.Name != GroupMasters) {
			t.Errorf("system:masters path: %+v", s.Via)
		}
	}
}

// TestWhoCanAllNamespacesClusterScoped: a RoleBinding to a ClusterRole that
// names nodes grants nothing without a namespace, but a check in its
// namespace counts it (the authorizer visits a namespace's RoleBindings for
// any resource asked there, as the gMSA webhook asks use on a cluster-scoped
// credential spec), so -A lists bob through it; non-resource URLs are
// granted by ClusterRoleBindings only, -A or not.
func TestWhoCanAllNamespacesClusterScoped(t *testing.T) {
	ix := NewIndex(trapSnapshot())
	for _, all := range []bool{false, true} {
		got := ix.WhoCan(Attributes{Verb: "list", Resource: "nodes"}, all)
		bob := false
		for _, s := range got.Subjects {
			if s.Name == "bob" {
				bob = true
				if len(s.Via) != 1 || s.Via[0].Binding == nil || s.Via[0].Binding.Namespace != "dev" || s.Via[0].Binding.Name != "bob-nodes" {
					t.Errorf("allNamespaces=%v: bob listed through %+v, want RoleBinding dev/bob-nodes", all, s.Via)
				}
			}
		}
		if bob != all {
			t.Errorf("allNamespaces=%v: bob listed=%v, want %v", all, bob, all)
		}
		got = ix.WhoCan(Attributes{Verb: "get", Path: "/metrics"}, all)
		if len(got.Subjects) != 2 { // system:authenticated via CRB metrics, and system:masters
			t.Errorf("allNamespaces=%v: who-can get /metrics = %+v", all, got.Subjects)
		}
	}
}

// TestNonResourceURLsNeverThroughRoleBindings: a RoleBinding to a
// ClusterRole with nonResourceURLs grants none of them, and what-can must
// not list them (the authorizer visits a RoleBinding only for a request in
// its namespace; non-resource requests have none).
func TestNonResourceURLsNeverThroughRoleBindings(t *testing.T) {
	s := trapSnapshot()
	s.ClusterRoles = append(s.ClusterRoles, clusterRole("debug-urls", urlRule(l("get", "post"), "/debug/*")))
	s.RoleBindings = append(s.RoleBindings, rb("dev", "urls", "ClusterRole", "debug-urls", user("ursula")))
	ix := NewIndex(s)
	ursula := Subject{Kind: UserKind, Name: "ursula"}.Identity()
	if ix.Can(ursula, Attributes{Verb: "post", Path: "/debug/pprof"}).Allowed {
		t.Error("can: a RoleBinding granted a non-resource URL")
	}
	for _, r := range ix.WhatCan(ursula, "").Rules {
		for _, p := range r.Via {
			if len(r.NonResourceURLs) > 0 && p.Binding != nil && p.Binding.Kind == "RoleBinding" {
				t.Errorf("what-can lists %v through %s, which cannot grant non-resource URLs", r.NonResourceURLs, p.Binding)
			}
		}
	}
	for _, all := range []bool{false, true} {
		for _, g := range ix.WhoCan(Attributes{Verb: "post", Path: "/debug/pprof"}, all).Subjects {
			if g.Name == "ursula" {
				t.Errorf("allNamespaces=%v: who-can post /debug/pprof lists ursula through %+v", all, g.Via)
			}
		}
	}
}

func TestWhoCanWarnsAboutNamedOnlyGrants(t *testing.T) {
	ix := NewIndex(trapSnapshot())
	got := ix.WhoCan(Attributes{Verb: "get", Resource: "configmaps", Namespace: "dev"}, false)
	if len(got.Warnings) == 0 {
		t.Error("no warning that resourceNames grants were not counted")
	}
}

func TestCanNearest(t *testing.T) {
	ix := NewIndex(trapSnapshot())
	got := ix.Can(Subject{Kind: UserKind, Name: "alice"}.Identity(), Attributes{Verb: "delete", Resource: "pods", Name: "p", Namespace: "dev"})
	if got.Allowed || len(got.Nearest) == 0 || got.Nearest[0].Binding.Name != "alice-pods" {
		t.Fatalf("nearest = %v", got.Nearest)
	}
	got = ix.Can(Subject{Kind: UserKind, Name: "alice"}.Identity(), Attributes{Verb: "get", Resource: "secrets", Name: "x", Namespace: "prod"})
	if got.Allowed || len(got.Nearest) != 1 || got.Nearest[0].Binding.Namespace != "dev" {
		t.Fatalf("nearest in other namespace = %v", got.Nearest)
	}
}

func TestAggregationOffline(t *testing.T) {
	s := NewSnapshot()
	lbl := func(cr rbacv1.ClusterRole, k string) rbacv1.ClusterRole {
		cr.Labels = map[string]string{k: "true"}
		return cr
	}
	agg := func(name, key string, extraLabel string) rbacv1.ClusterRole {
		cr := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{key: "true"}}}}}
		if extraLabel != "" {
			cr.Labels = map[string]string{extraLabel: "true"}
		}
		return cr
	}
	s.ClusterRoles = []rbacv1.ClusterRole{
		agg("admin", "to-admin", ""),
		agg("edit", "to-edit", "to-admin"), // edit aggregates into admin
		lbl(clusterRole("crd-editor", rule(l("create"), l("example.com"), l("widgets"))), "to-edit"),
		lbl(clusterRole("extra-admin", rule(l("delete"), l("example.com"), l("widgets"))), "to-admin"),
	}
	s.RoleBindings = []rbacv1.RoleBinding{rb("ns", "b", "ClusterRole", "admin", user("u"))}
	ix := NewIndex(s)
	for _, verb := range []string{"create", "delete"} {
		if !ix.Can(Subject{Kind: UserKind, Name: "u"}.Identity(), Attributes{Verb: verb, APIGroup: "example.com", Resource: "widgets", Namespace: "ns"}).Allowed {
			t.Errorf("%s widgets through admin <- edit <- crd-editor: denied", verb)
		}
	}
	if len(ix.Warnings()) == 0 {
		t.Error("offline aggregation not reported")
	}
	s.RulesAggregated = true // live: the stored (empty) rules are what the authorizer reads
	if NewIndex(s).Can(Subject{Kind: UserKind, Name: "u"}.Identity(), Attributes{Verb: "create", APIGroup: "example.com", Resource: "widgets", Namespace: "ns"}).Allowed {
		t.Error("live snapshot: aggregated rules computed instead of read")
	}
}

func TestParseSubject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Subject
		err  bool
	}{
		{"user:alice@example.com", Subject{Kind: UserKind, Name: "alice@example.com"}, false},
		{"group:6f1c2d3e-0000-4000-8000-000000000001", Subject{Kind: GroupKind, Name: "6f1c2d3e-0000-4000-8000-000000000001"}, false},
		{"sa:kube-system:default", Subject{Kind: ServiceAccountKind, Namespace: "kube-system", Name: "default"}, false},
		{"user:system:serviceaccount:ci:deployer", Subject{Kind: ServiceAccountKind, Namespace: "ci", Name: "deployer"}, false},
		{"user:system:node:n1", Subject{Kind: UserKind, Name: "system:node:n1"}, false},
		{"sa:default", Subject{}, true},
		{"alice", Subject{}, true},
		{"role:x", Subject{}, true},
		// A service principal or managed identity is the user its object id
		// names, printed with its kind.
		{"serviceprincipal:c0000000-0000-4000-8000-000000000003", Subject{Kind: UserKind, Name: "c0000000-0000-4000-8000-000000000003", PrincipalType: PrincipalServicePrincipal}, false},
		{"sp:c0000000-0000-4000-8000-000000000003", Subject{Kind: UserKind, Name: "c0000000-0000-4000-8000-000000000003", PrincipalType: PrincipalServicePrincipal}, false},
		{"mi:c0000000-0000-4000-8000-000000000003", Subject{Kind: UserKind, Name: "c0000000-0000-4000-8000-000000000003", PrincipalType: PrincipalManagedIdentity}, false},
		{"sp:deploy-bot", Subject{}, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSubject(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if !tc.err && (got.Kind != tc.want.Kind || got.Name != tc.want.Name || got.Namespace != tc.want.Namespace || got.PrincipalType != tc.want.PrincipalType) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			if !tc.err && got.PrincipalType != "" {
				// Printed with its kind; one identity with the user.
				if want := map[string]string{PrincipalServicePrincipal: "serviceprincipal:", PrincipalManagedIdentity: "managedidentity:"}[got.PrincipalType] + got.Name; got.String() != want {
					t.Errorf("prints as %q, want %q", got.String(), want)
				}
				if got.Key() != "user:"+got.Name || got.Identity().Name != got.Name {
					t.Errorf("key %q, identity %+v: want the user %s", got.Key(), got.Identity(), got.Name)
				}
			}
		})
	}
}

// TestIdentityIncludes: a binding's subject applies to an identity as the
// authorizer matches it.
func TestIdentityIncludes(t *testing.T) {
	alice := Subject{Kind: UserKind, Name: "alice", Groups: []string{"devs"}}.Identity()
	sa := Subject{Kind: ServiceAccountKind, Namespace: "ci", Name: "deployer"}.Identity()
	for _, c := range []struct {
		id   Identity
		s    Subject
		want bool
	}{
		{alice, Subject{Kind: UserKind, Name: "alice"}, true},
		{alice, Subject{Kind: UserKind, Name: "bob"}, false},
		{alice, Subject{Kind: GroupKind, Name: "devs"}, true},
		{alice, Subject{Kind: GroupKind, Name: GroupAuthenticated}, true},
		{alice, Subject{Kind: GroupKind, Name: "ops"}, false},
		{alice, Subject{Kind: ServicePrincipalKind, Name: "alice"}, true},
		{sa, Subject{Kind: ServiceAccountKind, Namespace: "ci", Name: "deployer"}, true},
		{sa, Subject{Kind: ServiceAccountKind, Namespace: "cd", Name: "deployer"}, false},
		{sa, Subject{Kind: ServiceAccountKind, Name: "deployer"}, false}, // no namespace: never
		{sa, Subject{Kind: GroupKind, Name: GroupServiceAccountsPrefix + "ci"}, true},
		{sa, Subject{Kind: UserKind, Name: "system:serviceaccount:ci:deployer"}, true},
	} {
		if got := c.id.Includes(c.s); got != c.want {
			t.Errorf("%+v includes %v: %v, want %v", c.id, c.s, got, c.want)
		}
	}
}
