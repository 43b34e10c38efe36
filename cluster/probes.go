package cluster

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The node probes answer what a managed cluster's API server flags would:
// is the Node authorizer in the authorization chain, and does the
// NodeRestriction admission plugin run? Both ask the server itself, and
// neither changes anything: a SubjectAccessReview only asks, and the patch
// is a server-side dry run.

// probeName names the object the authorizer probe asks about; it need not
// exist.
const probeName = "kubectl-access-probe"

// ProbeLabel is the label the NodeRestriction probe tries to set: the
// node-restriction.kubernetes.io/ prefix is one NodeRestriction forbids
// nodes to set, on themselves too.
const ProbeLabel = "node-restriction.kubernetes.io/kubectl-access-probe"

var nodeGroups = []string{"system:nodes", "system:authenticated"}

// ProbeNodes runs both probes with the caller's credentials in cfg.
func ProbeNodes(ctx context.Context, cfg *rest.Config) *rbac.Probes {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		u := rbac.Probe{State: rbac.ProbeUnknown, Detail: err.Error()}
		return &rbac.Probes{NodeAuthorizer: u, NodeRestriction: u}
	}
	return &rbac.Probes{NodeAuthorizer: probeNodeAuthorizer(ctx, cs), NodeRestriction: probeNodeRestriction(ctx, cs, cfg)}
}

// nodeAuthorizerReasons are the Node authorizer's own reasons for having
// no opinion on the probes' requests (plugin/pkg/auth/authorizer/node):
// the union of authorizers passes them on when the request is denied, so
// their presence shows the Node authorizer is in the chain.
var nodeAuthorizerReasons = []string{"no relationship found between node", "cannot read subresource", "can only read resources of this type"}

// probeNodeAuthorizer asks, as a node that has no pods, for secrets in ways
// the Node authorizer answers with no opinion and a reason of its own: get
// a secret no pod uses, get a subresource of one, delete one. The first
// request the chain denies decides: with the Node authorizer's reason it
// is in force, without it it is not in the chain. A request that is
// allowed was allowed by another authorizer (its reason says which: RBAC's
// binding of nodes is the node-group-binding finding), which says nothing
// about the Node authorizer, so the next request is asked; if the chain
// allows them all, whether the Node authorizer is there cannot be seen.
func probeNodeAuthorizer(ctx context.Context, cs kubernetes.Interface) rbac.Probe {
	requests := []authorizationv1.ResourceAttributes{
		{Verb: "get", Resource: "secrets", Namespace: "kube-system", Name: probeName},
		{Verb: "get", Resource: "secrets", Subresource: "probe", Namespace: "kube-system", Name: probeName},
		{Verb: "delete", Resource: "secrets", Namespace: "kube-system", Name: probeName},
	}
	var allowedBy []string
	for i := range requests {
		r := &requests[i]
		what := r.Verb + " secrets"
		if r.Subresource != "" {
			what += "/" + r.Subresource
		}
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: "system:node:" + probeName, Groups: nodeGroups, ResourceAttributes: r}}
		res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		switch {
		case apierrors.IsForbidden(err):
			return rbac.Probe{State: rbac.ProbeUnknown, Detail: "needs create on subjectaccessreviews.authorization.k8s.io"}
		case err != nil:
			return rbac.Probe{State: rbac.ProbeUnknown, Detail: "SubjectAccessReview failed: " + err.Error()}
		case res.Status.Allowed:
			allowedBy = append(allowedBy, fmt.Sprintf("%s (%s)", what, cmp.Or(strings.TrimSpace(res.Status.Reason), "no reason given")))
			continue
		}
		also := ""
		if len(allowedBy) > 0 {
			also = "; another authorizer allows nodes " + strings.Join(allowedBy, ", ") + ", whoever's pods use them (see node-group-binding)"
		}
		if slices.ContainsFunc(nodeAuthorizerReasons, func(m string) bool { return strings.Contains(res.Status.Reason, m) }) {
			return rbac.Probe{State: rbac.ProbeActive, Detail: fmt.Sprintf("the Node authorizer gave its reason for a node's %s: %s%s", what, res.Status.Reason, also)}
		}
		return rbac.Probe{State: rbac.ProbeInactive, Detail: fmt.Sprintf(
			"a node's request to %s was denied without the Node authorizer's reason (%q): the Node authorizer is not in the chain%s", what, res.Status.Reason, also)}
	}
	return rbac.Probe{State: rbac.ProbeUnknown, Detail: "another authorizer allows a node every probe request (" + strings.Join(allowedBy, "; ") +
		"), so whether the Node authorizer is in the chain cannot be seen; while that grant stands it would not limit nodes to their pods' objects (see node-group-binding)"}
}

// probeNodeRestriction impersonates an existing node and, in a server-side
// dry run, tries to set a label on that node that NodeRestriction forbids.
func probeNodeRestriction(ctx context.Context, cs kubernetes.Interface, cfg *rest.Config) rbac.Probe {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	switch {
	case apierrors.IsForbidden(err):
		return rbac.Probe{State: rbac.ProbeUnknown, Detail: "needs list on nodes"}
	case err != nil:
		return rbac.Probe{State: rbac.ProbeUnknown, Detail: "listing nodes failed: " + err.Error()}
	case len(nodes.Items) == 0:
		return rbac.Probe{State: rbac.ProbeUnknown, Detail: "the cluster has no Node objects to probe with"}
	}
	node := nodes.Items[0].Name
	imp := rest.CopyConfig(cfg)
	imp.Impersonate = rest.ImpersonationConfig{UserName: "system:node:" + node, Groups: nodeGroups}
	ics, err := kubernetes.NewForConfig(imp)
	if err != nil {
		return rbac.Probe{State: rbac.ProbeUnknown, Detail: err.Error()}
	}
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:"dry-run"}}}`, ProbeLabel)
	_, err = ics.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, patch, metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}})
	if err == nil {
		return rbac.Probe{State: rbac.ProbeInactive, Detail: fmt.Sprintf("node %s was allowed (in a dry run) to set the restricted label %s on itself", node, ProbeLabel)}
	}
	msg := err.Error()
	switch {
	case apierrors.IsForbidden(err) && strings.Contains(msg, "cannot impersonate"):
		return rbac.Probe{State: rbac.ProbeUnknown, Detail: "needs impersonate on users and groups (to act as a node in a dry run)"}
	case apierrors.IsForbidden(err) && strings.Contains(msg, "is not allowed to"):
		return rbac.Probe{State: rbac.ProbeActive, Detail: "NodeRestriction refused a node's dry-run patch of a restricted label: " + msg}
	case apierrors.IsForbidden(err):
		return rbac.Probe{State: rbac.ProbeUnknown, Detail: "node " + node + " may not patch Node objects at all, so admission was not reached: " + msg}
	}
	return rbac.Probe{State: rbac.ProbeUnknown, Detail: "the dry-run patch failed: " + msg}
}

// Review asks the server's authorizer chain whether sub may make the
// request: a SubjectAccessReview with the subject's user and groups as
// the API server would see them and, for a user named by an Entra object
// id, extra.oid (without it Azure RBAC's guard has no opinion).
func (c *Client) Review(ctx context.Context, sub rbac.Subject, at rbac.Attributes) (access.Decision, error) {
	id := sub.Identity()
	spec := authorizationv1.SubjectAccessReviewSpec{User: id.Name, Groups: id.Groups}
	if oid := access.ObjectID(sub); oid != "" {
		spec.Extra = map[string]authorizationv1.ExtraValue{"oid": {oid}}
	}
	if at.IsResourceRequest() {
		spec.ResourceAttributes = &authorizationv1.ResourceAttributes{Namespace: at.Namespace, Verb: at.Verb,
			Group: at.APIGroup, Resource: at.Resource, Subresource: at.Subresource, Name: at.Name}
	} else {
		spec.NonResourceAttributes = &authorizationv1.NonResourceAttributes{Path: at.Path, Verb: at.Verb}
	}
	cs, err := c.reviewClient()
	if err != nil {
		return access.Decision{}, err
	}
	res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
	switch {
	case apierrors.IsForbidden(err):
		return access.Decision{}, fmt.Errorf("%w: %s", access.ErrReviewForbidden, err)
	case err != nil:
		return access.Decision{}, fmt.Errorf("SubjectAccessReview: %w", Explain(err))
	}
	return access.Decision{Allowed: res.Status.Allowed, Denied: res.Status.Denied,
		Reason: strings.TrimSpace(res.Status.Reason), EvaluationError: res.Status.EvaluationError}, nil
}

// reviewClient is the client for SubjectAccessReviews: without
// client-go's rate limiter (50 requests a second would make a
// verification of 800 subjects take 16 s); the caller bounds how many are
// in flight, and the server's priority and fairness protects it.
func (c *Client) reviewClient() (kubernetes.Interface, error) {
	c.reviewOnce.Do(func() {
		cfg := rest.CopyConfig(c.Config)
		cfg.QPS, cfg.Burst, cfg.RateLimiter = -1, 0, nil
		c.reviews, c.reviewErr = kubernetes.NewForConfig(cfg)
	})
	return c.reviews, c.reviewErr
}
