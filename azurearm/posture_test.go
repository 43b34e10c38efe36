package azurearm

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestPosture: the managed clusters' settings come from one Azure Resource
// Graph query for every cluster loaded with the same options (a fleet's),
// paged by $skipToken; a cluster the query does not return is read with
// its own GET.
func TestPosture(t *testing.T) {
	f := loadFixture(t)
	a := newFakeARM(t, f)
	o := a.options(t, appSecret)
	o.Posture = &PostureCache{}
	prod := strings.Replace(cluster, "aks-dev", "aks-prod", 1)
	for _, id := range []string{cluster, prod} {
		d, err := Load(t.Context(), id, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if d.Cluster == nil || !strings.EqualFold(d.Cluster.ID, id) || !d.Cluster.AzureRBAC() {
			t.Errorf("%s: settings %+v (gap %q)", id, d.Cluster, d.ClusterGap)
		}
	}
	// Three pages of two (the fixture's five clusters), once for both loads.
	if n := a.requestsTo("/providers/Microsoft.ResourceGraph/resources"); n != 3 {
		t.Errorf("Resource Graph requests = %d, want 3 (one query, three pages)", n)
	}
	if n := a.requestsTo(cluster) + a.requestsTo(prod); n != 0 {
		t.Errorf("%d GETs of the clusters, want none", n)
	}
	// A cluster Resource Graph does not return: its own GET (404 here,
	// so the gap says why).
	gone := strings.Replace(cluster, "aks-dev", "aks-gone", 1)
	if d, err := Load(t.Context(), gone, nil, o); err != nil || d.Cluster != nil || d.ClusterGap == "" || a.requestsTo(gone) != 1 {
		t.Errorf("a cluster outside the query: %v %+v, %d GETs", err, d, a.requestsTo(gone))
	}
}

// BenchmarkPosture50 reads the posture of a fleet of 50 clusters from the
// loopback ARM: one Resource Graph query against the baseline of a GET per
// cluster, in the same run (compare the requests/op and ns/op of the two).
func BenchmarkPosture50(b *testing.B) {
	f := loadFixture(b)
	var one map[string]any
	if err := json.Unmarshal(f.ManagedClusters[0], &one); err != nil {
		b.Fatal(err)
	}
	f.ManagedClusters = nil
	var ids []string
	for i := range 50 {
		c := map[string]any{}
		for k, v := range one {
			c[k] = v
		}
		id := fmt.Sprintf("%s/resourcegroups/rg-%02d/providers/Microsoft.ContainerService/managedClusters/aks-%02d", sub, i, i)
		c["id"], c["name"] = id, fmt.Sprintf("aks-%02d", i)
		raw, _ := json.Marshal(c)
		f.ManagedClusters = append(f.ManagedClusters, raw)
		ids = append(ids, id)
	}
	a := newFakeARM(b, f)
	a.pageSize = 1000
	o := a.options(b, appSecret)
	b.Run("resource-graph", func(b *testing.B) {
		before, _ := a.stats()
		for b.Loop() {
			got, err := Posture(b.Context(), o)
			if err != nil || len(got) != 50 {
				b.Fatalf("%d clusters, %v", len(got), err)
			}
		}
		after, _ := a.stats()
		b.ReportMetric(float64(after-before)/float64(b.N), "requests/op")
	})
	b.Run("get-each", func(b *testing.B) {
		before, _ := a.stats()
		for b.Loop() {
			for _, id := range ids {
				if _, err := ReadManagedCluster(b.Context(), id, o); err != nil {
					b.Fatal(err)
				}
			}
		}
		after, _ := a.stats()
		b.ReportMetric(float64(after-before)/float64(b.N), "requests/op")
	})
}
