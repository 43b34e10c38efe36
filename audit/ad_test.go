package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/rbac"
	"github.com/kubectl-access/kubectl-access/source"
)

var adExpectations = []expectation{
	{"ad-keytab-readable", `user:microsoft:activedirectory:CONTOSO\bob`, `user:microsoft:activedirectory:CONTOSO\carol`},
	{"ad-keytab-readable", "group:S-1-5-21-3623811015-3361044348-30300820-1105", `user:microsoft:activedirectory:CONTOSO\carol`},
	{"ad-webhook-certificate-expiry", "Secret kube-system/ad-auth-webhook-certs", "Secret kube-system/ad-auth-keytab"},
}

// TestADRules audits the AD webhook fixtures offline (the keytab known by
// its secret's name), then with the certificates a live load reads, at
// three dates; without the webhook the same bindings yield nothing.
func TestADRules(t *testing.T) {
	snap, _, err := source.Files([]string{"testdata/adauth.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := audit.Run(rbac.NewIndex(snap), audit.Options{Only: []string{"ad-keytab-readable", "ad-webhook-certificate-expiry"}})
	expect(t, "offline", rep, adExpectations[:2])
	for _, f := range rep.Findings {
		if f.Rule == "ad-keytab-readable" && (f.Severity != audit.Critical || len(f.Evidence) == 0 || !strings.Contains(f.Message, "forge Kerberos tickets")) {
			t.Errorf("a keytab reader: %s %s, evidence %v", f.Severity, f.Message, f.Evidence)
		}
	}
	if c := checkOf(rep, "ad-webhook-certificate-expiry"); c == nil || c.Status != audit.CheckUnknown {
		t.Errorf("offline, the certificate is unknown: %+v", c)
	}

	certs := rbac.ObjectRef{APIVersion: "v1", Kind: "Secret", Name: "ad-auth-webhook-certs", Namespace: "kube-system"}
	keytab := rbac.ObjectRef{APIVersion: "v1", Kind: "Secret", Name: "ad-auth-keytab", Namespace: "kube-system"}
	notAfter := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	snap.ADAuth = &rbac.ADAuth{Pods: []rbac.ObjectRef{{APIVersion: "v1", Kind: "Pod", Name: "ad-auth-webhook-7d9f", Namespace: "kube-system"}},
		Keytabs: []rbac.ObjectRef{keytab}, Certificates: []rbac.ADCertificate{{Secret: certs, Key: "tls.crt", Subject: "CN=ad-auth-webhook", NotAfter: notAfter}}}
	for _, tc := range []struct {
		now    time.Time
		sev    audit.Severity
		status audit.CheckStatus
		text   string
	}{
		{notAfter.AddDate(0, 0, 1), audit.High, audit.CheckFailed, "expired on 2027-03-01"},
		{notAfter.AddDate(0, 0, -10), audit.Medium, audit.CheckFailed, "expires on 2027-03-01, in 10 days"},
		{notAfter.AddDate(0, -6, 0), 0, audit.CheckPassed, ""},
	} {
		r := audit.Run(rbac.NewIndex(snap), audit.Options{Now: tc.now})
		var got []audit.Finding
		for _, f := range r.Findings {
			if f.Rule == "ad-webhook-certificate-expiry" {
				got = append(got, f)
			}
		}
		if tc.text == "" && len(got) > 0 || tc.text != "" && (len(got) != 1 || got[0].Severity != tc.sev || !strings.Contains(got[0].Message, tc.text)) {
			t.Errorf("at %s: %v", tc.now.Format(time.DateOnly), got)
		}
		if tc.text != "" {
			expect(t, "live", r, adExpectations)
		}
		if c := checkOf(r, "ad-webhook-certificate-expiry"); c == nil || c.Status != tc.status {
			t.Errorf("at %s: check %+v", tc.now.Format(time.DateOnly), c)
		}
	}

	// Without the webhook, the same AD bindings are not about a keytab.
	snap.ADAuth, snap.Pods = nil, nil
	rep = audit.Run(rbac.NewIndex(snap), audit.Options{})
	for _, f := range rep.Findings {
		if f.Category == audit.CategoryActiveDirectory {
			t.Errorf("no AD webhook, yet: %s", f.Message)
		}
	}
	if c := checkOf(rep, "ad-webhook-certificate-expiry"); c != nil {
		t.Errorf("no AD webhook, yet a check: %+v", c)
	}
}
