package cluster

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/restmapper"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Resolver turns RESOURCE[.GROUP][/SUBRESOURCE] into a request the way
// kubectl does: with client-go's own RESTMapper (restmapper's discovery
// mapper under its short-name expander, the mapper cli-runtime builds for
// kubectl), over a catalog of what the server serves. The core group comes
// first and then the server's group priority, so `events` is the core
// group's and `pods` is not metrics.k8s.io's, exactly as `kubectl get` and
// `kubectl auth can-i` decide.
type Resolver struct {
	catalog *loading.Catalog
	mapper  interface {
		ResourceFor(schema.GroupVersionResource) (schema.GroupVersionResource, error)
	}
	warnings []string // what the short-name expander warned of, per call
}

// Warning codes of resolution.
const (
	WarnUnknownResource    rbac.WarningCode = "unknown-resource"
	WarnUnknownSubresource rbac.WarningCode = "unknown-subresource"
	WarnAmbiguousShortName rbac.WarningCode = "ambiguous-short-name"
)

// NewResolver builds the resolver over cat.
func NewResolver(cat *loading.Catalog) *Resolver {
	r := &Resolver{catalog: cat}
	groups := make([]*restmapper.APIGroupResources, 0, len(cat.Groups))
	lists := map[string]*metav1.APIResourceList{}
	for i := range cat.Resources {
		lists[cat.Resources[i].GroupVersion] = &cat.Resources[i]
	}
	for _, g := range cat.Groups {
		gr := &restmapper.APIGroupResources{Group: g, VersionedResources: map[string][]metav1.APIResource{}}
		for _, v := range g.Versions {
			if l := lists[v.GroupVersion]; l != nil {
				gr.VersionedResources[v.Version] = l.APIResources
			}
		}
		groups = append(groups, gr)
	}
	r.mapper = restmapper.NewShortcutExpander(restmapper.NewDiscoveryRESTMapper(groups), catalogDiscovery{cat: cat},
		func(w string) { r.warnings = append(r.warnings, w) })
	return r
}

// Resolve reads a resource argument. A resource the server does not serve
// is still answered from the RBAC rules as written, with a warning, as
// kubectl auth can-i does.
func (r *Resolver) Resolve(arg string) (loading.Resolved, []rbac.Warning, error) {
	if arg == "" {
		return loading.Resolved{}, nil, fmt.Errorf("empty resource: write RESOURCE[.GROUP][/SUBRESOURCE], e.g. secrets, deployments.apps, pods/exec")
	}
	res, sub, hasSub := strings.Cut(arg, "/")
	// As kubectl resolves them: Pods, Secret and secrets are one
	// resource, whose requests carry its lower-case plural.
	res = strings.ToLower(res)
	var warnings []rbac.Warning
	if res == "" || (hasSub && (sub == "" || strings.Contains(sub, "/"))) {
		return loading.Resolved{}, nil, fmt.Errorf("resource %q: write RESOURCE[.GROUP][/SUBRESOURCE], e.g. secrets, deployments.apps, pods/exec (a path starting with / is a non-resource URL)", arg)
	}
	if res == "*" || strings.HasPrefix(res, "*.") {
		// A wildcard resource matches only rules that say *.
		_, group, _ := strings.Cut(res, ".")
		return loading.Resolved{Group: group, Resource: "*", Subresource: sub, Namespaced: true, Known: true}, nil, nil
	}
	r.warnings = nil
	// kubectl auth can-i's resourceFor: a fully specified
	// RESOURCE.VERSION.GROUP first, else RESOURCE.GROUP.
	full, gr := schema.ParseResourceArg(res)
	var gvr schema.GroupVersionResource
	if full != nil {
		gvr, _ = r.mapper.ResourceFor(*full)
	}
	var err error
	if gr.Resource == "" {
		return loading.Resolved{}, nil, fmt.Errorf("resource %q: it names no resource; write RESOURCE[.GROUP][/SUBRESOURCE]", arg)
	}
	if gvr.Empty() {
		gvr, err = r.mapper.ResourceFor(gr.WithVersion(""))
	}
	for _, w := range r.warnings {
		warnings = append(warnings, rbac.Warning{Code: WarnAmbiguousShortName, Message: w})
	}
	if err != nil {
		if meta.IsAmbiguousError(err) {
			return loading.Resolved{}, warnings, fmt.Errorf("resource %q is ambiguous: %v", arg, err)
		}
		out := loading.Resolved{Group: gr.Group, Resource: gr.Resource, Subresource: sub, Namespaced: true}
		hint := "check the spelling, or a missing CRD"
		if s := r.suggest(res); s != "" {
			hint = fmt.Sprintf("did you mean %q? or a missing CRD", s)
		}
		return out, append(warnings, rbac.Warnf(WarnUnknownResource,
			"the server does not serve %q (%s); answering from the RBAC rules as written", arg, hint)), nil
	}
	out := loading.Resolved{Group: gvr.Group, Resource: gvr.Resource, Subresource: sub, Namespaced: true, Known: true}
	if info, ok := r.catalog.Lookup(gvr.Group, gvr.Version, gvr.Resource); ok {
		out.Namespaced = info.Namespaced
	}
	if sub != "" {
		if _, ok := r.catalog.Lookup(gvr.Group, gvr.Version, gvr.Resource+"/"+sub); !ok {
			var subs []string
			for _, ri := range r.catalog.Preferred() {
				if ri.Group == gvr.Group && ri.Resource == gvr.Resource {
					subs = ri.Subresources
				}
			}
			have := "none"
			if len(subs) > 0 {
				have = strings.Join(subs, ", ")
			}
			warnings = append(warnings, rbac.Warnf(WarnUnknownSubresource,
				"%s has no subresource %q (it has %s); answering from the RBAC rules as written", gvr.Resource, sub, have))
		}
	}
	return out, warnings, nil
}

// catalogDiscovery serves a catalog to the short-name expander, which asks
// only ServerGroupsAndResources; the other methods are never called.
type catalogDiscovery struct {
	discovery.DiscoveryInterface
	cat *loading.Catalog
}

func (d catalogDiscovery) ServerGroupsAndResources() ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	return d.ServerGroupsAndResourcesWithContext(context.Background())
}

func (d catalogDiscovery) ServerGroupsAndResourcesWithContext(context.Context) ([]*metav1.APIGroup, []*metav1.APIResourceList, error) {
	groups := make([]*metav1.APIGroup, len(d.cat.Groups))
	for i := range d.cat.Groups {
		groups[i] = &d.cat.Groups[i]
	}
	// In group order, each group's versions in its order, as the discovery
	// client lists them (the expander takes the first short name it meets).
	lists := map[string]*metav1.APIResourceList{}
	for i := range d.cat.Resources {
		lists[d.cat.Resources[i].GroupVersion] = &d.cat.Resources[i]
	}
	var out []*metav1.APIResourceList
	for _, g := range d.cat.Groups {
		for _, v := range g.Versions {
			if l := lists[v.GroupVersion]; l != nil {
				out = append(out, l)
			}
		}
	}
	return groups, out, nil
}

// suggest is the served resource closest to a name the server does not
// serve, as RESOURCE or RESOURCE.GROUP, as the argument was written.
func (r *Resolver) suggest(res string) string {
	var names []string
	for _, info := range r.catalog.Preferred() {
		names = append(names, info.Resource)
		if info.Group != "" {
			names = append(names, info.Resource+"."+info.Group)
		}
	}
	return access.Closest(res, names)
}
