package rbac_test

import (
	"testing"

	"github.com/kubectl-access/kubectl-access/internal/testkit/large"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The engine's queries on the LARGE snapshot in memory. Each reports the
// baseline of a bare pass over every binding's subjects in the same run
// (BenchmarkLargeBaselineScan), so figures read as ratios to it.

var largeIndex = func() func() *rbac.Index {
	var ix *rbac.Index
	return func() *rbac.Index {
		if ix == nil {
			ix = rbac.NewIndex(large.Snapshot(1))
		}
		return ix
	}
}()

func BenchmarkLargeBaselineScan(b *testing.B) {
	s := largeIndex().Snapshot()
	n := 0
	for b.Loop() {
		for i := range s.RoleBindings {
			n += len(s.RoleBindings[i].Subjects)
		}
		for i := range s.ClusterRoleBindings {
			n += len(s.ClusterRoleBindings[i].Subjects)
		}
	}
	_ = n
}

func BenchmarkLargeNewIndex(b *testing.B) {
	s := large.Snapshot(1)
	for b.Loop() {
		rbac.NewIndex(s)
	}
}

func BenchmarkLargeWhoCanNamespace(b *testing.B) {
	ix := largeIndex()
	a := rbac.Attributes{Verb: "get", Resource: "secrets", Namespace: large.Namespace(7)}
	for b.Loop() {
		if len(ix.WhoCan(a, false).Subjects) == 0 {
			b.Fatal("no subjects")
		}
	}
}

func BenchmarkLargeWhoCanAllNamespaces(b *testing.B) {
	ix := largeIndex()
	a := rbac.Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Name: "p"}
	for b.Loop() {
		if len(ix.WhoCan(a, true).Subjects) < 100 {
			b.Fatal("too few subjects")
		}
	}
}

func BenchmarkLargeWhatCanUserWithGroups(b *testing.B) {
	ix := largeIndex()
	id := rbac.Subject{Kind: rbac.UserKind, Name: large.User(11), Groups: []string{large.Group(3), large.Group(4), large.Group(5)}}.Identity()
	for b.Loop() {
		if len(ix.WhatCan(id, "").Rules) == 0 {
			b.Fatal("no rules")
		}
	}
}

func BenchmarkLargeWhatCanServiceAccount(b *testing.B) {
	ix := largeIndex()
	id := rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: large.Namespace(3), Name: "sa-01"}.Identity()
	for b.Loop() {
		ix.WhatCan(id, "")
	}
}

func BenchmarkLargeCan(b *testing.B) {
	ix := largeIndex()
	id := rbac.Subject{Kind: rbac.UserKind, Name: large.User(11), Groups: []string{large.Group(3)}}.Identity()
	a := rbac.Attributes{Verb: "delete", Resource: "pods", Name: "p", Namespace: large.Namespace(9)}
	for b.Loop() {
		ix.Can(id, a)
	}
}

// The heavy cases: who-can -A on the request the most subjects hold, and
// what-can for the user in twenty groups bound across most namespaces and
// for the service account bound in every namespace.

func BenchmarkLargeWhoCanBusiest(b *testing.B) {
	ix := largeIndex()
	a := rbac.Attributes{Verb: "get", Resource: "pods", Subresource: "exec", Namespace: large.Namespace(0)}
	for b.Loop() {
		if len(ix.WhoCan(a, true).Subjects) < 1000 {
			b.Fatal("too few subjects")
		}
	}
}

func BenchmarkLargeWhatCanHeavyUser(b *testing.B) {
	ix := largeIndex()
	id := rbac.Subject{Kind: rbac.UserKind, Name: large.HeavyUser, Groups: heavyGroups()}.Identity()
	for b.Loop() {
		if len(ix.WhatCan(id, "").Rules) < 1000 {
			b.Fatal("too few rules")
		}
	}
}

func BenchmarkLargeWhatCanBusyServiceAccount(b *testing.B) {
	ix := largeIndex()
	id := rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: large.Namespace(0), Name: large.BusySA}.Identity()
	for b.Loop() {
		if len(ix.WhatCan(id, "").Rules) < 500 {
			b.Fatal("too few rules")
		}
	}
}

func heavyGroups() []string {
	var g []string
	for i := range large.HeavyGroups {
		g = append(g, large.HeavyGroup(i))
	}
	return g
}

// LARGE with Azure RBAC's data (5,000 assignments over 500 namespaces):
// the chain's Azure link in every query, against the same baseline.
var largeAzureIndex = func() func() *rbac.Index {
	var ix *rbac.Index
	return func() *rbac.Index {
		if ix == nil {
			s := *large.Snapshot(1)
			s.Azure = large.Azure(1, large.Large)
			ix = rbac.NewIndex(&s)
		}
		return ix
	}
}()

func BenchmarkLargeAzureWhoCanNamespace(b *testing.B) {
	ix := largeAzureIndex()
	a := rbac.Attributes{Verb: "get", Resource: "secrets", Namespace: large.Namespace(7)}
	for b.Loop() {
		if len(ix.WhoCan(a, false).Subjects) == 0 {
			b.Fatal("no subjects")
		}
	}
}

func BenchmarkLargeAzureWhoCanAllNamespaces(b *testing.B) {
	ix := largeAzureIndex()
	a := rbac.Attributes{Verb: "create", Resource: "pods", Subresource: "exec", Name: "p", Namespace: large.Namespace(0)}
	for b.Loop() {
		if len(ix.WhoCan(a, true).Subjects) < 100 {
			b.Fatal("too few subjects")
		}
	}
}

func BenchmarkLargeAzureWhatCanHeavy(b *testing.B) {
	ix := largeAzureIndex()
	id := rbac.Identity{Name: large.HeavyUser, Groups: []string{rbac.GroupAuthenticated}}
	for i := range large.HeavyGroups {
		id.Groups = append(id.Groups, large.HeavyGroup(i))
	}
	for b.Loop() {
		if len(ix.WhatCan(id, "").Rules) == 0 {
			b.Fatal("no rules")
		}
	}
}

func BenchmarkLargeAzureCanDenied(b *testing.B) {
	ix := largeAzureIndex()
	id := rbac.Identity{Name: large.User(1), ObjectID: large.UserOID(1), Groups: []string{rbac.GroupAuthenticated, large.Group(1), large.Group(2)}}
	a := rbac.Attributes{Verb: "escalate", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles"}
	for b.Loop() {
		if ix.Can(id, a).Allowed {
			b.Fatal("allowed")
		}
	}
}
