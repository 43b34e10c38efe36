package loading

import "context"

// Scope says which objects a query needs. The zero value reads nothing.
type Scope struct {
	// Namespace, when set, limits Roles and RoleBindings to one namespace;
	// AllNamespaces reads them everywhere.
	Namespace     string
	AllNamespaces bool
	// ClusterRBAC reads ClusterRoles and ClusterRoleBindings.
	ClusterRBAC bool
	// ServiceAccounts and Namespaces read those (in Namespace, or all).
	ServiceAccounts bool
	Namespaces      bool
	// Workloads reads pods, nodes, admission webhooks (and the services
	// they call), gMSA credential specs and NetworkPolicies.
	Workloads bool
	// Probes runs the node probes: is the Node authorizer in the chain,
	// does NodeRestriction admission run.
	Probes bool
}

// Full is what a whole-cluster view (snapshot, audit) reads.
var Full = Scope{AllNamespaces: true, ClusterRBAC: true, ServiceAccounts: true, Namespaces: true, Workloads: true, Probes: true}

type progressKey struct{}

// WithProgress returns a context under which a live load reports, after each page
// of each LIST, the resource and how many of its objects have arrived (from
// several goroutines at once: report must be safe for that).
func WithProgress(ctx context.Context, report func(resource string, items int)) context.Context {
	return context.WithValue(ctx, progressKey{}, report)
}

// ProgressFrom returns the report function of WithProgress, or nil.
func ProgressFrom(ctx context.Context) func(string, int) {
	f, _ := ctx.Value(progressKey{}).(func(string, int))
	return f
}
