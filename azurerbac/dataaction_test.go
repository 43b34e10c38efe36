package azurerbac

import (
	"testing"
)

// TestDataAction runs guard's own cases (kubeguard/guard
// authz/providers/azure/rbac/checkaccessreqhelper_test.go,
// Test_getDataActions, the requests without wildcards under guard's
// defaults) and the facts REFERENCE.md states for AKS.
func TestDataAction(t *testing.T) {
	res := func(group, resource, sub, verb string) Request {
		return Request{APIGroup: group, Resource: resource, Subresource: sub, Verb: verb}
	}
	url := func(p, verb string) Request { return Request{Path: p, Verb: verb} }
	for _, tc := range []struct {
		name, prefix string
		a            Request
		want         string
	}{
		// guard's cases.
		{"aks", "aks", url("/apis", "list"), "aks/apis/read"},
		{"aks2", "aks", url("/logs", "get"), "aks/logs/read"},
		{"fleet", "fleet", url("/apis", "list"), "fleet/apis/read"},
		{"fleet2", "fleet", url("/logs", "get"), "fleet/logs/read"},
		{"arc", "arc", res("", "pods", "status", "delete"), "arc/pods/delete"},
		{"arc2", "arc", res("apps", "apps/deployments", "status", "create"), "arc/apps/apps/deployments/write"},
		{"arc3", "arc", res("policy", "podsecuritypolicies", "status", "use"), "arc/policy/podsecuritypolicies/use/action"},
		{"aks3", "aks", res("authentication.k8s.io", "userextras", "scopes", "impersonate"), "aks/authentication.k8s.io/userextras/impersonate/action"},
		{"fleet3", "fleet", res("authentication.k8s.io", "userextras", "scopes", "impersonate"), "fleet/authentication.k8s.io/userextras/impersonate/action"},
		{"arc4", "arc", res("rbac.authorization.k8s.io", "clusterroles", "status", "bind"), "arc/rbac.authorization.k8s.io/clusterroles/bind/action"},
		{"aks4", "aks", res("rbac.authorization.k8s.io", "clusterroles", "status", "escalate"), "aks/rbac.authorization.k8s.io/clusterroles/escalate/action"},
		{"fleet4", "fleet", res("rbac.authorization.k8s.io", "clusterroles", "status", "escalate"), "fleet/rbac.authorization.k8s.io/clusterroles/escalate/action"},
		{"arc5", "arc", res("scheduling.k8s.io", "priorityclasses", "status", "update"), "arc/scheduling.k8s.io/priorityclasses/write"},
		{"aks5", "aks", res("events.k8s.io", "events", "status", "watch"), "aks/events.k8s.io/events/read"},
		{"fleet5", "fleet", res("events.k8s.io", "events", "status", "watch"), "fleet/events.k8s.io/events/read"},
		{"arc6", "arc", res("batch", "cronjobs", "status", "patch"), "arc/batch/cronjobs/write"},
		{"aks6", "aks", res("certificates.k8s.io", "certificatesigningrequests", "approvals", "deletecollection"), "aks/certificates.k8s.io/certificatesigningrequests/delete"},
		{"fleet6", "fleet", res("certificates.k8s.io", "certificatesigningrequests", "approvals", "deletecollection"), "fleet/certificates.k8s.io/certificatesigningrequests/delete"},
		{"aks exec", "aks", res("", "pods", "exec", "create"), "aks/pods/exec/action"},
		{"fleet exec", "fleet", res("", "pods", "exec", "create"), "fleet/pods/exec/action"},
		// REFERENCE.md's AKS facts.
		{"secrets", ClusterType, res("", "secrets", "", "get"), ClusterType + "/secrets/read"},
		{"logs are pods/read", ClusterType, res("", "pods", "log", "get"), ClusterType + "/pods/read"},
		{"attach is pods/write", ClusterType, res("", "pods", "attach", "create"), ClusterType + "/pods/write"},
		{"exec with get", ClusterType, res("", "pods", "exec", "get"), ClusterType + "/pods/exec/action"},
		{"scale", ClusterType, res("apps", "deployments", "scale", "update"), ClusterType + "/apps/deployments/write"},
		{"url", ClusterType, url("/apis", "get"), ClusterType + "/apis/read"},
		{"unmapped verb", ClusterType, res("", "nodes", "proxy", "connect"), ClusterType + "/nodes"},
	} {
		if got := DataAction(tc.prefix, tc.a); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestScope runs guard's Test_getScope cases (the default namespace
// format).
func TestScope(t *testing.T) {
	for _, tc := range []struct{ id, ns, want string }{
		{"resourceId", "", "resourceId"},
		{"", "", ""},
		{"resourceId", "test", "resourceId/namespaces/test"},
		{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c", "payments",
			"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/namespaces/payments"},
	} {
		if got := Scope(tc.id, tc.ns); got != tc.want {
			t.Errorf("Scope(%q, %q) = %q, want %q", tc.id, tc.ns, got, tc.want)
		}
	}
}
