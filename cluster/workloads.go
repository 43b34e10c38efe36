package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// liveWorkloads loads the workload side into s, turning forbidden LISTs
// into gaps. A cluster without the gMSA CRD is a cluster without gMSA.
func liveWorkloads(ctx context.Context, cs kubernetes.Interface, s *rbac.Snapshot, gap func(string, string, error) error) []func() error {
	core, adm := cs.CoreV1(), cs.AdmissionregistrationV1()
	var mu sync.Mutex
	tasks := []func() error{
		func() error {
			err := fetch(ctx, gap, "pods", "", &s.Pods, func(o metav1.ListOptions) ([]corev1.Pod, string, error) {
				l, err := core.Pods("").List(ctx, o)
				if err != nil {
					return nil, "", err
				}
				out := make([]corev1.Pod, len(l.Items))
				for i := range l.Items {
					out[i] = loading.SlimPod(&l.Items[i])
				}
				return out, l.Continue, nil
			})()
			if err != nil {
				return err
			}
			return liveADAuth(ctx, core, s) // the AD webhook is found among the pods
		},
		fetch(ctx, gap, "nodes", "", &s.Nodes, func(o metav1.ListOptions) ([]corev1.Node, string, error) {
			l, err := core.Nodes().List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			out := make([]corev1.Node, len(l.Items))
			for i := range l.Items {
				out[i] = loading.SlimNode(&l.Items[i])
			}
			return out, l.Continue, nil
		}),
		hooks(ctx, gap, core, s, &mu, "mutatingwebhookconfigurations", &s.MutatingWebhooks,
			func(o metav1.ListOptions) ([]admissionregistrationv1.MutatingWebhookConfiguration, string, error) {
				l, err := adm.MutatingWebhookConfigurations().List(ctx, o)
				if err != nil {
					return nil, "", err
				}
				return l.Items, l.Continue, nil
			},
			func(c *admissionregistrationv1.MutatingWebhookConfiguration) (out []*admissionregistrationv1.WebhookClientConfig) {
				for i := range c.Webhooks {
					out = append(out, &c.Webhooks[i].ClientConfig)
				}
				return out
			}),
		hooks(ctx, gap, core, s, &mu, "validatingwebhookconfigurations", &s.ValidatingWebhooks,
			func(o metav1.ListOptions) ([]admissionregistrationv1.ValidatingWebhookConfiguration, string, error) {
				l, err := adm.ValidatingWebhookConfigurations().List(ctx, o)
				if err != nil {
					return nil, "", err
				}
				return l.Items, l.Continue, nil
			},
			func(c *admissionregistrationv1.ValidatingWebhookConfiguration) (out []*admissionregistrationv1.WebhookClientConfig) {
				for i := range c.Webhooks {
					out = append(out, &c.Webhooks[i].ClientConfig)
				}
				return out
			}),
		func() error { return liveGMSA(ctx, cs, s, gap) },
		func() error {
			// Whether pods reach the instance metadata service: a refused
			// LIST is a gap, and the policies are then not known to be none.
			refused := false
			g := func(resource, ns string, err error) error { refused = true; return gap(resource, ns, err) }
			err := fetch(ctx, g, "networkpolicies", "", &s.NetworkPolicies, func(o metav1.ListOptions) ([]networkingv1.NetworkPolicy, string, error) {
				l, err := cs.NetworkingV1().NetworkPolicies("").List(ctx, o)
				if err != nil {
					return nil, "", err
				}
				return l.Items, l.Continue, nil
			})()
			s.NetworkPoliciesListed = err == nil && !refused
			return err
		},
	}
	return tasks
}

// hooks lists one kind of webhook configuration (their CA bundles
// dropped: nothing reads them) and GETs the services its webhooks call.
func hooks[T any, PT interface {
	*T
	metav1.Object
}](ctx context.Context, gap func(string, string, error) error, core corev1client.CoreV1Interface, s *rbac.Snapshot, mu *sync.Mutex,
	resource string, dst *[]T, list func(metav1.ListOptions) ([]T, string, error), clients func(*T) []*admissionregistrationv1.WebhookClientConfig) func() error {
	return func() error {
		err := fetch[T, PT](ctx, gap, resource, "", dst, func(o metav1.ListOptions) ([]T, string, error) {
			items, cont, err := list(o)
			for i := range items {
				for _, c := range clients(&items[i]) {
					c.CABundle = nil
				}
			}
			return items, cont, err
		})()
		if err != nil {
			return err
		}
		var refs []*admissionregistrationv1.ServiceReference
		for i := range *dst {
			for _, c := range clients(&(*dst)[i]) {
				refs = append(refs, c.Service)
			}
		}
		return webhookServices(ctx, core, s, mu, gap, refs)
	}
}

// webhookServices GETs the services webhooks call (not every service in
// the cluster), adding the ones that exist to s.
func webhookServices(ctx context.Context, core corev1client.CoreV1Interface, s *rbac.Snapshot, mu *sync.Mutex, gap func(string, string, error) error, refs []*admissionregistrationv1.ServiceReference) error {
	seen := map[string]bool{}
	for _, r := range refs {
		if r == nil || seen[r.Namespace+"/"+r.Name] {
			continue
		}
		seen[r.Namespace+"/"+r.Name] = true
		svc, err := core.Services(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			if err := gap("services", r.Namespace, err); err != nil {
				return err
			}
			continue
		}
		mu.Lock()
		s.Services = append(s.Services, corev1.Service{TypeMeta: svc.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace}})
		mu.Unlock()
	}
	return nil
}

// liveGMSA lists the credential specs through the discovery REST client
// (the CRD has no typed client): v1, else the deprecated v1alpha1. Both
// absent means the CRD is not installed: gMSA is not in use.
func liveGMSA(ctx context.Context, cs kubernetes.Interface, s *rbac.Snapshot, gap func(string, string, error) error) error {
	rc := cs.Discovery().RESTClient()
	if rc == nil {
		return nil // a fake clientset in unit tests
	}
	for _, v := range []string{"v1", "v1alpha1"} {
		var all []rbac.GMSACredentialSpec
		cont := ""
		for {
			req := rc.Get().AbsPath("/apis", rbac.GMSAGroup, v, "gmsacredentialspecs").Param("limit", fmt.Sprint(PageSize))
			if cont != "" {
				req = req.Param("continue", cont)
			}
			raw, err := req.Do(ctx).Raw()
			if apierrors.IsNotFound(err) && cont == "" {
				break
			}
			if err != nil {
				return gap("gmsacredentialspecs."+rbac.GMSAGroup, "", err)
			}
			var l struct {
				Metadata metav1.ListMeta           `json:"metadata"`
				Items    []rbac.GMSACredentialSpec `json:"items"`
			}
			if err := json.Unmarshal(raw, &l); err != nil {
				return fmt.Errorf("list gmsacredentialspecs: %w", err)
			}
			for i := range l.Items {
				slim(&l.Items[i].ObjectMeta)
				l.Items[i].APIVersion, l.Items[i].Kind = rbac.GMSAGroup+"/"+v, "GMSACredentialSpec"
			}
			all = append(all, l.Items...)
			if cont = l.Metadata.Continue; cont == "" {
				s.GMSAInstalled, s.GMSACredentialSpecs = true, all
				return nil
			}
		}
	}
	return nil
}
