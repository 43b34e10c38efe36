package source

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// The workload side of a whole-cluster load: pods (slimmed), nodes,
// admission webhooks, the services they call, and gMSA credential specs.

// SlimPod keeps what the checks read of a pod: identity, placement, the
// Windows options of the pod and every container, and secret volumes.
// Images, env, probes and status beyond the phase are dropped, so tens of
// thousands of pods stay small.
func SlimPod(p *corev1.Pod) corev1.Pod {
	out := corev1.Pod{
		TypeMeta: p.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID,
			OwnerReferences: p.OwnerReferences, Annotations: keep(p.Annotations, rbac.TemplateAnnotation)},
		Spec: corev1.PodSpec{
			ServiceAccountName: p.Spec.ServiceAccountName,
			NodeName:           p.Spec.NodeName,
			NodeSelector:       p.Spec.NodeSelector,
			OS:                 p.Spec.OS,
		},
		Status: corev1.PodStatus{Phase: p.Status.Phase},
	}
	if p.Spec.Affinity != nil && p.Spec.Affinity.NodeAffinity != nil {
		out.Spec.Affinity = &corev1.Affinity{NodeAffinity: p.Spec.Affinity.NodeAffinity}
	}
	if sc := p.Spec.SecurityContext; sc != nil && sc.WindowsOptions != nil {
		out.Spec.SecurityContext = &corev1.PodSecurityContext{WindowsOptions: slimWindows(sc.WindowsOptions)}
	}
	for _, c := range p.Spec.Containers {
		out.Spec.Containers = append(out.Spec.Containers, slimContainer(c.Name, c.SecurityContext))
	}
	for _, c := range p.Spec.InitContainers {
		out.Spec.InitContainers = append(out.Spec.InitContainers, slimContainer(c.Name, c.SecurityContext))
	}
	for _, c := range p.Spec.EphemeralContainers {
		e := slimContainer(c.Name, c.SecurityContext)
		out.Spec.EphemeralContainers = append(out.Spec.EphemeralContainers, corev1.EphemeralContainer{
			EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: e.Name, SecurityContext: e.SecurityContext}})
	}
	for _, v := range p.Spec.Volumes {
		switch {
		case v.Secret != nil:
			out.Spec.Volumes = append(out.Spec.Volumes, corev1.Volume{Name: v.Name,
				VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: v.Secret.SecretName}}})
		case v.Projected != nil:
			var srcs []corev1.VolumeProjection
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					srcs = append(srcs, corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: s.Secret.LocalObjectReference}})
				}
			}
			if len(srcs) > 0 {
				out.Spec.Volumes = append(out.Spec.Volumes, corev1.Volume{Name: v.Name,
					VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: srcs}}})
			}
		}
	}
	return out
}

func keep(m map[string]string, keys ...string) map[string]string {
	var out map[string]string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

func slimWindows(w *corev1.WindowsSecurityContextOptions) *corev1.WindowsSecurityContextOptions {
	if w == nil || (w.GMSACredentialSpecName == nil && w.GMSACredentialSpec == nil) {
		return nil
	}
	out := &corev1.WindowsSecurityContextOptions{GMSACredentialSpecName: w.GMSACredentialSpecName}
	if w.GMSACredentialSpec != nil {
		inlined := "(inlined)" // the spec's content is not the checks' business
		out.GMSACredentialSpec = &inlined
	}
	return out
}

func slimContainer(name string, sc *corev1.SecurityContext) corev1.Container {
	c := corev1.Container{Name: name}
	if sc != nil {
		if w := slimWindows(sc.WindowsOptions); w != nil {
			c.SecurityContext = &corev1.SecurityContext{WindowsOptions: w}
		}
	}
	return c
}

// SlimNode keeps a node's name, labels and operating system.
func SlimNode(n *corev1.Node) corev1.Node {
	return corev1.Node{TypeMeta: n.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels},
		Status: corev1.NodeStatus{NodeInfo: corev1.NodeSystemInfo{OperatingSystem: n.Status.NodeInfo.OperatingSystem}}}
}

// PodFromTemplate makes the pod a workload would run, for offline input:
// named after the workload, owned by it, and marked as from a template.
func PodFromTemplate(apiVersion, kind string, meta metav1.ObjectMeta, t *corev1.PodTemplateSpec) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: meta.Name, Namespace: meta.Namespace,
		Annotations:     map[string]string{rbac.TemplateAnnotation: "true"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: meta.Name, Controller: ptr(true)}}},
		Spec: t.Spec}
	return SlimPod(&p)
}

func ptr[T any](v T) *T { return &v }

// liveWorkloads loads the workload side into s, turning forbidden LISTs
// into gaps. A cluster without the gMSA CRD is a cluster without gMSA.
func liveWorkloads(ctx context.Context, cs kubernetes.Interface, s *rbac.Snapshot, gap func(string, string, error) error) []func() error {
	core, adm := cs.CoreV1(), cs.AdmissionregistrationV1()
	var mu sync.Mutex
	tasks := []func() error{
		fetch(ctx, gap, "pods", "", &s.Pods, func(o metav1.ListOptions) ([]corev1.Pod, string, error) {
			l, err := core.Pods("").List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			out := make([]corev1.Pod, len(l.Items))
			for i := range l.Items {
				out[i] = SlimPod(&l.Items[i])
			}
			return out, l.Continue, nil
		}),
		fetch(ctx, gap, "nodes", "", &s.Nodes, func(o metav1.ListOptions) ([]corev1.Node, string, error) {
			l, err := core.Nodes().List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			out := make([]corev1.Node, len(l.Items))
			for i := range l.Items {
				out[i] = SlimNode(&l.Items[i])
			}
			return out, l.Continue, nil
		}),
		func() error {
			err := fetch(ctx, gap, "mutatingwebhookconfigurations", "", &s.MutatingWebhooks, func(o metav1.ListOptions) ([]admissionregistrationv1.MutatingWebhookConfiguration, string, error) {
				l, err := adm.MutatingWebhookConfigurations().List(ctx, o)
				if err != nil {
					return nil, "", err
				}
				for i := range l.Items {
					for j := range l.Items[i].Webhooks {
						l.Items[i].Webhooks[j].ClientConfig.CABundle = nil
					}
				}
				return l.Items, l.Continue, nil
			})()
			if err != nil {
				return err
			}
			return webhookServices(ctx, core, s, &mu, gap, mutatingServices(s.MutatingWebhooks))
		},
		func() error {
			err := fetch(ctx, gap, "validatingwebhookconfigurations", "", &s.ValidatingWebhooks, func(o metav1.ListOptions) ([]admissionregistrationv1.ValidatingWebhookConfiguration, string, error) {
				l, err := adm.ValidatingWebhookConfigurations().List(ctx, o)
				if err != nil {
					return nil, "", err
				}
				for i := range l.Items {
					for j := range l.Items[i].Webhooks {
						l.Items[i].Webhooks[j].ClientConfig.CABundle = nil
					}
				}
				return l.Items, l.Continue, nil
			})()
			if err != nil {
				return err
			}
			return webhookServices(ctx, core, s, &mu, gap, validatingServices(s.ValidatingWebhooks))
		},
		func() error { return liveGMSA(ctx, cs, s, gap) },
	}
	return tasks
}

func mutatingServices(cfgs []admissionregistrationv1.MutatingWebhookConfiguration) []*admissionregistrationv1.ServiceReference {
	var out []*admissionregistrationv1.ServiceReference
	for _, c := range cfgs {
		for _, w := range c.Webhooks {
			out = append(out, w.ClientConfig.Service)
		}
	}
	return out
}

func validatingServices(cfgs []admissionregistrationv1.ValidatingWebhookConfiguration) []*admissionregistrationv1.ServiceReference {
	var out []*admissionregistrationv1.ServiceReference
	for _, c := range cfgs {
		for _, w := range c.Webhooks {
			out = append(out, w.ClientConfig.Service)
		}
	}
	return out
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
