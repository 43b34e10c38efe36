package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Client is a live cluster for the application layer.
type Client struct {
	// Config is the caller's config, speaking protobuf.
	Config *rest.Config
	CS     kubernetes.Interface

	applier *Applier

	reviewOnce sync.Once
	reviews    kubernetes.Interface
	reviewErr  error
}

var _ access.Cluster = (*Client)(nil)

// New returns a client for cfg.
func New(cfg *rest.Config) (*Client, error) {
	cfg = ProtobufConfig(cfg)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ap, err := NewApplier(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{Config: cfg, CS: cs, applier: ap}, nil
}

// Load lists what scope needs and, when it asks, runs the node probes
// alongside the LISTs.
func (c *Client) Load(ctx context.Context, scope loading.Scope) (*rbac.Snapshot, error) {
	probes := make(chan *rbac.Probes, 1)
	if scope.Probes {
		go func() { probes <- ProbeNodes(ctx, c.Config) }()
	} else {
		probes <- nil
	}
	// Whether Azure RBAC decides after RBAC changes every answer about an
	// Entra identity: asked on every load, alongside the LISTs.
	azure := make(chan *rbac.Probe, 1)
	go func() { azure <- ProbeAzureRBAC(ctx, c.CS) }()
	snap, err := Live(ctx, c.CS, scope)
	p, az := <-probes, <-azure
	if err != nil {
		return nil, Explain(err)
	}
	snap.Probes, snap.AzureRBAC = p, az
	return snap, nil
}

// Exists GETs one namespace or service account.
func (c *Client) Exists(ctx context.Context, ref rbac.ObjectRef) (bool, error) {
	var err error
	switch ref.Kind {
	case "Namespace":
		_, err = c.CS.CoreV1().Namespaces().Get(ctx, ref.Name, metav1.GetOptions{})
	case "ServiceAccount":
		_, err = c.CS.CoreV1().ServiceAccounts(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	default:
		return false, fmt.Errorf("cannot check %s objects", ref.Kind)
	}
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	}
	return false, Explain(err)
}

// Do runs one fix operation, or its server-side dry run.
func (c *Client) Do(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error) {
	before, after, err = c.applier.Do(ctx, op, dryRun)
	if err != nil && !errors.Is(err, fix.ErrChanged) {
		err = Explain(err)
	}
	return before, after, err
}

// Version is the server's version, "" when it does not say.
func (c *Client) Version() string {
	v, err := c.CS.Discovery().ServerVersion()
	if err != nil {
		return ""
	}
	return v.GitVersion
}

// Explain says what a user can do about a failure: a refused sign-in
// wraps access.ErrSignIn, a forbidden call names the permission.
func Explain(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, access.ErrSignIn):
		return err
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w: %v\n(sign in again, e.g. `kubelogin convert-kubeconfig` / `az login`, or refresh the token)", access.ErrSignIn, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w\n(ask your administrator for the permission named above; deploy/reader.yaml is what the tool needs to read)", err)
	}
	return err
}
