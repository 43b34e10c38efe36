package azurearm

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// LoginModes are the --login modes Credential knows, the first the default.
var LoginModes = []string{"azurecli", "spn", "msi", "workloadidentity", "devicecode"}

// Credential returns the Azure credential of a --login mode, named as
// kubelogin names them so that one flag means the same for both:
//   - "azurecli" (and ""): the Azure CLI's signed-in account (az login);
//   - "spn": a service principal from AZURE_CLIENT_ID, AZURE_TENANT_ID and
//     AZURE_CLIENT_SECRET (or a certificate, as azidentity's
//     EnvironmentCredential reads it), or from kubelogin's
//     AAD_SERVICE_PRINCIPAL_CLIENT_ID and AAD_SERVICE_PRINCIPAL_CLIENT_SECRET
//     with AZURE_TENANT_ID;
//   - "msi": the managed identity of the machine, user-assigned when
//     AZURE_CLIENT_ID names it;
//   - "workloadidentity": a Kubernetes workload identity
//     (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE);
//   - "devicecode": a sign-in on another device, the code written to
//     prompt.
//
// clientOptions (cloud, transport) apply to the modes that call Entra ID.
func Credential(mode string, prompt io.Writer, clientOptions azcore.ClientOptions) (azcore.TokenCredential, error) {
	if mode == "" {
		mode = LoginModes[0]
	}
	switch mode {
	case "azurecli":
		c, err := azidentity.NewAzureCLICredential(nil)
		return wrapped(c, err, mode)
	case "spn":
		return spnCredential(clientOptions)
	case "msi":
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: clientOptions}
		if id := os.Getenv("AZURE_CLIENT_ID"); id != "" {
			o.ID = azidentity.ClientID(id)
		}
		c, err := azidentity.NewManagedIdentityCredential(o)
		return wrapped(c, err, mode)
	case "workloadidentity":
		c, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{ClientOptions: clientOptions})
		if err != nil {
			return nil, fmt.Errorf("--login workloadidentity needs AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE, as the workload identity webhook sets them: %w", err)
		}
		return c, nil
	case "devicecode":
		if prompt == nil {
			prompt = io.Discard
		}
		c, err := azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions: clientOptions,
			TenantID:      os.Getenv("AZURE_TENANT_ID"),
			UserPrompt: func(_ context.Context, m azidentity.DeviceCodeMessage) error {
				_, err := fmt.Fprintln(prompt, m.Message)
				return err
			},
		})
		return wrapped(c, err, mode)
	}
	return nil, fmt.Errorf("unknown --login mode %q: use one of %v", mode, LoginModes)
}

// spnCredential prefers kubelogin's variables, which name this client for
// this purpose, over azidentity's general ones.
func spnCredential(clientOptions azcore.ClientOptions) (azcore.TokenCredential, error) {
	const need = "--login spn needs AZURE_TENANT_ID with AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AAD_SERVICE_PRINCIPAL_CLIENT_ID and AAD_SERVICE_PRINCIPAL_CLIENT_SECRET)"
	tenant := os.Getenv("AZURE_TENANT_ID")
	if id, secret := os.Getenv("AAD_SERVICE_PRINCIPAL_CLIENT_ID"), os.Getenv("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"); id != "" && secret != "" {
		if tenant == "" {
			return nil, fmt.Errorf("%s: AZURE_TENANT_ID is not set", need)
		}
		c, err := azidentity.NewClientSecretCredential(tenant, id, secret, &azidentity.ClientSecretCredentialOptions{ClientOptions: clientOptions})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", need, err)
		}
		return c, nil
	}
	c, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: clientOptions})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", need, err)
	}
	return c, nil
}

func wrapped[C azcore.TokenCredential](c C, err error, mode string) (azcore.TokenCredential, error) {
	if err != nil {
		return nil, fmt.Errorf("--login %s: %w", mode, err)
	}
	return c, nil
}
