package loading

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// Catalog is what a server serves, as its discovery says it: the API
// groups in the server's priority order (the core group first, then by
// each APIService's priority), and every version's resources, subresources
// included. kubectl's RESTMapper resolves resource names from exactly this
// (package cluster builds one from it), so a catalog keeps the order.
type Catalog rbac.Discovery

// Discovery is the catalog as a snapshot keeps it.
func (c *Catalog) Discovery() *rbac.Discovery { return (*rbac.Discovery)(c) }

// CatalogOf is the catalog of a snapshot's discovery (nil for nil).
func CatalogOf(d *rbac.Discovery) *Catalog { return (*Catalog)(d) }

// ResourceInfo is one served resource in its group's preferred version.
type ResourceInfo struct {
	Group        string
	Version      string
	Resource     string
	Kind         string
	Namespaced   bool
	Subresources []string
}

//go:embed builtin_resources.json
var builtinJSON []byte

// Builtin returns what every Kubernetes v1.37 API server serves, recorded
// from the local control plane's discovery without add-ons (a test keeps
// it current: go test ./cluster -run TestBuiltinCatalog -update).
func Builtin() *Catalog {
	var c Catalog
	if err := json.Unmarshal(builtinJSON, &c); err != nil {
		panic(fmt.Sprintf("builtin_resources.json: %v", err))
	}
	return &c
}

// Preferred lists the resources of each group's preferred version, groups
// in priority order, with their subresources.
func (c *Catalog) Preferred() []ResourceInfo {
	if c == nil {
		return nil
	}
	lists := map[string]*metav1.APIResourceList{}
	for i := range c.Resources {
		lists[c.Resources[i].GroupVersion] = &c.Resources[i]
	}
	var out []ResourceInfo
	for _, g := range c.Groups {
		l := lists[g.PreferredVersion.GroupVersion]
		if l == nil {
			continue
		}
		subs := map[string][]string{}
		for _, r := range l.APIResources {
			if parent, sub, ok := strings.Cut(r.Name, "/"); ok {
				subs[parent] = append(subs[parent], sub)
			}
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			s := subs[r.Name]
			slices.Sort(s)
			out = append(out, ResourceInfo{Group: g.Name, Version: g.PreferredVersion.Version, Resource: r.Name,
				Kind: r.Kind, Namespaced: r.Namespaced, Subresources: s})
		}
	}
	return out
}

// Names are the resources and subresources as kubectl writes them
// (deployments.apps, pods/exec), sorted: what completion offers.
func (c *Catalog) Names() []string {
	var out []string
	for _, r := range c.Preferred() {
		name := r.Resource
		if r.Group != "" {
			name += "." + r.Group
		}
		out = append(out, name)
		for _, sub := range r.Subresources {
			out = append(out, name+"/"+sub)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// GroupResources lists a group's resources (preferred version), for
// narrowing a wildcard resource in a fix.
func (c *Catalog) GroupResources(group string) []string {
	var out []string
	for _, r := range c.Preferred() {
		if r.Group == group && !slices.Contains(out, r.Resource) {
			out = append(out, r.Resource)
		}
	}
	return out
}

// Lookup finds a resource of a group in any served version.
func (c *Catalog) Lookup(group, version, resource string) (metav1.APIResource, bool) {
	if c == nil {
		return metav1.APIResource{}, false
	}
	for _, l := range c.Resources {
		g, v, ok := strings.Cut(l.GroupVersion, "/")
		if !ok {
			g, v = "", l.GroupVersion
		}
		if g != group || (version != "" && v != version) {
			continue
		}
		for _, r := range l.APIResources {
			if r.Name == resource {
				return r, true
			}
		}
	}
	return metav1.APIResource{}, false
}

// Resolved is a resource argument turned into request attributes.
type Resolved struct {
	Group, Resource, Subresource string
	// Namespaced is the resource's scope; an unknown resource counts as
	// namespaced so -n applies to it.
	Namespaced bool
	// Known is false when the server does not serve the resource; the
	// answer then comes from the RBAC rules as written.
	Known bool
}

// Served returns whether the catalog serves a group's resource (in its
// preferred version), from a set built once for many questions.
func (c *Catalog) Served() func(group, resource string) bool {
	set := map[[2]string]bool{}
	for _, r := range c.Preferred() {
		set[[2]string{r.Group, r.Resource}] = true
	}
	return func(group, resource string) bool { return set[[2]string{group, resource}] }
}
