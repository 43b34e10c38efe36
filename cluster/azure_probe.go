package cluster

import (
	"context"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// Azure RBAC for Kubernetes authorization is AKS's guard webhook, asked
// after RBAC. Its reasons (kubeguard/guard, authz/providers/azure): no
// opinion on system: users and on users without extra.oid, a denial of an
// Entra user that no Azure role assignment allows.
const (
	GuardNoOpinionSystem = "Azure does not have opinion for this user."
	GuardNoOpinionNonAAD = "Azure does not have opinion for this non AAD user."
	GuardDenied          = "User does not have access to the resource in Azure. Update role assignment to allow access."
)

// The probe's request: a resource no RBAC rule names, so RBAC has no
// opinion and the chain's next authorizer answers.
var azureProbeRequest = authorizationv1.ResourceAttributes{
	Verb: "get", Group: "probe.kubectl-access.io", Resource: "kubectl-access-probes", Namespace: "default", Name: probeName,
}

// azureProbeOID is the object id the Entra-shaped probe user carries: the
// nil UUID, which no Entra principal has.
const azureProbeOID = "00000000-0000-0000-0000-000000000000"

// ProbeAzureRBAC asks the authorizer chain, with two SubjectAccessReviews
// that change nothing, whether guard is in it: a system: user (guard says
// it has no opinion on it), then an Entra-shaped user with extra.oid
// (guard denies it: no Azure role assignment names the nil object id).
// Either of guard's reasons means Azure RBAC decides after RBAC.
func ProbeAzureRBAC(ctx context.Context, cs kubernetes.Interface) *rbac.Probe {
	var reasons []string
	for _, spec := range []authorizationv1.SubjectAccessReviewSpec{
		{User: "system:kubectl-access:azure-probe", Groups: []string{"system:authenticated"}},
		{User: "kubectl-access-probe@probe.invalid", Groups: []string{"system:authenticated"},
			Extra: map[string]authorizationv1.ExtraValue{"oid": {azureProbeOID}}},
	} {
		at := azureProbeRequest
		spec.ResourceAttributes = &at
		res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: spec}, metav1.CreateOptions{})
		switch {
		case apierrors.IsForbidden(err):
			return &rbac.Probe{State: rbac.ProbeUnknown, Detail: "whether Azure RBAC decides after RBAC is unknown: the probe needs create on subjectaccessreviews.authorization.k8s.io"}
		case err != nil:
			return &rbac.Probe{State: rbac.ProbeUnknown, Detail: "whether Azure RBAC decides after RBAC is unknown: SubjectAccessReview failed: " + err.Error()}
		}
		reason := strings.TrimSpace(res.Status.Reason + " " + res.Status.EvaluationError)
		for _, g := range []string{GuardNoOpinionSystem, GuardNoOpinionNonAAD, GuardDenied, "Azure RBAC", "in Azure"} {
			if strings.Contains(reason, g) {
				return &rbac.Probe{State: rbac.ProbeActive, Detail: fmt.Sprintf("the authorizer chain answered %s with Azure RBAC's reason: %q", spec.User, reason)}
			}
		}
		if reason != "" {
			reasons = append(reasons, fmt.Sprintf("%s: %q", spec.User, reason))
		}
	}
	detail := "no authorizer in the chain answered with Azure RBAC's reasons"
	if len(reasons) > 0 {
		detail += " (" + strings.Join(reasons, "; ") + ")"
	}
	return &rbac.Probe{State: rbac.ProbeInactive, Detail: detail}
}

// SelfProbeAzureRBAC asks, as the caller, whether guard is in the chain:
// a SelfSubjectAccessReview (which everyone may ask) of the probe's
// request, which RBAC denies, carries the caller's extra.oid to guard. It
// finds guard only for a caller with an Entra object id and no RBAC
// grant of the request; otherwise it says it cannot tell.
func SelfProbeAzureRBAC(ctx context.Context, cs kubernetes.Interface) *rbac.Probe {
	at := azureProbeRequest
	res, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &at}}, metav1.CreateOptions{})
	if err != nil {
		return &rbac.Probe{State: rbac.ProbeUnknown, Detail: "SelfSubjectAccessReview failed: " + err.Error()}
	}
	reason := strings.TrimSpace(res.Status.Reason + " " + res.Status.EvaluationError)
	for _, g := range []string{GuardNoOpinionSystem, GuardNoOpinionNonAAD, GuardDenied, "Azure RBAC", "in Azure"} {
		if strings.Contains(reason, g) {
			return &rbac.Probe{State: rbac.ProbeActive, Detail: fmt.Sprintf("the authorizer chain answered your own review with Azure RBAC's reason: %q", reason)}
		}
	}
	return &rbac.Probe{State: rbac.ProbeUnknown, Detail: "your own review did not reach Azure RBAC's webhook (RBAC decided it, or there is none)"}
}

// WhoAmIAzure is what Azure RBAC means for the caller: the probe's answer
// (a SubjectAccessReview, else the caller's own review) and a sentence.
func WhoAmIAzure(ctx context.Context, cs kubernetes.Interface, username, oid string) (*rbac.Probe, string) {
	p := ProbeAzureRBAC(ctx, cs)
	if p.State == rbac.ProbeUnknown {
		if self := SelfProbeAzureRBAC(ctx, cs); self.State == rbac.ProbeActive {
			p = self
		}
	}
	switch {
	case p.State != rbac.ProbeActive:
		return p, ""
	case strings.HasPrefix(strings.ToLower(username), "system:"):
		return p, "Azure RBAC decides after RBAC on this cluster, but has no opinion on system: users: RBAC alone decides for you"
	case oid == "":
		return p, "Azure RBAC decides after RBAC on this cluster, but your requests carry no Entra object id (extra.oid): RBAC alone decides for you"
	}
	return p, "Azure RBAC decides after RBAC for your requests (object id " + oid + "): what RBAC denies, an Azure role assignment to you or your groups may allow"
}
