package azurearm

import (
	"context"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// Client is ARM for the application layer (access.AzureARM): the reads
// and the fix's writes with one set of options. The application layer
// stays free of the Azure SDK; the front end gives it a Client.
type Client struct{ Options Options }

// FindCluster is FindCluster with the client's options.
func (c *Client) FindCluster(ctx context.Context, server string) (string, error) {
	return FindCluster(ctx, server, c.Options)
}

// CheckCluster is CheckCluster with the client's options.
func (c *Client) CheckCluster(ctx context.Context, clusterID, server string) error {
	return CheckCluster(ctx, clusterID, server, c.Options)
}

// Load is Load with the client's options.
func (c *Client) Load(ctx context.Context, clusterID string, namespaces []string) (*azurerbac.Data, error) {
	return Load(ctx, clusterID, namespaces, c.Options)
}

// Assignment is Assignment with the client's options.
func (c *Client) Assignment(ctx context.Context, id string) (map[string]any, error) {
	return Assignment(ctx, id, c.Options)
}

// DeleteAssignment is DeleteAssignment with the client's options.
func (c *Client) DeleteAssignment(ctx context.Context, id string) error {
	return DeleteAssignment(ctx, id, c.Options)
}

// CreateAssignment is CreateAssignment with the client's options.
func (c *Client) CreateAssignment(ctx context.Context, id, scope, roleDefinitionID, principalID, principalType string) error {
	return CreateAssignment(ctx, id, AssignmentProperties{Scope: scope, RoleDefinitionID: roleDefinitionID, PrincipalID: principalID, PrincipalType: principalType}, c.Options)
}

// ManagedClusterResource is ManagedClusterResource with the client's
// options.
func (c *Client) ManagedClusterResource(ctx context.Context, id string) (map[string]any, string, error) {
	return ManagedClusterResource(ctx, id, c.Options)
}

// PutManagedCluster is PutManagedCluster with the client's options.
func (c *Client) PutManagedCluster(ctx context.Context, id string, body map[string]any, etag string) error {
	return PutManagedCluster(ctx, id, body, etag, c.Options)
}

// Directory is Directory with the client's options.
func (c *Client) Directory(ctx context.Context, ids []string) (*azurerbac.Directory, error) {
	return Directory(ctx, ids, c.Options)
}

// Identities is LoadIdentities with the client's options.
func (c *Client) Identities(ctx context.Context, d *azurerbac.Data, clientIDs []string) error {
	return LoadIdentities(ctx, d, clientIDs, c.Options)
}

// FederatedCredential is FederatedCredential with the client's options.
func (c *Client) FederatedCredential(ctx context.Context, id string) (map[string]any, error) {
	return FederatedCredential(ctx, id, c.Options)
}

// DeleteFederatedCredential is DeleteFederatedCredential with the
// client's options.
func (c *Client) DeleteFederatedCredential(ctx context.Context, id string) error {
	return DeleteFederatedCredential(ctx, id, c.Options)
}

// CreateFederatedCredential is CreateFederatedCredential with the
// client's options.
func (c *Client) CreateFederatedCredential(ctx context.Context, id, issuer, subject string, audiences []string) error {
	return CreateFederatedCredential(ctx, id, issuer, subject, audiences, c.Options)
}
