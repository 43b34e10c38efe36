package azurearm

import (
	"context"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
)

// The federated credential writes a fix makes (federated-credential-
// unclaimed: delete the credential; its restore: create it again), by
// resource id, through armmsi. As for role assignments, ARM has no dry run
// and no conditional delete: the caller reads the credential first and
// checks it against the fix's guard.

// credentialParts are the subscription, resource group, identity and
// credential names a user-assigned identity's federated credential id
// holds.
func credentialParts(id string) (sub, group, identity, name string, err error) {
	r, err := arm.ParseResourceID(id)
	if err != nil || r.Parent == nil || r.SubscriptionID == "" || r.ResourceGroupName == "" {
		return "", "", "", "", fmt.Errorf("%q is not a managed identity's federated credential id (/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ManagedIdentity/userAssignedIdentities/NAME/federatedIdentityCredentials/NAME)", id)
	}
	return r.SubscriptionID, r.ResourceGroupName, r.Parent.Name, r.Name, nil
}

func credentialsClient(sub string, o Options) (*armmsi.FederatedIdentityCredentialsClient, error) {
	return armmsi.NewFederatedIdentityCredentialsClient(sub, signInCredential{cred: o.Credential}, o.armOptions())
}

// FederatedCredential reads a federated credential as ARM's REST API
// writes it ({"id", "name", "type", "properties": {issuer, subject,
// audiences}}); nil when there is none.
func FederatedCredential(ctx context.Context, id string, o Options) (map[string]any, error) {
	sub, group, identity, name, err := credentialParts(id)
	if err != nil {
		return nil, err
	}
	c, err := credentialsClient(sub, o)
	if err != nil {
		return nil, err
	}
	res, err := c.Get(ctx, group, identity, name, nil)
	return readObject(res.FederatedIdentityCredential, err, func(err error) error {
		return credentialWriteError("read federated credential "+id, err)
	})
}

// DeleteFederatedCredential deletes a federated credential by id.
func DeleteFederatedCredential(ctx context.Context, id string, o Options) error {
	sub, group, identity, name, err := credentialParts(id)
	if err != nil {
		return err
	}
	c, err := credentialsClient(sub, o)
	if err != nil {
		return err
	}
	if _, err := c.Delete(ctx, group, identity, name, nil); err != nil {
		return credentialWriteError("delete federated credential "+id, err)
	}
	return nil
}

// CreateFederatedCredential creates the federated credential id (a
// restore puts a deleted one back).
func CreateFederatedCredential(ctx context.Context, id, issuer, subject string, audiences []string, o Options) error {
	sub, group, identity, name, err := credentialParts(id)
	if err != nil {
		return err
	}
	c, err := credentialsClient(sub, o)
	if err != nil {
		return err
	}
	params := armmsi.FederatedIdentityCredential{Properties: &armmsi.FederatedIdentityCredentialProperties{
		Issuer: to.Ptr(issuer), Subject: to.Ptr(subject), Audiences: to.SliceOfPtrs(audiences...)}}
	if _, err := c.CreateOrUpdate(ctx, group, identity, name, params, nil); err != nil {
		return credentialWriteError("create federated credential "+id, err)
	}
	return nil
}

// credentialWriteError says what ARM refused a federated credential's
// read or write.
func credentialWriteError(what string, err error) error {
	return armWriteError(what, err, "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write and delete there, e.g. Managed Identity Contributor")
}
