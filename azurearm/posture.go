package azurearm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/armresourcegraph"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// postureQuery asks Azure Resource Graph for every managed cluster the
// identity can read, with the settings the tool reads (the same JSON as
// ARM's GET: id, name, type, location, identity, properties).
const postureQuery = "resources | where type =~ 'microsoft.containerservice/managedclusters' | project id, name, type, location, identity, properties"

// Posture reads every managed cluster's settings the credential can see
// in one Azure Resource Graph query (paged by $skipToken, 1,000 rows a
// page), keyed by lower-case resource id: a fleet's posture in one call,
// not a GET per cluster.
func Posture(ctx context.Context, o Options) (map[string]*azurerbac.ManagedCluster, error) {
	if o.Credential == nil {
		return nil, fmt.Errorf("no Azure credential")
	}
	c, err := armresourcegraph.NewClient(signInCredential{cred: o.Credential}, o.armOptions())
	if err != nil {
		return nil, err
	}
	out := map[string]*azurerbac.ManagedCluster{}
	req := armresourcegraph.QueryRequest{Query: to.Ptr(postureQuery),
		Options: &armresourcegraph.QueryRequestOptions{ResultFormat: to.Ptr(armresourcegraph.ResultFormatObjectArray), Top: to.Ptr[int32](1000)}}
	for {
		resp, err := c.Resources(ctx, req, nil)
		if err != nil {
			return nil, fatalOr(ctx, "query Azure Resource Graph for the managed clusters", err)
		}
		rows, ok := resp.Data.([]any)
		if !ok && resp.Data != nil {
			return nil, fmt.Errorf("the Resource Graph query answered rows of %T, not objects", resp.Data)
		}
		for _, row := range rows {
			b, err := json.Marshal(row)
			if err != nil {
				return nil, err
			}
			mc, err := azurerbac.ParseManagedCluster(b)
			if err != nil {
				continue // not a cluster's resource: not ours to judge
			}
			out[strings.ToLower(mc.ID)] = mc
		}
		if resp.SkipToken == nil || *resp.SkipToken == "" {
			return out, nil
		}
		req.Options.SkipToken = resp.SkipToken
	}
}

// PostureCache reads the managed clusters' settings once (Posture) for
// every cluster a command reads: a fleet's members share it. A cluster
// the query does not return (not yet indexed, or the query failed) is
// read with its own GET.
type PostureCache struct {
	once     sync.Once
	clusters map[string]*azurerbac.ManagedCluster
	err      error
}

// cluster is one cluster's settings from the query, false when it has
// none of it.
func (p *PostureCache) cluster(ctx context.Context, id string, o Options) (*azurerbac.ManagedCluster, bool) {
	p.once.Do(func() { p.clusters, p.err = Posture(ctx, o) })
	if p.err != nil {
		return nil, false
	}
	mc, ok := p.clusters[strings.ToLower(strings.TrimSuffix(id, "/"))]
	return mc, ok
}
