package audit

import (
	"fmt"
	"slices"
	"time"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// The Active Directory family: AKS hybrid's AD single sign-on, whose
// ad-auth-webhook in kube-system authenticates Kerberos tickets with the
// API server account's keytab, kept in a Secret, and talks to the API
// server over mutual TLS with certificates that expire after 500 days
// (https://learn.microsoft.com/azure/aks/hybrid/ad-sso). A cluster
// without the webhook's pods is not using AD sign-in: no finding, no
// check.

// CategoryActiveDirectory is the AD family's category.
const CategoryActiveDirectory Category = "active-directory"

// certificateWarning is how long before a certificate's end the audit
// warns.
const certificateWarning = 30 * 24 * time.Hour

func init() {
	register(
		Rule{Name: "ad-keytab-readable", Category: CategoryActiveDirectory, Severity: Critical,
			Title: "The AD webhook's keytab Secret is readable through RBAC",
			Why: "The keytab holds the long-term keys of the API server's AD account: whoever reads it can act as that account in Active Directory " +
				"and forge Kerberos service tickets to the API server for any AD user, the cluster's admin group included. " +
				"The webhook's pods get it from the kubelet; no one needs RBAC to read it.",
			Fix:   "Removes the subject from the binding that grants get, list or watch on the secret.",
			check: checkADKeytab},
		Rule{Name: "ad-webhook-certificate-expiry", Category: CategoryActiveDirectory, Severity: High,
			Title: "The AD webhook's certificate has expired or expires within 30 days",
			Why: "The webhook and the API server authenticate each other with certificates that expire after 500 days: once expired, every AD sign-in fails " +
				"and only the certificate-based admin kubeconfig still works.",
			Fix:   "None as a manifest: reinstall AD authentication (Uninstall-AksHciAdAuth, then Install-AksHciAdAuth) for new certificates.",
			check: checkADCertificates},
	)
}

// adAuth is the AD webhook as the snapshot knows it: as the live load
// read it, or (files) from its pods alone, a secret's keytab known only
// by its name. Nil without the webhook.
func (c *checker) adAuth() *rbac.ADAuth {
	if c.snap.ADAuth != nil {
		return c.snap.ADAuth
	}
	pods, secrets := rbac.ADWebhook(c.snap.Pods)
	if len(pods) == 0 {
		return nil
	}
	ad := &rbac.ADAuth{Pods: pods}
	for _, s := range secrets {
		if rbac.KeytabName(s.Name) {
			ad.Keytabs = append(ad.Keytabs, s)
		}
	}
	return ad
}

func checkADKeytab(c *checker) {
	ad := c.adAuth()
	if ad == nil {
		return
	}
	for _, k := range ad.Keytabs {
		for _, r := range c.secretReaders(k.Namespace, k.Name) {
			c.add(Finding{Severity: Critical, Subjects: []rbac.Subject{r.subject}, Evidence: r.evidence,
				Objects: []rbac.ObjectRef{k, ad.Pods[0]},
				Message: fmt.Sprintf("%s can read secret %s/%s, the keytab of the API server's AD account that %s uses: it can forge Kerberos tickets to the API server for any AD user",
					r.subject, k.Namespace, k.Name, ad.Pods[0])})
		}
	}
}

func checkADCertificates(c *checker) {
	ad := c.adAuth()
	if ad == nil {
		return
	}
	now := c.opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if len(ad.Certificates) == 0 {
		detail := "the webhook's certificates were not found in the secrets its pods mount"
		switch {
		case ad.Unread != "":
			detail = "the webhook's secrets could not be read: " + ad.Unread
		case c.snap.ADAuth == nil:
			detail = "not read: the certificates' dates are read from a live cluster"
		}
		c.checks = append(c.checks, Check{Rule: c.rule.Name, Status: CheckUnknown, Detail: detail})
		return
	}
	certs := slices.Clone(ad.Certificates)
	slices.SortFunc(certs, func(a, b rbac.ADCertificate) int { return a.NotAfter.Compare(b.NotAfter) })
	failed := false
	for _, cert := range certs {
		where := fmt.Sprintf("the certificate %s in secret %s/%s (%s)", cert.Key, cert.Secret.Namespace, cert.Secret.Name, cert.Subject)
		f := Finding{Objects: []rbac.ObjectRef{cert.Secret, ad.Pods[0]}}
		switch left := cert.NotAfter.Sub(now); {
		case left <= 0:
			f.Severity = High
			f.Message = fmt.Sprintf("%s expired on %s: AD sign-in to the API server fails", where, cert.NotAfter.Format(time.DateOnly))
		case left <= certificateWarning:
			f.Severity = Medium
			f.Message = fmt.Sprintf("%s expires on %s, in %d days: AD sign-in to the API server then fails", where, cert.NotAfter.Format(time.DateOnly), int(left.Hours()/24))
		default:
			continue
		}
		failed = true
		c.add(f)
	}
	status, detail := CheckPassed, fmt.Sprintf("the webhook's certificates are valid until %s or later", certs[0].NotAfter.Format(time.DateOnly))
	if failed {
		status, detail = CheckFailed, fmt.Sprintf("a certificate of the webhook ends on %s", certs[0].NotAfter.Format(time.DateOnly))
	}
	if ad.Unread != "" && !failed {
		status, detail = CheckUnknown, detail+"; some of its secrets could not be read: "+ad.Unread
	}
	c.checks = append(c.checks, Check{Rule: c.rule.Name, Status: status, Detail: detail})
}

// secretReader is one subject that can read a secret, and how.
type secretReader struct {
	subject  rbac.Subject
	evidence []rbac.Path
}

// secretReaders are the subjects that can get the secret (by name) or
// list or watch the secrets of its namespace (which cannot be limited to
// a name), beyond those who hold every right anyway (the
// cluster-admin-equivalent rule reports them), the nodes (the Node
// authorizer's business) and system:masters; sorted by subject.
func (c *checker) secretReaders(namespace, name string) []secretReader {
	admins := map[string]bool{}
	for _, h := range c.hits(probeRuleNamed("cluster-admin-equivalent")) {
		admins[h.subject.Key()] = true
	}
	byKey := map[string]*secretReader{}
	var keys []string
	for _, verb := range []string{"get", "list", "watch"} {
		a := rbac.Attributes{Verb: verb, Resource: "secrets", Name: name, Namespace: namespace}
		if verb != "get" {
			a.Name = ""
		}
		for _, sg := range c.ix.WhoCan(a, false).Subjects {
			s := sg.Subject()
			key := s.Key()
			if admins[key] || isNodeIdentity(s) || (s.Kind == rbac.GroupKind && s.Name == rbac.GroupMasters) {
				continue
			}
			r, ok := byKey[key]
			if !ok {
				r = &secretReader{subject: s}
				byKey[key] = r
				keys = append(keys, key)
			}
			r.evidence = append(r.evidence, sg.Via...)
		}
	}
	slices.Sort(keys)
	out := make([]secretReader, len(keys))
	for i, k := range keys {
		out[i] = *byKey[k]
	}
	return out
}
