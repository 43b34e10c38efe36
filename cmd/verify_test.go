package cmd

import (
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/testkit/guardhook"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
)

// The test webhook's grants: what RBAC does not give, as an Azure RBAC
// assignment would.
const (
	webhookFriend = "webhook-friend"                       // may get secrets in "verify"
	webhookOID    = "0d2f7c1e-0000-4000-8000-0000000000f1" // may get configmaps in "verify", with extra.oid
	webhookReason = "allowed by the test webhook"
)

// testWebhook is an authorization webhook on loopback, chained after RBAC
// (as guard is on AKS): it allows what the constants say and has no
// opinion on anything else.
func testWebhook(t *testing.T, seen *atomic.Int64) *httptest.Server {
	return sarWebhook(t, func(s authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus {
		ra := s.ResourceAttributes
		if ra != nil && ra.Namespace == "verify" && ra.Verb == "get" {
			switch {
			case s.User == webhookFriend && ra.Resource == "secrets":
				seen.Add(1)
				return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: webhookReason + ": " + webhookFriend + " reads secrets"}
			case s.User == webhookOID && ra.Resource == "configmaps" && len(s.Extra["oid"]) == 1 && s.Extra["oid"][0] == webhookOID:
				seen.Add(1)
				return authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: webhookReason + " for oid " + webhookOID}
			}
		}
		return authorizationv1.SubjectAccessReviewStatus{}
	})
}

// sarWebhook is an authorization webhook on loopback TLS that answers each
// SubjectAccessReview with decide's status.
func sarWebhook(t *testing.T, decide func(authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(guardhook.Handler(decide))
	srv.StartTLS()
	return srv
}

// TestVerify: on a cluster whose authorizer chain has a webhook after
// RBAC, --verify reports what the webhook allows and RBAC does not as a
// disagreement with the server's reason (exit 5) on can, who-can and
// what-can's sampled subjects; agrees where RBAC decides; sends extra.oid
// for a user named by an object id; says so when the caller may not ask
// SubjectAccessReviews (exit 2, the answer still printed); and refuses
// files.
func TestVerify(t *testing.T) {
	clustertest.Require(t)
	ctx := t.Context()
	var seen atomic.Int64
	hook := testWebhook(t, &seen)
	defer hook.Close()
	dir := t.TempDir()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw})
	authz, err := localcluster.WriteWebhookAuthorization(dir, hook.URL, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	c, err := localcluster.Start(ctx, localcluster.Options{Dir: filepath.Join(dir, "cluster"), AuthorizationConfig: authz,
		NoControllerManager: true, NoMetricsServer: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	admin := kubernetes.NewForConfigOrDie(c.Config)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	user := func(n string) rbacv1.Subject {
		return rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: n}
	}
	for _, ns := range []string{"verify", "other"} {
		must(admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}))
	}
	must(admin.RbacV1().Roles("verify").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secrets"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"secrets", "configmaps"}}}}, metav1.CreateOptions{}))
	must(admin.RbacV1().RoleBindings("verify").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bob"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "secrets"}, Subjects: []rbacv1.Subject{user("bob")}}, metav1.CreateOptions{}))
	// The webhook's friends are bound elsewhere, so a who-can's sample of
	// the bound subjects it leaves out includes them.
	must(admin.RbacV1().Roles("other").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pods"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}, metav1.CreateOptions{}))
	must(admin.RbacV1().RoleBindings("other").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "friends"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pods"}, Subjects: []rbacv1.Subject{user(webhookFriend), user(webhookOID)}}, metav1.CreateOptions{}))
	kc := "--kubeconfig=" + c.Kubeconfig

	// can: RBAC's yes is confirmed; the webhook's yes is a disagreement.
	out, errOut, code := run(t, "can", "user:bob", "get", "secrets", "-n", "verify", "--verify", kc)
	if code != ExitOK || !strings.Contains(out, "yes:") || !strings.Contains(out, "Verified: the cluster's authorizer agreed on all 1 requests") {
		t.Errorf("can bob --verify: code %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = run(t, "can", "user:"+webhookFriend, "get", "secrets", "-n", "verify", "--verify", kc)
	if code != ExitDisagree || !strings.Contains(out, "no: user:"+webhookFriend) || !strings.Contains(out, "here denied, the server allowed: "+webhookReason) {
		t.Errorf("can %s --verify: code %d, want %d\n%s\n%s", webhookFriend, code, ExitDisagree, out, errOut)
	}
	// extra.oid: the webhook allows the object id only when it is sent.
	js, errOut, code := run(t, "can", "user:"+webhookOID, "get", "configmaps", "-n", "verify", "--verify", kc, "-o", "json")
	var can access.CanAnswer
	if err := json.Unmarshal([]byte(js), &can); err != nil || code != ExitDisagree || can.Verification == nil || len(can.Verification.Disagreements) != 1 ||
		!strings.Contains(can.Verification.Disagreements[0].Reason, "for oid "+webhookOID) || can.Allowed {
		t.Errorf("can %s --verify -o json: code %d %v\n%s\n%s", webhookOID, code, err, js, errOut)
	}

	// who-can: by default a sample of the bound subjects left out (the
	// cluster's own controllers make them more than 50), said so.
	js, errOut, _ = run(t, "who-can", "get", "secrets", "-n", "verify", "--verify", kc, "-o", "json")
	var sampled access.WhoCanAnswer
	if err := json.Unmarshal([]byte(js), &sampled); err != nil || sampled.Verification == nil ||
		!strings.Contains(sampled.Verification.Sampled, "checked 50 of the") || sampled.Verification.Checked != len(sampled.Subjects)+50 {
		t.Errorf("who-can --verify: %v %+v\n%s", err, sampled.Verification, errOut)
	}
	// --verify=all: every listed subject confirmed, the webhook's friend
	// found among the bound subjects the answer leaves out.
	js, errOut, code = run(t, "who-can", "get", "secrets", "-n", "verify", "--verify=all", kc, "-o", "json")
	var who access.WhoCanAnswer
	if err := json.Unmarshal([]byte(js), &who); err != nil || code != ExitDisagree || who.Verification == nil {
		t.Fatalf("who-can --verify -o json: code %d %v\n%s\n%s", code, err, js, errOut)
	}
	v := who.Verification
	if len(v.Disagreements) != 1 || v.Disagreements[0].Subject.Name != webhookFriend || v.Disagreements[0].Ours != "denied" || v.Disagreements[0].Server != "allowed" ||
		v.Disagreements[0].Request.Namespace != "verify" || !strings.HasPrefix(v.Disagreements[0].Reason, webhookReason) {
		t.Errorf("who-can disagreements: %+v", v.Disagreements)
	}
	if v.Checked != v.Agreed+len(v.Disagreements) || v.Checked <= sampled.Verification.Checked || v.Sampled != "" {
		t.Errorf("who-can verification counts: %+v for %d subjects", v, len(who.Subjects))
	}
	for _, s := range who.Subjects {
		if s.Verified != access.VerifiedAgreed {
			t.Errorf("listed subject %s/%s marked %q, want agreed", s.Kind, s.Name, s.Verified)
		}
	}
	out, _, code = run(t, "who-can", "get", "secrets", "-n", "verify", "--verify=all", kc)
	if code != ExitDisagree || !strings.Contains(out, "VERIFIED") || !strings.Contains(out, "NOT VERIFIED: the cluster's authorizer decided 1 of") ||
		!strings.Contains(out, "user:"+webhookFriend+" get secrets in namespace verify: here denied, the server allowed: "+webhookReason) {
		t.Errorf("who-can --verify table: code %d\n%s", code, out)
	}
	if seen.Load() == 0 {
		t.Error("the webhook never allowed anything: the test proves nothing")
	}

	// what-can: every rule expanded and confirmed.
	js, errOut, code = run(t, "what-can", "user:bob", "--verify=all", kc, "-o", "json")
	var what access.WhatCanAnswer
	if err := json.Unmarshal([]byte(js), &what); err != nil || code != ExitOK || what.Verification == nil {
		t.Fatalf("what-can --verify=all: code %d %v\n%s\n%s", code, err, js, errOut)
	}
	// bob's Role: 2 verbs x 2 resources, plus what every authenticated
	// user holds (system:basic-user and friends), all agreed.
	if what.Verification.Checked < 4 || what.Verification.Agreed != what.Verification.Checked || what.Verification.Sampled != "" {
		t.Errorf("what-can verification: %+v", what.Verification)
	}
	for _, r := range what.Rules {
		if r.Verified != access.VerifiedAgreed {
			t.Errorf("rule %v in %q marked %q", r.Verbs, r.Namespace, r.Verified)
		}
	}

	// A caller who may read RBAC but not ask SubjectAccessReviews: the
	// answer, then why it is not verified, exit 2.
	must(admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "rbac-reader"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"*"}},
			{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"namespaces"}}}}, metav1.CreateOptions{}))
	must(admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "rbac-reader"},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "rbac-reader"}, Subjects: []rbacv1.Subject{user("reader")}}, metav1.CreateOptions{}))
	out, errOut, code = run(t, "who-can", "get", "secrets", "-n", "verify", "--verify", kc, "--as=reader")
	if code != ExitError || !strings.Contains(out, "user:bob") || !strings.Contains(errOut, "not verified") ||
		!strings.Contains(errOut, "create on subjectaccessreviews") || !strings.Contains(errOut, "deploy/reader.yaml") {
		t.Errorf("--verify without SubjectAccessReview rights: code %d\n%s\n%s", code, out, errOut)
	}

	// Files cannot be verified; a bad mode is refused.
	for _, bad := range [][]string{
		{"can", "user:bob", "get", "pods", "-f", "testdata/team.yaml", "--verify"},
		{"who-can", "get", "pods", "--verify=most", kc},
	} {
		if _, errOut, code := run(t, bad...); code != ExitError || !strings.Contains(errOut, "--verify") {
			t.Errorf("%v: code %d, %q", bad, code, errOut)
		}
	}
}
