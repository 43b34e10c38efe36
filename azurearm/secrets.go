package azurearm

import (
	"context"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// servicePrincipalSecrets reads from Microsoft Graph when the cluster's
// service principal's secrets expire (its app registration's password
// credentials: ids, names and ends, never values). What cannot be read is
// said in Unread, with the permission that would read it.
func servicePrincipalSecrets(ctx context.Context, appID string, o Options) *azurerbac.AppSecrets {
	out := &azurerbac.AppSecrets{AppID: appID, From: "Microsoft Graph"}
	creds, found, err := o.graph().ApplicationSecrets(ctx, appID)
	switch {
	case err != nil:
		out.Unread = err.Error()
	case !found:
		out.Unread = "Microsoft Graph has no app registration of client id " + appID + " in the signed-in tenant (another tenant's, or deleted)"
	}
	for _, c := range creds {
		out.Secrets = append(out.Secrets, azurerbac.AppSecret{KeyID: c.KeyID, DisplayName: c.DisplayName, End: c.End})
	}
	return out
}
