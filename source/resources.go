package source

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
)

// ResourceInfo is one served resource, as discovery describes it.
type ResourceInfo struct {
	Group        string   `json:"group"`
	Version      string   `json:"version"`
	Resource     string   `json:"resource"`
	Kind         string   `json:"kind"`
	Singular     string   `json:"singular,omitempty"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Namespaced   bool     `json:"namespaced"`
	Subresources []string `json:"subresources,omitempty"`
	Verbs        []string `json:"verbs,omitempty"`
}

// Catalog is the set of resources a server serves (live, from discovery)
// or the built-in ones (offline).
type Catalog []ResourceInfo

//go:embed builtin_resources.json
var builtinJSON []byte

// Builtin returns the resources every Kubernetes v1.37 API server serves,
// recorded from the local control plane's discovery (a test keeps it
// current: go test ./source -run TestBuiltinCatalog -update).
func Builtin() Catalog {
	var c Catalog
	if err := json.Unmarshal(builtinJSON, &c); err != nil {
		panic(fmt.Sprintf("builtin_resources.json: %v", err))
	}
	return c
}

// Discover reads the server's preferred resources. A group that fails to
// answer (an unavailable aggregated API) is skipped with a warning.
func Discover(dc discovery.DiscoveryInterface) (Catalog, []string, error) {
	// ServerPreferredResources leaves out subresources (pods/exec), so read
	// every version and keep each group's preferred one.
	groups, lists, err := dc.ServerGroupsAndResources()
	var warnings []string
	if err != nil {
		if discovery.IsGroupDiscoveryFailedError(err) {
			warnings = append(warnings, "some API groups did not answer discovery: "+err.Error())
		} else if len(lists) == 0 {
			return nil, nil, fmt.Errorf("discover the server's resources: %w", err)
		}
	}
	preferred := map[string]bool{}
	for _, g := range groups {
		preferred[g.PreferredVersion.GroupVersion] = true
	}
	var keep []*metav1.APIResourceList
	for _, l := range lists {
		if preferred[l.GroupVersion] {
			keep = append(keep, l)
		}
	}
	return catalogFrom(keep), warnings, nil
}

func catalogFrom(lists []*metav1.APIResourceList) Catalog {
	var c Catalog
	subs := map[string][]string{} // group/resource -> subresources
	for _, l := range lists {
		gv, err := parseGV(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if parent, sub, ok := strings.Cut(r.Name, "/"); ok {
				subs[gv[0]+"/"+parent] = append(subs[gv[0]+"/"+parent], sub)
				continue
			}
			c = append(c, ResourceInfo{Group: gv[0], Version: gv[1], Resource: r.Name, Kind: r.Kind,
				Singular: r.SingularName, ShortNames: r.ShortNames, Namespaced: r.Namespaced, Verbs: r.Verbs})
		}
	}
	for i := range c {
		s := subs[c[i].Group+"/"+c[i].Resource]
		sort.Strings(s)
		c[i].Subresources = s
	}
	sort.Slice(c, func(i, j int) bool {
		if c[i].Group != c[j].Group {
			return c[i].Group < c[j].Group
		}
		return c[i].Resource < c[j].Resource
	})
	return c
}

func parseGV(s string) ([2]string, error) {
	if g, v, ok := strings.Cut(s, "/"); ok {
		return [2]string{g, v}, nil
	}
	return [2]string{"", s}, nil
}

// Resolved is a resource argument turned into request attributes.
type Resolved struct {
	Group, Resource, Subresource string
	// Namespaced is the resource's scope; an unknown resource counts as
	// namespaced so -n applies to it.
	Namespaced bool
	// Known is false when the catalog has no such resource; the answer
	// then comes from the RBAC rules as written.
	Known bool
}

// Resolve reads RESOURCE[.GROUP][/SUBRESOURCE] (plural, singular, short
// name or kind, as kubectl accepts them). A resource the catalog lacks is
// still answered, with a warning; an ambiguous one is an error listing the
// choices.
func (c Catalog) Resolve(arg string) (Resolved, []string, error) {
	if arg == "" {
		return Resolved{}, nil, fmt.Errorf("empty resource: write RESOURCE[.GROUP][/SUBRESOURCE], e.g. secrets, deployments.apps, pods/exec")
	}
	res, sub, _ := strings.Cut(arg, "/")
	res = strings.ToLower(res)
	name, group, hasGroup := strings.Cut(res, ".")
	var matches []ResourceInfo
	for _, ri := range c {
		if hasGroup && ri.Group != group {
			continue
		}
		if ri.Resource == name || ri.Singular == name || strings.ToLower(ri.Kind) == name || contains(ri.ShortNames, name) {
			matches = append(matches, ri)
		}
	}
	if len(matches) == 0 && hasGroup {
		// "RESOURCE.GROUP" whose group itself has dots: match the whole
		// string against group-qualified names.
		for _, ri := range c {
			if ri.Resource+"."+ri.Group == res {
				matches = append(matches, ri)
			}
		}
	}
	if len(matches) > 1 {
		// Prefer the core and built-in group over look-alikes (kubectl's
		// priority), then exact plural matches.
		sort.SliceStable(matches, func(i, j int) bool {
			return rank(matches[i], name) < rank(matches[j], name)
		})
		if rank(matches[0], name) == rank(matches[1], name) {
			var opts []string
			for _, m := range matches {
				opts = append(opts, m.Resource+"."+m.Group)
			}
			return Resolved{}, nil, fmt.Errorf("resource %q is ambiguous: write one of %s", arg, strings.Join(opts, ", "))
		}
	}
	if len(matches) == 0 {
		r := Resolved{Resource: name, Subresource: sub, Namespaced: true}
		if hasGroup {
			r.Group = group
		}
		return r, []string{fmt.Sprintf("the server does not serve %q (check the spelling, or a missing CRD); answering from the RBAC rules as written", arg)}, nil
	}
	m := matches[0]
	r := Resolved{Group: m.Group, Resource: m.Resource, Subresource: sub, Namespaced: m.Namespaced, Known: true}
	var warnings []string
	if sub != "" && !contains(m.Subresources, sub) {
		warnings = append(warnings, fmt.Sprintf("%s has no subresource %q (it has %s); answering from the RBAC rules as written", m.Resource, sub, strings.Join(m.Subresources, ", ")))
	}
	return r, warnings, nil
}

func rank(ri ResourceInfo, name string) int {
	r := 0
	if ri.Resource != name {
		r += 2
	}
	if ri.Group != "" && !strings.HasSuffix(ri.Group, ".k8s.io") && !strings.Contains(ri.Group, ".") {
		r++ // built-in short groups (apps, batch) before CRDs that reuse names
	} else if strings.Contains(ri.Group, ".") && !strings.HasSuffix(ri.Group, ".k8s.io") {
		r += 4
	}
	return r
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
