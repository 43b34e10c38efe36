package localcluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func authorizationFlag(o Options) string {
	if o.AuthorizationConfig != "" {
		return "--authorization-config=" + o.AuthorizationConfig
	}
	return "--authorization-mode=" + o.AuthorizationMode
}

// WriteWebhookAuthorization writes, in dir, an AuthorizationConfiguration
// whose chain is Node, RBAC, then a webhook authorizer at url (served with
// a certificate caPEM signs), as AKS chains Azure RBAC's guard after RBAC;
// it returns the path for Options.AuthorizationConfig. The webhook's
// decisions are not cached, so a test sees each one, and a failing
// webhook has no opinion.
func WriteWebhookAuthorization(dir, url string, caPEM []byte) (string, error) {
	// The API server takes only an absolute path to the kubeconfig.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["webhook"] = &clientcmdapi.Cluster{Server: url, CertificateAuthorityData: caPEM}
	kc.AuthInfos["apiserver"] = &clientcmdapi.AuthInfo{}
	kc.Contexts["webhook"] = &clientcmdapi.Context{Cluster: "webhook", AuthInfo: "apiserver"}
	kc.CurrentContext = "webhook"
	kcPath := filepath.Join(dir, "authz-webhook.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kcPath); err != nil {
		return "", err
	}
	no := false
	cfg := map[string]any{
		"apiVersion": "apiserver.config.k8s.io/v1",
		"kind":       "AuthorizationConfiguration",
		"authorizers": []any{
			map[string]any{"type": "Node", "name": "node"},
			map[string]any{"type": "RBAC", "name": "rbac"},
			map[string]any{"type": "Webhook", "name": "test-webhook", "webhook": map[string]any{
				"timeout":                    "5s",
				"subjectAccessReviewVersion": "v1",
				"matchConditionSubjectAccessReviewVersion": "v1",
				"failurePolicy":             "NoOpinion",
				"authorizedTTL":             "0s",
				"unauthorizedTTL":           "0s",
				"cacheAuthorizedRequests":   &no,
				"cacheUnauthorizedRequests": &no,
				"connectionInfo":            map[string]any{"type": "KubeConfigFile", "kubeConfigFile": kcPath},
			}},
		},
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "authorization-config.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("write the authorization config: %w", err)
	}
	return path, nil
}
