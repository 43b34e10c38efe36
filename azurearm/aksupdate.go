package azurearm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// The write an aks fix makes (kubectl access fix --apply), as az aks
// update makes it: ARM writes a managed cluster only whole (a PUT of the
// resource), so the caller GETs it with its ETag (ManagedClusterResource),
// changes the one setting, and PUTs it back with If-Match
// (PutManagedCluster): a change made in between fails the PUT (HTTP 412)
// instead of being overwritten. The PUT starts a long-running operation
// that is followed to its end.

// DefaultPollFrequency is how often a managed cluster's update is asked
// after, unless ARM says when (Retry-After).
const DefaultPollFrequency = 10 * time.Second

// ManagedClusterResource reads the managed cluster as ARM gives it (the
// whole resource, which a PUT sends back) and its ETag (the ETag header,
// else the resource's eTag; "" when ARM gives neither).
func ManagedClusterResource(ctx context.Context, id string, o Options) (map[string]any, string, error) {
	if _, err := parseClusterID(id); err != nil {
		return nil, "", err
	}
	r, err := newREST(o)
	if err != nil {
		return nil, "", err
	}
	req, err := runtime.NewRequest(ctx, http.MethodGet, r.url(id, managedClustersWriteAPI))
	if err != nil {
		return nil, "", err
	}
	req.Raw().Header.Set("Accept", "application/json")
	resp, err := r.client.Pipeline().Do(req)
	if err != nil {
		return nil, "", fatalOr(ctx, "read the managed cluster "+id, err)
	}
	if !runtime.HasStatusCode(resp, http.StatusOK) {
		return nil, "", clusterWriteError(ctx, "read the managed cluster "+id, runtime.NewResponseError(resp), "Microsoft.ContainerService/managedClusters/read, e.g. the Reader role")
	}
	var body map[string]any
	if err := runtime.UnmarshalAsJSON(resp, &body); err != nil {
		return nil, "", fmt.Errorf("read the managed cluster %s: %w", id, err)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		etag, _ = body["eTag"].(string)
	}
	return body, etag, nil
}

// ChangedError is a PUT refused because the cluster changed since it was
// read (HTTP 412: its ETag is no longer the one sent).
type ChangedError struct{ msg string }

func (e *ChangedError) Error() string { return e.msg }

// Changed marks the error for the application layer (which does not
// import this package).
func (*ChangedError) Changed() bool { return true }

// PutManagedCluster writes the managed cluster id whole (body, as
// ManagedClusterResource read it with one setting changed) if its ETag is
// still etag, and waits for the update to end: ARM's Azure-AsyncOperation
// (or the resource's provisioningState) polled every Options.PollFrequency
// or when ARM's Retry-After says, until it succeeds, fails, or ctx ends.
// An update ARM accepted goes on in Azure when the wait is cut short; the
// error says so.
func PutManagedCluster(ctx context.Context, id string, body map[string]any, etag string, o Options) error {
	if _, err := parseClusterID(id); err != nil {
		return err
	}
	if etag == "" {
		return errors.New("the managed cluster was read without an ETag: it is not written without one (a change made meanwhile would be overwritten)")
	}
	r, err := newREST(o)
	if err != nil {
		return err
	}
	req, err := runtime.NewRequest(ctx, http.MethodPut, r.url(id, managedClustersWriteAPI))
	if err != nil {
		return err
	}
	req.Raw().Header.Set("Accept", "application/json")
	req.Raw().Header.Set("If-Match", etag)
	if err := runtime.MarshalAsJSON(req, body); err != nil {
		return err
	}
	resp, err := r.client.Pipeline().Do(req)
	if err != nil {
		return fatalOr(ctx, "update the managed cluster "+id, err)
	}
	if resp.StatusCode == http.StatusPreconditionFailed {
		why := "HTTP 412"
		var re *azcore.ResponseError
		if errors.As(runtime.NewResponseError(resp), &re) {
			why = describe(re)
		}
		return &ChangedError{msg: fmt.Sprintf("the managed cluster %s changed since it was read (%s): nothing was written; run the audit again", id, why)}
	}
	if !runtime.HasStatusCode(resp, http.StatusOK, http.StatusCreated, http.StatusAccepted) {
		return clusterWriteError(ctx, "update the managed cluster "+id, runtime.NewResponseError(resp), "Microsoft.ContainerService/managedClusters/write, e.g. the Azure Kubernetes Service Contributor Role")
	}
	// The pipeline sends the token wherever it is asked to: poll only
	// the endpoint the token is for.
	for _, h := range []string{"Azure-AsyncOperation", "Location", "Operation-Location"} {
		if v := resp.Header.Get(h); v != "" {
			u, perr := url.Parse(v)
			if perr != nil || !strings.EqualFold(u.Scheme, r.endpoint.Scheme) || !strings.EqualFold(u.Host, r.endpoint.Host) {
				return fmt.Errorf("the update of %s was accepted, but ARM's %s %q leaves %s: not followed; see az aks show --ids %s --query provisioningState", id, h, v, r.endpoint.Host, id)
			}
		}
	}
	poller, err := runtime.NewPoller[map[string]any](resp, r.client.Pipeline(), nil)
	if err != nil {
		return fmt.Errorf("follow the update of %s: %w", id, err)
	}
	freq := o.PollFrequency
	if freq <= 0 {
		freq = DefaultPollFrequency
	}
	final, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: freq})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("stopped waiting for the update of %s (%w): ARM accepted it and it goes on in Azure; see az aks show --ids %s --query provisioningState", id, ctx.Err(), id)
		}
		var re *azcore.ResponseError
		if errors.As(err, &re) {
			return &armError{msg: fmt.Sprintf("the update of the managed cluster %s failed: %s", id, describe(re)), err: err}
		}
		return fmt.Errorf("the update of the managed cluster %s failed: %w", id, err)
	}
	if props, _ := final["properties"].(map[string]any); props != nil {
		if s, _ := props["provisioningState"].(string); s != "" && !strings.EqualFold(s, "Succeeded") {
			return fmt.Errorf("the update of the managed cluster %s ended %s", id, s)
		}
	}
	return nil
}

// clusterWriteError says what ARM refused, naming the permission a 403
// lacks.
func clusterWriteError(ctx context.Context, what string, err error, needs string) error {
	var re *azcore.ResponseError
	if ctx.Err() == nil && errors.As(err, &re) {
		switch re.StatusCode {
		case http.StatusForbidden:
			return &armError{msg: fmt.Sprintf("%s: %s (the Azure identity needs %s)", what, describe(re), needs), err: err}
		case http.StatusNotFound:
			return &armError{msg: fmt.Sprintf("%s: no such cluster (%s)", what, describe(re)), err: err}
		}
	}
	return fatalOr(ctx, what, err)
}
