// Package azurerbac is Azure RBAC for Kubernetes authorization (AKS's guard
// webhook) as the engine needs it: which Azure dataAction a Kubernetes
// request is checked as, and at which scope. It is pure: no Azure SDK, no
// client-go calls.
//
// The mapping is ported from kubeguard/guard (Apache License 2.0),
// authz/providers/azure/rbac/checkaccessreqhelper.go at commit 5bcf8b53
// (getActionName, getResourceAndAction, getDataActions for a request
// without wildcards, getScope), with guard's test cases in
// dataaction_test.go. guard's options that AKS may set and that are not
// published (custom resources mapped to customresources/ACTION,
// subresource attributes, the namespace scope of managed namespaces) are
// not modelled: the requests they change are CRDs and subresources, which
// guard's defaults map as here.
package azurerbac

import (
	"path"
	"strings"
)

// ClusterType is the prefix of every AKS dataAction.
const ClusterType = "Microsoft.ContainerService/managedClusters"

// actionName is guard's getActionName: the Azure action a Kubernetes verb
// is checked as; "" for a verb guard does not map (the dataAction then
// ends at the resource).
func actionName(verb string) string {
	switch verb {
	case "get", "list", "watch":
		return "read"
	case "bind":
		return "bind/action"
	case "escalate":
		return "escalate/action"
	case "use":
		return "use/action"
	case "impersonate":
		return "impersonate/action"
	case "create", "patch", "update":
		return "write"
	case "delete", "deletecollection":
		return "delete"
	case "*":
		return "*"
	}
	return ""
}

// resourceAndAction is guard's getResourceAndAction: subresources are
// ignored except pods/exec, which is an action of its own whatever the
// verb.
func resourceAndAction(resource, subresource, verb string) string {
	if resource == "pods" && subresource == "exec" {
		return path.Join(resource, subresource, "action")
	}
	return path.Join(resource, actionName(verb))
}

// Request is what guard reads of a SubjectAccessReview's request: a
// resource request, or a non-resource URL when Path is set. (The package
// does not import the engine's types: the engine imports it.)
type Request struct {
	Verb, APIGroup, Resource, Subresource, Namespace, Path string
}

// DataAction is the dataAction guard checks a request as, under prefix
// (ClusterType on AKS): PREFIX[/GROUP]/RESOURCE/ACTION for a resource
// (version and name ignored), PREFIX/PATH/ACTION for a non-resource URL.
func DataAction(prefix string, r Request) string {
	if r.Path != "" {
		return path.Join(prefix, r.Path, actionName(r.Verb))
	}
	id := prefix
	if r.APIGroup != "" {
		id = path.Join(id, r.APIGroup)
	}
	return path.Join(id, resourceAndAction(r.Resource, r.Subresource, r.Verb))
}

// DiscoveryAllowed is guard's AllowNonResPathDiscoveryAccess under its
// default (--azure.allow-nonres-discovery-path-access=true): a get of a
// non-resource URL under /api, /openapi, /version or /healthz is allowed
// to every Entra user without asking Azure.
func DiscoveryAllowed(r Request) bool {
	if r.Path == "" || !strings.EqualFold(r.Verb, "get") {
		return false
	}
	p := strings.ToLower(r.Path)
	for _, prefix := range []string{"/api", "/openapi", "/version", "/healthz"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// Scope is guard's getScope: the Azure scope a request is checked at, the
// namespace's under the cluster for a namespaced request, the cluster's
// for a cluster-scoped one or one across all namespaces (where a
// namespace's assignments do not count).
func Scope(clusterID, namespace string) string {
	if namespace != "" {
		return path.Join(clusterID, "namespaces", namespace)
	}
	return clusterID
}

// Prefix is the dataAction prefix of the cluster's type, read from its
// resource id: Microsoft.ContainerService/managedClusters for AKS,
// Microsoft.Kubernetes/connectedClusters for an Arc-enabled cluster (AKS
// hybrid); AKS's when the id names neither.
func (d *Data) Prefix() string {
	const providers = "/providers/"
	id := d.ClusterID
	i := strings.LastIndex(strings.ToLower(id), providers)
	if i < 0 {
		return ClusterType
	}
	parts := strings.Split(id[i+len(providers):], "/")
	if len(parts) < 2 {
		return ClusterType
	}
	switch t := parts[0] + "/" + parts[1]; {
	case strings.EqualFold(t, "Microsoft.Kubernetes/connectedClusters"):
		return "Microsoft.Kubernetes/connectedClusters"
	case strings.EqualFold(t, "Microsoft.ContainerService/fleets"):
		return "Microsoft.ContainerService/fleets"
	}
	return ClusterType
}
