package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

// TestADHybrid puts AKS hybrid's AD sign-in on the real API server: an
// ad-auth-webhook pod in kube-system mounting a keytab Secret and a
// certificate Secret, and a RoleBinding that lets an AD group (by SID)
// and an AD user (microsoft:activedirectory:CONTOSO\bob) read the keytab.
// who-can names them as AD identities (the group with its name from a
// name,sid file), can agrees with the cluster's SubjectAccessReview, and
// the audit reports both readers and the certificate that ends soon.
func TestADHybrid(t *testing.T) {
	c := clustertest.Get(t)
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	suffix := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
	const (
		ns  = "kube-system"
		sid = "S-1-5-21-3623811015-3361044348-30300820-1105"
		bob = `microsoft:activedirectory:CONTOSO\bob`
	)
	keytab, certs, webhook := "ad-keytab-"+suffix, "ad-webhook-tls-"+suffix, "ad-auth-webhook-"+suffix
	notAfter := time.Now().Add(10 * 24 * time.Hour).UTC()
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: keytab},
		Data: map[string][]byte{"current.keytab": []byte("not a real keytab")}}, metav1.CreateOptions{}))
	must(cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: certs},
		Data: map[string][]byte{"tls.crt": selfSigned(t, "ad-auth-webhook", notAfter), "tls.key": []byte("dropped unread")}}, metav1.CreateOptions{}))
	no := false
	must(cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: webhook},
		Spec: corev1.PodSpec{AutomountServiceAccountToken: &no, Containers: []corev1.Container{{Name: "webhook", Image: "registry.k8s.io/pause:3.10"}},
			Volumes: []corev1.Volume{
				{Name: "keytab", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: keytab}}},
				{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: certs}}}}}}, metav1.CreateOptions{}))
	must(cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: keytab},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: []string{keytab}}}}, metav1.CreateOptions{}))
	must(cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: keytab},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: keytab},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName, Name: sid}, {Kind: "User", APIGroup: rbacv1.GroupName, Name: bob}}}, metav1.CreateOptions{}))
	t.Cleanup(func() {
		bg, zero := t.Context(), int64(0)
		_ = cs.CoreV1().Pods(ns).Delete(bg, webhook, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		_ = cs.CoreV1().Secrets(ns).Delete(bg, keytab, metav1.DeleteOptions{})
		_ = cs.CoreV1().Secrets(ns).Delete(bg, certs, metav1.DeleteOptions{})
		_ = cs.RbacV1().RoleBindings(ns).Delete(bg, keytab, metav1.DeleteOptions{})
		_ = cs.RbacV1().Roles(ns).Delete(bg, keytab, metav1.DeleteOptions{})
	})
	names := filepath.Join(t.TempDir(), "ad-names.csv")
	if err := os.WriteFile(names, []byte("Name,SID\n\"CONTOSO\\Keytab Readers\","+sid+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc := "--kubeconfig=" + c.Kubeconfig

	out, errOut, code := run(t, "who-can", "get", "secrets", keytab, "-n", ns, kc, "--group-names", names)
	for _, want := range []string{"user:" + bob, "group:" + sid + ` (CONTOSO\Keytab Readers)`, "RB kube-system/" + keytab} {
		if code != ExitOK || !strings.Contains(out, want) {
			t.Errorf("who-can lacks %q (code %d):\n%s\n%s", want, code, out, errOut)
		}
	}
	if strings.Contains(out+errOut, "Entra") {
		t.Errorf("AD identities are taken for Entra's:\n%s\n%s", out, errOut)
	}

	// A group written by its AD name is its SID.
	out, errOut, code = run(t, "can", "group:Keytab Readers", "get", "secrets", keytab, "-n", ns, kc, "--group-names", names)
	if code != ExitOK || !strings.Contains(out, "yes") {
		t.Errorf("can group:\"Keytab Readers\": code %d\n%s\n%s", code, out, errOut)
	}

	// The user as written on the command line, by name and not: the
	// cluster's authorizer agrees with both answers.
	out, errOut, code = run(t, "can", "user:"+bob, "get", "secrets", keytab, "-n", ns, kc, "--verify")
	if code != ExitOK || !strings.Contains(out, "yes: user:"+bob) || !strings.Contains(out, "Verified") {
		t.Errorf("can (named): code %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = run(t, "can", "user:"+bob, "get", "secrets", "-n", ns, kc, "--verify")
	if code != ExitDenied || !strings.Contains(out, "Verified") || strings.Contains(out+errOut, "Entra groups") {
		t.Errorf("can (any name): code %d\n%s\n%s", code, out, errOut)
	}

	js, errOut, code := run(t, "audit", kc, "--only", "ad-keytab-readable,ad-webhook-certificate-expiry", "-o", "json")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("audit: code %d %v\n%s", code, err, errOut)
	}
	found := map[string]audit.Severity{}
	for _, f := range rep.Findings {
		for _, s := range f.Subjects {
			found[f.Rule+" "+s.String()] = f.Severity
		}
		for _, o := range f.Objects {
			if o.Name == certs {
				found[f.Rule+" "+o.Name] = f.Severity
			}
		}
	}
	for key, sev := range map[string]audit.Severity{
		"ad-keytab-readable user:" + bob:         audit.Critical,
		"ad-keytab-readable group:" + sid:        audit.Critical,
		"ad-webhook-certificate-expiry " + certs: audit.Medium,
	} {
		if got, ok := found[key]; !ok || got != sev {
			t.Errorf("audit: %s is %v (reported %v), want %s; findings %v", key, got, ok, sev, found)
		}
	}
}

// selfSigned is a PEM certificate for cn, valid until notAfter.
func selfSigned(t *testing.T, cn string, notAfter time.Time) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: notAfter.Add(-500 * 24 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
