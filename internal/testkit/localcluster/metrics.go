package localcluster

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// startMetricsServer runs metrics-server on a loopback port and registers
// it as AKS does: an APIService for v1beta1.metrics.k8s.io pointing at a
// Service in kube-system (here of type ExternalName, localhost, which the
// aggregator resolves without kube-proxy). It returns once the APIService
// is Available, so discovery serves metrics.k8s.io's pods and nodes.
func (c *Cluster) startMetricsServer(ctx context.Context, o Options, pki *pkiFiles, port int) error {
	if err := c.run(o, "metrics-server",
		"--secure-port="+strconv.Itoa(port), "--bind-address=127.0.0.1",
		"--tls-cert-file="+pki.metricsCert, "--tls-private-key-file="+pki.metricsKey,
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig, "--authorization-kubeconfig="+c.Kubeconfig,
		"--requestheader-client-ca-file="+pki.frontProxyCA,
		"--kubelet-insecure-tls", "--metric-resolution=60s",
		"--cert-dir="+filepath.Join(o.Dir, "pki"),
		"--v=1",
	); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	// A kept data directory (make bench) holds the last start's Service
	// and APIService, with another port and CA: replace them.
	if err := cs.CoreV1().Services("kube-system").Delete(ctx, "metrics-server", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("metrics-server's old Service: %w", err)
	}
	if _, err := cs.CoreV1().Services("kube-system").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-server", Labels: map[string]string{"k8s-app": "metrics-server"}},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost",
			Ports: []corev1.ServicePort{{Name: "https", Port: int32(port), TargetPort: intstr.FromInt32(int32(port))}}},
	}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("metrics-server's Service: %w", err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	apiservices := dyn.Resource(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"})
	svc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1beta1.metrics.k8s.io", "labels": map[string]any{"k8s-app": "metrics-server"}},
		"spec": map[string]any{
			"service":              map[string]any{"namespace": "kube-system", "name": "metrics-server", "port": int64(port)},
			"group":                "metrics.k8s.io",
			"version":              "v1beta1",
			"caBundle":             base64.StdEncoding.EncodeToString(pki.caPEM),
			"groupPriorityMinimum": int64(100),
			"versionPriority":      int64(100),
		},
	}}
	if err := apiservices.Delete(ctx, "v1beta1.metrics.k8s.io", metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("metrics-server's old APIService: %w", err)
	}
	if _, err := apiservices.Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("metrics-server's APIService: %w", err)
	}
	var last string
	for {
		if err := c.exited(); err != nil {
			return err
		}
		s, err := apiservices.Get(ctx, "v1beta1.metrics.k8s.io", metav1.GetOptions{})
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(s.Object, "status", "conditions")
			for _, x := range conds {
				cond, _ := x.(map[string]any)
				if cond["type"] == "Available" {
					if cond["status"] == "True" {
						return nil
					}
					last = fmt.Sprint(cond["reason"], ": ", cond["message"])
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("metrics.k8s.io not available (%s; log: %s)", last, filepath.Join(o.Dir, "logs", "metrics-server.log"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
