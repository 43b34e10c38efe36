package azurearm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// The API versions of the raw REST calls: ones ARM serves in every cloud.
const (
	subscriptionsAPI   = "2022-12-01"
	managedClustersAPI = "2024-05-01"
	// managedClustersWriteAPI reads a managed cluster to write it back and
	// writes it: the first stable version whose resource carries its eTag
	// is 2024-09-01 (armcontainerservice/v6 v6.3.0 adds ManagedCluster.ETag;
	// 2024-05-01, which the reads use, has none, so a write guarded by it
	// could never be made). This is armcontainerservice/v6 v6.6.0's. The
	// GET and the PUT use the same version, so the PUT sends back every
	// field the GET gave.
	managedClustersWriteAPI = "2025-02-01"
)

// moduleVersion is what the pipeline's telemetry (the User-Agent) names.
const moduleVersion = "v0.1.0"

// rest makes the ARM calls no SDK module of ours covers (subscriptions,
// managed clusters) through the same azcore pipeline as the SDK's: the
// same token, retries and transport.
type rest struct {
	client   *arm.Client
	endpoint *url.URL
}

func newREST(o Options) (*rest, error) {
	if o.Credential == nil {
		return nil, fmt.Errorf("no Azure credential")
	}
	c, err := arm.NewClient("azurearm", moduleVersion, signInCredential{cred: o.Credential}, o.armOptions())
	if err != nil {
		return nil, fmt.Errorf("create the ARM client: %w", err)
	}
	ep, err := url.Parse(c.Endpoint())
	if err != nil {
		return nil, fmt.Errorf("ARM endpoint %q: %w", c.Endpoint(), err)
	}
	return &rest{client: c, endpoint: ep}, nil
}

// url is ARM's URL for a resource path and an API version.
func (r *rest) url(resourcePath, apiVersion string) string {
	return runtime.JoinPaths(r.client.Endpoint(), resourcePath) + "?api-version=" + url.QueryEscape(apiVersion)
}

// get GETs u into v; a status other than 200 is an *azcore.ResponseError.
func (r *rest) get(ctx context.Context, u string, v any) error {
	req, err := runtime.NewRequest(ctx, http.MethodGet, u)
	if err != nil {
		return err
	}
	req.Raw().Header.Set("Accept", "application/json")
	resp, err := r.client.Pipeline().Do(req)
	if err != nil {
		return err
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return runtime.NewResponseError(resp)
	}
	return runtime.UnmarshalAsJSON(resp, v)
}

// list GETs every page of an ARM list, following nextLink.
func list[T any](ctx context.Context, r *rest, u string) ([]T, error) {
	var all []T
	for u != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if err := r.get(ctx, u, &page); err != nil {
			return all, err
		}
		all = append(all, page.Value...)
		if page.NextLink != "" {
			// The pipeline sends the token wherever it is asked to: follow
			// a link only to the endpoint the token is for.
			next, err := url.Parse(page.NextLink)
			if err != nil || !strings.EqualFold(next.Scheme, r.endpoint.Scheme) || !strings.EqualFold(next.Host, r.endpoint.Host) {
				return all, fmt.Errorf("ARM's nextLink %q leaves %s", page.NextLink, r.endpoint.Host)
			}
		}
		u = page.NextLink
	}
	return all, nil
}
