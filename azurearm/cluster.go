package azurearm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"golang.org/x/sync/errgroup"
)

// managedCluster is what an AKS cluster's ARM resource says of where its
// API server is.
type managedCluster struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Properties struct {
		FQDN            string `json:"fqdn"`
		PrivateFQDN     string `json:"privateFQDN"`
		AzurePortalFQDN string `json:"azurePortalFQDN"`
	} `json:"properties"`
}

// fqdns are the host names the cluster's API server answers at.
func (c managedCluster) fqdns() []string {
	var out []string
	for _, f := range []string{c.Properties.FQDN, c.Properties.PrivateFQDN, c.Properties.AzurePortalFQDN} {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (c managedCluster) serves(host string) bool {
	return slices.ContainsFunc(c.fqdns(), func(f string) bool { return strings.EqualFold(strings.TrimSuffix(f, "."), host) })
}

// serverHost is the host of a kubeconfig's server (https://HOST[:PORT]):
// AKS serves on 443 alone, so the port tells nothing.
func serverHost(server string) (string, error) {
	s := server
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("the kubeconfig's server %q is not a URL: pass --azure-cluster-id", server)
	}
	return strings.TrimSuffix(u.Hostname(), "."), nil
}

// FindCluster returns the resource id of the AKS cluster whose API server
// is server (the kubeconfig's https://HOST[:443]), looking through the
// managed clusters of every subscription the credential can read for one
// whose fqdn, privateFQDN or azurePortalFQDN is HOST. A subscription whose
// clusters cannot be listed is skipped and counted in the error when no
// cluster matches.
func FindCluster(ctx context.Context, server string, o Options) (string, error) {
	host, err := serverHost(server)
	if err != nil {
		return "", err
	}
	r, err := newREST(o)
	if err != nil {
		return "", err
	}
	type subscription struct {
		ID             string `json:"id"`
		SubscriptionID string `json:"subscriptionId"`
	}
	subs, err := list[subscription](ctx, r, r.url("/subscriptions", subscriptionsAPI))
	if err != nil {
		return "", fatalOr(ctx, "list the Azure subscriptions", err)
	}

	var (
		mu       sync.Mutex
		searched int
		matches  []string
		unread   []string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.parallel())
	for _, s := range subs {
		sub := s.ID
		if sub == "" {
			sub = "/subscriptions/" + s.SubscriptionID
		}
		g.Go(func() error {
			clusters, err := list[managedCluster](gctx, r, r.url(sub+"/providers/Microsoft.ContainerService/managedClusters", managedClustersAPI))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				var re *azcore.ResponseError
				var signIn *SignInError
				if gctx.Err() != nil || errors.As(err, &signIn) || !errors.As(err, &re) || re.StatusCode == http.StatusUnauthorized {
					return fatalOr(gctx, "list the AKS clusters of "+sub, err)
				}
				unread = append(unread, fmt.Sprintf("%s: %s", sub, describe(re)))
				return nil
			}
			searched += len(clusters)
			for _, c := range clusters {
				if c.serves(host) {
					matches = append(matches, c.ID)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", err
	}
	slices.Sort(matches)
	slices.Sort(unread)
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		msg := fmt.Sprintf("no AKS cluster has API server %s among the %d clusters of the %d Azure subscriptions the identity can read", host, searched, len(subs))
		if len(unread) > 0 {
			msg += fmt.Sprintf(" (%d could not be listed: %s)", len(unread), strings.Join(unread, "; "))
		}
		return "", errors.New(msg + ": pass the cluster's resource id with --azure-cluster-id (az aks show -g GROUP -n NAME --query id)")
	default:
		return "", fmt.Errorf("%d AKS clusters have API server %s: %s: pass the one to use with --azure-cluster-id", len(matches), host, strings.Join(matches, ", "))
	}
}

// CheckCluster checks that clusterID (as given with --azure-cluster-id) is
// the AKS cluster whose API server is server, the kubeconfig's: Azure RBAC
// answers for one cluster are wrong for another.
func CheckCluster(ctx context.Context, clusterID, server string, o Options) error {
	if _, err := parseClusterID(clusterID); err != nil {
		return fmt.Errorf("--azure-cluster-id: %w", err)
	}
	host, err := serverHost(server)
	if err != nil {
		return err
	}
	r, err := newREST(o)
	if err != nil {
		return err
	}
	var c managedCluster
	if err := r.get(ctx, r.url(clusterID, managedClustersAPI), &c); err != nil {
		var re *azcore.ResponseError
		if ctx.Err() == nil && errors.As(err, &re) {
			switch re.StatusCode {
			case http.StatusNotFound:
				return &armError{msg: fmt.Sprintf("--azure-cluster-id %s: no such cluster (%s): check the id (az aks show -g GROUP -n NAME --query id)", clusterID, describe(re)), err: re}
			case http.StatusForbidden:
				return &armError{msg: fmt.Sprintf("--azure-cluster-id %s: forbidden to read the cluster (the Azure identity needs Microsoft.ContainerService/managedClusters/read there, e.g. the Reader role)", clusterID), err: re}
			}
		}
		return fatalOr(ctx, "read the AKS cluster "+clusterID, err)
	}
	if c.serves(host) {
		return nil
	}
	api := strings.Join(c.fqdns(), " or ")
	if api == "" {
		api = "unknown (ARM gives no fqdn)"
	}
	return mismatchError{fmt.Sprintf("--azure-cluster-id %s is cluster %s, whose API server is %s, but the kubeconfig's server is %s: pass the id of the kubeconfig's cluster, or leave --azure-cluster-id out to find it", clusterID, c.Name, api, host)}
}

// mismatchError is a cluster id that names another cluster than the
// kubeconfig's: the application refuses the load with it.
type mismatchError struct{ msg string }

func (e mismatchError) Error() string { return e.msg }

// ClusterMismatch marks the error for the application layer (which does
// not import this package).
func (mismatchError) ClusterMismatch() bool { return true }

// fatalOr is err as the error of a raw call: ctx's error when ctx is done,
// a sign-in error as it is, anything else in the context of what.
func fatalOr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var signIn *SignInError
	if errors.As(err, &signIn) {
		return signIn
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		if re.StatusCode == http.StatusUnauthorized {
			return &armError{msg: fmt.Sprintf("%s: Azure Resource Manager refused the token (%s): sign in to the tenant the cluster is in (az login --tenant TENANT_ID) and retry", what, describe(re)), err: re}
		}
		return &armError{msg: fmt.Sprintf("%s: %s", what, describe(re)), err: re}
	}
	return fmt.Errorf("%s: %w", what, err)
}
