package azurerbac

import (
	"strings"
	"testing"
)

// TestMatchAction: Azure's wildcard, any run of characters, in any case.
func TestMatchAction(t *testing.T) {
	secrets := ClusterType + "/secrets/read"
	for _, tc := range []struct {
		pattern, action string
		want            bool
	}{
		{ClusterType + "/*", secrets, true},
		{ClusterType + "/*", ClusterType + "/apps/deployments/write", true},
		{ClusterType + "/*/read", secrets, true},
		{ClusterType + "/*/read", ClusterType + "/apps/deployments/read", true},
		{ClusterType + "/*/read", ClusterType + "/secrets/write", false},
		{ClusterType + "/secrets/*", secrets, true},
		{ClusterType + "/secrets/*", ClusterType + "/secretstore/read", false},
		{"microsoft.containerservice/MANAGEDCLUSTERS/Secrets/Read", secrets, true},
		{ClusterType + "/apps/*", ClusterType + "/apps/deployments/write", true},
		{ClusterType + "/apps/*", ClusterType + "/pods/read", false},
		{"*", secrets, true},
		{ClusterType + "/pods/exec/action", ClusterType + "/pods/exec/action", true},
		{ClusterType + "/pods/*", ClusterType + "/pods/exec/action", true},
		{ClusterType + "/pods/read", ClusterType + "/pods/exec/action", false},
		{"", secrets, false},
		{"*a*b*c*d*e*f*g*h*i*j*k*", strings.Repeat("a", 5000), false},
	} {
		if got := MatchAction(tc.pattern, tc.action); got != tc.want {
			t.Errorf("MatchAction(%q, %q) = %v", tc.pattern, tc.action, got)
		}
	}
}

// TestPermissions: dataActions less notDataActions within a permission,
// the union across permissions (a carve-out is not a deny).
func TestPermissions(t *testing.T) {
	writer := Permission{DataActions: []string{ClusterType + "/*"}, NotDataActions: []string{ClusterType + "/secrets/*"}}
	if !writer.Allows(ClusterType+"/pods/read") || writer.Allows(ClusterType+"/secrets/read") {
		t.Error("notDataActions not carved out")
	}
	reader := Permission{DataActions: []string{ClusterType + "/secrets/read"}}
	if !Allows([]Permission{writer, reader}, ClusterType+"/secrets/read") {
		t.Error("another permission's grant was taken away by a carve-out")
	}
	if Allows(nil, ClusterType+"/pods/read") {
		t.Error("no permission allowed something")
	}
}

// TestInScope: an assignment reaches its scope and those below it; a
// namespace's does not reach the cluster, nor another namespace.
func TestInScope(t *testing.T) {
	cluster := "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
	ns := Scope(cluster, "payments")
	for _, tc := range []struct {
		scope, request string
		want           bool
	}{
		{cluster, cluster, true},
		{cluster, ns, true},
		{"/subscriptions/s1", ns, true},
		{"/subscriptions/S1/resourcegroups/RG", ns, true},
		{"/subscriptions/s1/resourceGroups/rg2", ns, false},
		{"/subscriptions/s1/resourceGroups/r", ns, false},
		{ns, cluster, false},
		{Scope(cluster, "web"), ns, false},
		{Scope(cluster, "pay"), ns, false},
		{"/", cluster, true},
	} {
		if got := InScope(tc.scope, tc.request); got != tc.want {
			t.Errorf("InScope(%q, %q) = %v", tc.scope, tc.request, got)
		}
	}
}

func TestInScopeCases(t *testing.T) {
	for _, tc := range []struct {
		scope, request string
		want           bool
	}{
		{"/subscriptions/S", "/subscriptions/s/resourceGroups/rg", true},
		{"/subscriptions/S/", "/subscriptions/s", true},
		{"/subscriptions/s", "/subscriptions/s2", false},
		{"/subscriptions/s/resourceGroups/rg", "/subscriptions/s", false},
		{"/", "/subscriptions/s", true},
		{"", "/x", true},
		{"/a/b", "/A/B/", true},
	} {
		if got := InScope(tc.scope, tc.request); got != tc.want {
			t.Errorf("InScope(%q, %q) = %v", tc.scope, tc.request, got)
		}
	}
}
