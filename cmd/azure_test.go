package cmd

import (
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster"
	"github.com/kubectl-access/kubectl-access/internal/testkit/localcluster/clustertest"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// guardOID is the Entra object id the guard-like webhook's one Azure role
// assignment names: get secrets in namespace "azure".
const guardOID = "3a9c4f10-5b2e-4d8a-9c1f-7e6d5c4b3a21"

// guardWebhook answers SubjectAccessReviews as AKS's guard does (its
// verdicts and reason strings, kubeguard/guard authz/providers/azure),
// written apart from the engine: no opinion on system: users and on users
// without extra.oid, allowed for its one assignment, denied otherwise.
func guardWebhook(t *testing.T) *httptest.Server {
	return sarWebhook(t, func(s authorizationv1.SubjectAccessReviewSpec) authorizationv1.SubjectAccessReviewStatus {
		ra, oid := s.ResourceAttributes, s.Extra["oid"]
		switch {
		case strings.HasPrefix(s.User, "system:"):
			return authorizationv1.SubjectAccessReviewStatus{Reason: "Azure does not have opinion for this user."}
		case len(oid) == 0:
			return authorizationv1.SubjectAccessReviewStatus{Reason: "Azure does not have opinion for this non AAD user. If you are an AAD user, please set Extra:oid parameter for impersonated user in the kubeconfig"}
		case oid[0] == guardOID && ra != nil && ra.Namespace == "azure" && ra.Resource == "secrets" && ra.Verb == "get":
			return authorizationv1.SubjectAccessReviewStatus{Allowed: true,
				Reason: "Access allowed by Azure RBAC Role Assignment 11111111-2222-3333-4444-555555555555 of Role 7f6c6a51-bcf8-42ba-9220-52d62157d7db to user " + s.User}
		}
		return authorizationv1.SubjectAccessReviewStatus{Denied: true, Reason: "User does not have access to the resource in Azure. Update role assignment to allow access."}
	})
}

// TestAzureRBACDetected: on a cluster whose chain ends in a guard-like
// webhook, the load's probe finds Azure RBAC; who-can and answers about
// Entra identities are incomplete with the reason (can: unknown, exit 2,
// where RBAC alone denies), answers about service accounts and
// certificate users stay complete and say so, the audit's gate fails as
// incomplete, and a snapshot keeps the answer. A cluster without guard
// answers as before.
func TestAzureRBACDetected(t *testing.T) {
	clustertest.Require(t)
	ctx := t.Context()
	hook := guardWebhook(t)
	defer hook.Close()
	dir := t.TempDir()
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hook.Certificate().Raw})
	authz, err := localcluster.WriteWebhookAuthorization(dir, hook.URL, caPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := clustertest.Start(t, localcluster.Options{AuthorizationConfig: authz, NoControllerManager: true, NoMetricsServer: true})
	admin := kubernetes.NewForConfigOrDie(c.Config)
	if p := cluster.ProbeAzureRBAC(ctx, admin); p.State != rbac.ProbeActive || !strings.Contains(p.Detail, "Azure does not have opinion") {
		t.Fatalf("the probe did not find guard: %+v", p)
	}
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "azure"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().Roles("azure").Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pods"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings("azure").Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-pods"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pods"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice@contoso.com"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kc := "--kubeconfig=" + c.Kubeconfig

	out, errOut, code := run(t, "can", "user:alice@contoso.com", "get", "secrets", "-n", "azure", kc)
	if code != ExitError || !strings.Contains(out, "unknown:") || !strings.Contains(errOut, "Azure RBAC for Kubernetes authorization decides after RBAC") {
		t.Errorf("can an Entra user: code %d, want %d\n%s\n%s", code, ExitError, out, errOut)
	}
	if _, _, exit := run(t, "can", "user:alice@contoso.com", "list", "pods", "-n", "azure", kc); exit != ExitOK {
		t.Errorf("can: RBAC's yes is a yes: code %d", exit)
	}
	if _, _, exit := run(t, "can", "user:"+guardOID, "get", "secrets", "-n", "azure", kc); exit != ExitError {
		t.Errorf("can a service principal: code %d, want %d", exit, ExitError)
	}
	for _, who := range []string{"sa:azure:default", "user:bob", "group:developers"} {
		stdout, stderr, exit := run(t, "can", who, "get", "secrets", "-n", "azure", kc)
		if exit != ExitDenied || !strings.Contains(stdout, "no:") || !strings.Contains(stderr, "this answer is complete") {
			t.Errorf("can %s: code %d, want %d\n%s\n%s", who, exit, ExitDenied, stdout, stderr)
		}
	}

	js, errOut, code := run(t, "who-can", "get", "secrets", "-n", "azure", kc, "-o", "json")
	var who access.WhoCanAnswer
	if err := json.Unmarshal([]byte(js), &who); err != nil || code != ExitOK || !who.Incomplete ||
		!strings.Contains(who.Warnings[len(who.Warnings)-1].Message, "Azure role assignments are not read") {
		t.Errorf("who-can: code %d %v %+v\n%s", code, err, who.WhoCanResult, errOut)
	}
	js, _, _ = run(t, "what-can", "user:alice@contoso.com", "-n", "azure", kc, "-o", "json")
	if !strings.Contains(js, `"incomplete": true`) {
		t.Errorf("what-can an Entra user is not incomplete:\n%s", js)
	}

	_, errOut, code = run(t, "audit", kc, "--fail-on", "critical", "--only", "anonymous-access")
	if code != ExitIncomplete || !strings.Contains(errOut, "Azure role assignments are not read") {
		t.Errorf("audit --fail-on: code %d, want %d\n%s", code, ExitIncomplete, errOut)
	}
	js, _, _ = run(t, "audit", kc, "-o", "json", "--only", "anonymous-access")
	var rep audit.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil || !rep.Incomplete {
		t.Errorf("audit -o json: %v incomplete %v", err, rep.Incomplete)
	}

	// --azure-rbac without an Azure sign-in (no Azure CLI here): the
	// answer is given, incomplete, with why; never a denial.
	out, errOut, code = run(t, "can", "user:alice@contoso.com", "get", "secrets", "-n", "azure", kc, "--azure-rbac")
	if code != ExitError || !strings.Contains(errOut, "Azure role assignments could not be read") || !strings.Contains(errOut, "sign in to Azure") {
		t.Errorf("can --azure-rbac without a sign-in: code %d, want %d\n%s\n%s", code, ExitError, out, errOut)
	}

	// whoami: the admin's requests carry no object id, so RBAC alone
	// decides for it, and it says so.
	js, errOut, code = run(t, "whoami", kc, "-o", "json")
	var me struct {
		ObjectID     string      `json:"objectId"`
		AzureRBAC    *rbac.Probe `json:"azureRBAC"`
		AzureDecides string      `json:"azureDecides"`
	}
	if err := json.Unmarshal([]byte(js), &me); err != nil || code != ExitOK || me.AzureRBAC == nil || me.AzureRBAC.State != rbac.ProbeActive ||
		me.ObjectID != "" || !strings.Contains(me.AzureDecides, "carry no Entra object id") {
		t.Errorf("whoami: code %d %v %+v\n%s", code, err, me, errOut)
	}

	// The snapshot keeps the probe's answer, so offline answers alike.
	snap, _, code := run(t, "snapshot", kc, "-o", "json")
	var s rbac.Snapshot
	if err := json.Unmarshal([]byte(snap), &s); err != nil || code != ExitOK || s.AzureRBAC == nil || s.AzureRBAC.State != rbac.ProbeActive {
		t.Fatalf("snapshot: code %d %v %+v", code, err, s.AzureRBAC)
	}
	file := filepath.Join(dir, "snapshot.json")
	if err := os.WriteFile(file, []byte(snap), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, exit := run(t, "can", "user:alice@contoso.com", "get", "secrets", "-n", "azure", "-f", file); exit != ExitError {
		t.Errorf("can an Entra user on the snapshot: code %d, want %d", exit, ExitError)
	}

	// Without guard: RBAC alone decides, and says nothing of Azure.
	plain := clustertest.Get(t)
	if p := cluster.ProbeAzureRBAC(ctx, kubernetes.NewForConfigOrDie(plain.Config)); p.State != rbac.ProbeInactive {
		t.Errorf("the probe found guard where there is none: %+v", p)
	}
	out, errOut, code = run(t, "can", "user:alice@contoso.com", "delete", "secrets", "-n", "default", "--kubeconfig="+plain.Kubeconfig)
	if code != ExitDenied || strings.Contains(errOut, "Azure") {
		t.Errorf("can without guard: code %d\n%s\n%s", code, out, errOut)
	}
}

// TestAzureProgress: the progress line rewrites itself in place (carriage
// return, erase line), counts the lists read, and leaves the line clear at
// the end so the answer starts on a clean line.
func TestAzureProgress(t *testing.T) {
	var b strings.Builder
	p := azureProgress(&b)
	for i := 1; i <= 4; i++ {
		p(i, 4)
	}
	want := "\r\x1b[KAzure RBAC: reading role and deny assignments, 1 of 4 lists" +
		"\r\x1b[KAzure RBAC: reading role and deny assignments, 2 of 4 lists" +
		"\r\x1b[KAzure RBAC: reading role and deny assignments, 3 of 4 lists" +
		"\r\x1b[K"
	if b.String() != want {
		t.Errorf("progress:\n got %q\nwant %q", b.String(), want)
	}
}

// TestServicePrincipalPrinted: a service principal that an Azure role
// assignment names is printed serviceprincipal:OID by every command and
// format (never user:OID, as Kubernetes would name it), and that form is
// read back as the same identity.
func TestServicePrincipalPrinted(t *testing.T) {
	const sp = "c0000000-0000-4000-8000-000000000003"
	files := []string{"-f", "../testdata/azure/rbac.yaml", "-f", "../testdata/azure/assignments-rest.json", "-f", "../testdata/azure/roles-az.json",
		"--azure-cluster-id", "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod"}
	for _, args := range [][]string{
		{"who-can", "get", "pods", "-n", "web"},
		{"who-can", "get", "pods", "-n", "web", "-o", "csv"},
		{"who-can", "get", "pods", "-n", "web", "-o", "wide"},
		{"audit"},
		{"audit", "-o", "csv"},
		{"audit", "-o", "markdown"},
		{"audit", "-o", "json"},
		{"audit", "-o", "sarif"},
		{"can", "serviceprincipal:" + sp, "get", "pods", "-n", "web"},
		{"can", "sp:" + sp, "get", "pods", "-n", "web", "-o", "json"},
		{"what-can", "serviceprincipal:" + sp, "-n", "web", "-o", "json"},
	} {
		out, errOut, code := run(t, append(args, files...)...)
		if code != ExitOK {
			t.Errorf("%q: code %d\n%s", args, code, errOut)
			continue
		}
		if strings.Contains(out, "user:"+sp) || strings.Contains(out, "ServicePrincipal/"+sp) {
			t.Errorf("%q prints the service principal as a user:\n%s", args, out)
		}
		if !strings.Contains(out, "serviceprincipal:"+sp) && !strings.Contains(out, `"principalType": "ServicePrincipal"`) {
			t.Errorf("%q does not say %s is a service principal:\n%s", args, sp, out)
		}
	}
	// The same identity as the user its object id names.
	if _, _, code := run(t, append([]string{"can", "user:" + sp, "get", "pods", "-n", "web"}, files...)...); code != ExitOK {
		t.Errorf("can user:%s: code %d, want %d (the same identity)", sp, code, ExitOK)
	}
}
