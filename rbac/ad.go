package rbac

import (
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// AKS hybrid's Active Directory single sign-on: the ad-auth-webhook
// authenticates Kerberos tickets (kubectl-adsso) and names users and
// groups microsoft:activedirectory:DOMAIN\name, which `kubectl-adsso
// nametosid` turns into security identifiers before a binding is applied
// (https://learn.microsoft.com/azure/aks/hybrid/ad-sso, "Create and update
// the AD group role binding"). Neither form is an Entra identity: guard
// has no opinion on them and Entra groups never hold them.

// ADPrefix starts an AD user or group name in RBAC subjects.
const ADPrefix = "microsoft:activedirectory:"

// IsSID says whether s is a Windows security identifier in its string
// form, strictly: S-1-AUTHORITY-SUB... with 1 to 15 decimal
// subauthorities (each below 2^32, the authority below 2^48, no leading
// zeros); a domain identity S-1-5-21-a-b-c-RID has exactly the domain's
// three subauthorities and a RID; well-known forms such as S-1-1-0 and
// S-1-5-32-544 are SIDs too
// (https://learn.microsoft.com/windows-server/identity/ad-ds/manage/understand-security-identifiers).
func IsSID(s string) bool {
	if len(s) < len("S-1-0-0") || (s[0] != 'S' && s[0] != 's') || s[1:4] != "-1-" {
		return false
	}
	parts := strings.Split(s[4:], "-")
	if len(parts) < 2 || len(parts) > 16 {
		return false
	}
	for i, p := range parts {
		max := uint64(1)<<32 - 1
		if i == 0 {
			max = uint64(1)<<48 - 1
		}
		if p == "" || len(p) > 1 && p[0] == '0' {
			return false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return false
			}
		}
		if v, err := strconv.ParseUint(p, 10, 64); err != nil || v > max {
			return false
		}
	}
	if parts[0] == "5" && parts[1] == "21" {
		return len(parts) == 6 // S-1-5-21-a-b-c-RID
	}
	return true
}

// ADAccount splits microsoft:activedirectory:DOMAIN\name into its domain
// and account; ok is false for anything else (a SID included).
func ADAccount(name string) (domain, account string, ok bool) {
	rest, found := cutPrefixFold(name, ADPrefix)
	if !found {
		return "", "", false
	}
	domain, account, found = strings.Cut(rest, `\`)
	if !found || domain == "" || account == "" || strings.Contains(account, `\`) {
		return "", "", false
	}
	return domain, account, true
}

// IsAD says whether a user or group name is an Active Directory identity
// of AKS hybrid: microsoft:activedirectory:DOMAIN\name, or a SID, bare or
// after the prefix.
func IsAD(name string) bool {
	if _, _, ok := ADAccount(name); ok {
		return true
	}
	if rest, ok := cutPrefixFold(name, ADPrefix); ok {
		return IsSID(rest)
	}
	return IsSID(name)
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// ADWebhookPrefix starts the names of the AD authentication webhook's
// pods (ad-auth-webhook-xxxx in kube-system, as the ad-sso guide's "Test
// the AD webhook and keytab file" step checks) and, offline, of the
// workload whose template they come from.
const ADWebhookPrefix = "ad-auth-webhook"

// ADAuth is AKS hybrid's AD authentication webhook as a live load found
// it: the secrets its pods mount, classified without keeping any of their
// data. The ad-sso guide says only that the API server account's keytab
// "is stored as a Kubernetes secret" in kube-system and that the webhook
// and the API server authenticate each other with certificates that
// expire in 500 days; it names neither secret, so they are found through
// the webhook's pods.
type ADAuth struct {
	// Pods are the webhook's pods.
	Pods []ObjectRef `json:"pods"`
	// Keytabs are the secrets that hold a keytab: a data key ending in
	// .keytab (current.keytab, previous.keytab), or "keytab" in the name
	// of one that could not be read.
	Keytabs []ObjectRef `json:"keytabSecrets,omitempty"`
	// Certificates are the certificates the webhook's secrets hold
	// (tls.crt or any *.crt or *.pem key), with their validity.
	Certificates []ADCertificate `json:"certificates,omitempty"`
	// Unread says why some of the webhook's secrets could not be read
	// (their certificates are then unknown).
	Unread string `json:"unread,omitempty"`
}

// ADCertificate is one certificate of the AD webhook: where it is and
// until when it is valid.
type ADCertificate struct {
	Secret   ObjectRef `json:"secret"`
	Key      string    `json:"key"`
	Subject  string    `json:"subject"`
	NotAfter time.Time `json:"notAfter"`
}

// ADWebhook finds the AD authentication webhook among pods (names
// starting ad-auth-webhook, any namespace though the guide shows
// kube-system) and the secrets they mount, each once, in order.
func ADWebhook(pods []corev1.Pod) (webhook, secrets []ObjectRef) {
	seen := map[ObjectRef]bool{}
	for i := range pods {
		p := &pods[i]
		if !strings.HasPrefix(p.Name, ADWebhookPrefix) {
			continue
		}
		webhook = append(webhook, ObjectRef{APIVersion: "v1", Kind: "Pod", Name: p.Name, Namespace: p.Namespace})
		for _, n := range MountedSecrets(p) {
			r := ObjectRef{APIVersion: "v1", Kind: "Secret", Name: n, Namespace: p.Namespace}
			if n != "" && !seen[r] {
				seen[r] = true
				secrets = append(secrets, r)
			}
		}
	}
	return webhook, secrets
}

// KeytabName says whether a secret's name says it holds a keytab (what
// is known of a secret whose data could not be read, or offline).
func KeytabName(name string) bool { return strings.Contains(strings.ToLower(name), "keytab") }

// MountedSecrets are the names of the Secrets a pod mounts as volumes,
// directly or projected, in volume order (a name may repeat).
func MountedSecrets(p *corev1.Pod) []string {
	var names []string
	for _, v := range p.Spec.Volumes {
		if v.Secret != nil {
			names = append(names, v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.Secret != nil {
					names = append(names, s.Secret.Name)
				}
			}
		}
	}
	return names
}
