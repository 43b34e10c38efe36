package loading

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
