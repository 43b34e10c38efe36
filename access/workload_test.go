package access

import (
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// TestWhatCanWorkloadIdentityUnread: a live view reads no service
// accounts for what-can; with managed identities in its Azure data, a
// service account's answer says that which identity it acts as is not
// answered, rather than saying nothing (which would read as "none").
func TestWhatCanWorkloadIdentityUnread(t *testing.T) {
	snap := rbac.NewSnapshot()
	snap.RulesAggregated = true
	snap.Azure = &azurerbac.Data{Identities: []azurerbac.ManagedIdentity{{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id", ClientID: "c", PrincipalID: "p"}}}
	sa := rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: "shop", Name: "orders"}
	for _, tc := range []struct {
		name  string
		scope loading.Scope
		whole bool
		warn  bool
	}{
		{"live, service accounts not read", loading.Scope{ClusterRBAC: true, AllNamespaces: true}, false, true},
		{"live, service accounts read", loading.Scope{ClusterRBAC: true, AllNamespaces: true, ServiceAccounts: true}, false, false},
		{"files", loading.Scope{ClusterRBAC: true, AllNamespaces: true}, true, false},
	} {
		s := &Session{App: &App{Cluster: &scripted{}}, Index: rbac.NewIndex(snap), Scope: tc.scope, whole: tc.whole}
		ans := s.WhatCan(t.Context(), sa, "")
		got := false
		for _, w := range ans.Warnings {
			got = got || w.Code == WarnWorkloadIdentity && strings.Contains(w.Message, "not answered")
		}
		if got != tc.warn || len(ans.WorkloadIdentities) != 0 {
			t.Errorf("%s: warned %v, want %v (%v, %+v)", tc.name, got, tc.warn, ans.Warnings, ans.WorkloadIdentities)
		}
	}
}
