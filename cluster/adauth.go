package cluster

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// liveADAuth finds AKS hybrid's AD authentication webhook among the pods
// already loaded and reads the secrets its pods mount, to tell the
// keytab (a .keytab data key) from the certificates (whose dates it
// keeps). Nothing of a secret's data is kept: a keytab is recognised by
// its key, never parsed, and a secret named for a keytab is not read at
// all. A secret that cannot be read leaves the certificates unknown (a
// note in ADAuth, not a gap: the RBAC answers are whole).
// https://learn.microsoft.com/azure/aks/hybrid/ad-sso ("Test the AD
// webhook and keytab file", "Troubleshoot certificates").
func liveADAuth(ctx context.Context, core corev1client.CoreV1Interface, s *rbac.Snapshot) error {
	pods, secrets := rbac.ADWebhook(s.Pods)
	if len(pods) == 0 {
		return nil
	}
	ad := &rbac.ADAuth{Pods: pods}
	var unread []string
	for _, ref := range secrets {
		if rbac.KeytabName(ref.Name) {
			ad.Keytabs = append(ad.Keytabs, ref)
			continue
		}
		sec, err := core.Secrets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			continue
		case apierrors.IsForbidden(err):
			unread = append(unread, fmt.Sprintf("secret %s/%s: %s", ref.Namespace, ref.Name, reason("secrets", err)))
			continue
		case err != nil:
			return fmt.Errorf("get secret %s/%s: %w", ref.Namespace, ref.Name, err)
		}
		keytab := false
		for key, data := range sec.Data {
			switch {
			case strings.HasSuffix(key, ".keytab"):
				keytab = true
			case key == "tls.crt" || strings.HasSuffix(key, ".crt") || strings.HasSuffix(key, ".pem"):
				if b, _ := pem.Decode(data); b != nil && b.Type == "CERTIFICATE" {
					if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
						ad.Certificates = append(ad.Certificates, rbac.ADCertificate{Secret: ref, Key: key, Subject: cert.Subject.String(), NotAfter: cert.NotAfter.UTC()})
					}
				}
			}
		}
		if keytab {
			ad.Keytabs = append(ad.Keytabs, ref)
		}
	}
	ad.Unread = strings.Join(unread, "; ")
	s.ADAuth = ad
	return nil
}
