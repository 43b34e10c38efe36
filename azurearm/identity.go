package azurearm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/msi/armmsi"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/resourcegraph/armresourcegraph"
	"golang.org/x/sync/errgroup"

	"github.com/kubectl-access/kubectl-access/azurerbac"
)

// What a 403 on each read of the identities means the identity lacks.
const (
	identitiesHint  = "the Azure identity needs Microsoft.ManagedIdentity/userAssignedIdentities/read there, e.g. the Reader role on the subscription"
	credentialsHint = "the Azure identity needs Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/read, e.g. the Reader role on the subscription"
)

// LoadIdentities reads into d, the data of one cluster with its managed
// cluster read (its OIDC issuer and kubelet identity), the user-assigned
// managed identities the cluster's pods may act as, with armmsi:
//   - every user-assigned identity of the cluster's subscription, and the
//     federated credentials of each;
//   - kept: those whose client id is among clientIDs (the service
//     accounts' azure.workload.identity/client-id annotations), the
//     kubelet's and the enabled add-ons' identities, and every identity with a federated credential on
//     the cluster's issuer (a service account needs no annotation to
//     exchange its token: the credential is what Entra checks);
//   - for a client id among clientIDs no identity read has, the app
//     registration of that appId, its federated credentials and its
//     service principal, from Microsoft Graph with the same sign-in;
//   - each kept identity's role assignments at every scope of the
//     subscription and above it (ARM's $filter=assignedTo('PRINCIPAL') at
//     the subscription, as az role assignment list --assignee --all), and
//     the role definitions they name that d lacks.
//
// What ARM refuses or keeps failing on becomes a gap in d.IdentityGaps:
// the identities' part of an answer is then incomplete, never "no
// identity". The error is for what ends every read alike (no token, a
// token ARM refuses, no route to ARM, ctx done).
func LoadIdentities(ctx context.Context, d *azurerbac.Data, clientIDs []string, o Options) error {
	if o.Credential == nil {
		return errors.New("load the managed identities: no Azure credential")
	}
	cid, err := parseClusterID(d.ClusterID)
	if err != nil {
		return err
	}
	sub := "/subscriptions/" + cid.SubscriptionID
	var issuer string
	// The identities the managed cluster names: the kubelet's and the
	// add-ons', by object id.
	named := map[string]bool{}
	if c := d.Cluster; c != nil {
		issuer = c.OIDCIssuerURL
		if c.KubeletIdentity != "" {
			named[strings.ToLower(c.KubeletIdentity)] = true
		}
		for _, id := range c.AddonIdentities {
			named[strings.ToLower(id)] = true
		}
	}
	cred, opts := signInCredential{cred: o.Credential}, o.armOptions()
	identities, err := armmsi.NewUserAssignedIdentitiesClient(cid.SubscriptionID, cred, opts)
	if err != nil {
		return fmt.Errorf("create the ARM client: %w", err)
	}
	credentials, err := armmsi.NewFederatedIdentityCredentialsClient(cid.SubscriptionID, cred, opts)
	if err != nil {
		return fmt.Errorf("create the ARM client: %w", err)
	}
	l, err := newLoader(cid.SubscriptionID, o)
	if err != nil {
		return err
	}
	l.progress = nil // the progress line counts the scopes of Load
	var gaps []string

	// The identities of the subscription.
	var read []azurerbac.ManagedIdentity
	err = drain(ctx, l, identities.NewListBySubscriptionPager(nil), func(page armmsi.UserAssignedIdentitiesClientListBySubscriptionResponse) {
		for _, v := range page.Value {
			if m, ok := managedIdentity(v); ok {
				read = append(read, m)
			}
		}
	})
	if err != nil {
		gap, fatal := classify(ctx, "the user-assigned managed identities of "+sub, identitiesHint, err)
		if fatal != nil {
			return fatal
		}
		gaps = append(gaps, gap)
	}

	// Their federated credentials, each identity's list apart.
	credGaps := make([]string, len(read))
	g, gctx := errgroup.WithContext(ctx)
	for i := range read {
		m := &read[i]
		rid, perr := arm.ParseResourceID(m.ID)
		if perr != nil || rid.ResourceGroupName == "" {
			credGaps[i] = fmt.Sprintf("the federated credentials of %s: not an identity's resource id", m.ID)
			m.CredentialsUnread = credGaps[i]
			continue
		}
		g.Go(func() error {
			var creds []azurerbac.FederatedCredential
			lerr := drain(gctx, l, credentials.NewListPager(rid.ResourceGroupName, rid.Name, nil), func(page armmsi.FederatedIdentityCredentialsClientListResponse) {
				for _, v := range page.Value {
					if c, ok := federatedCredential(v); ok {
						creds = append(creds, c)
					}
				}
			})
			m.FederatedCredentials = creds
			if lerr != nil {
				gap, fatal := classify(gctx, "the federated credentials of managed identity "+m.ID, credentialsHint, lerr)
				credGaps[i], m.CredentialsUnread = gap, gap
				return fatal
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	for _, gap := range credGaps {
		if gap != "" {
			gaps = append(gaps, gap)
		}
	}

	// A client id no identity of the cluster's subscription has may be an
	// identity of another subscription: Azure Resource Graph finds it by
	// its client id in every subscription the sign-in may read.
	others, otherGaps, err := identitiesElsewhere(ctx, l, missingClientIDs(clientIDs, read), cred, o)
	if err != nil {
		return err
	}
	read, gaps = append(read, others...), append(gaps, otherGaps...)

	// The ones the cluster's pods may act as.
	wanted := map[string]bool{}
	for _, c := range clientIDs {
		wanted[strings.ToLower(c)] = true
	}
	var kept []azurerbac.ManagedIdentity
	for _, m := range read {
		onIssuer := issuer != "" && slices.ContainsFunc(m.FederatedCredentials, func(c azurerbac.FederatedCredential) bool { return c.Issuer == issuer })
		if onIssuer || m.ClientID != "" && wanted[strings.ToLower(m.ClientID)] || m.PrincipalID != "" && named[strings.ToLower(m.PrincipalID)] {
			kept = append(kept, m)
		}
	}

	// A client id no managed identity of the subscription has may be an
	// app registration's: Microsoft Graph has its federated credentials.
	apps, appGaps, err := applications(ctx, clientIDs, read, o)
	if err != nil {
		return err
	}
	kept = append(kept, apps...)
	gaps = append(gaps, appGaps...)

	// Their role assignments wherever they are, and the roles d lacks.
	g, gctx = errgroup.WithContext(ctx)
	l.group = g
	for _, r := range d.Roles {
		k := strings.ToLower(path.Base(r.ID))
		l.roles[k] = &roleSlot{key: k, id: r.ID}
	}
	// At the cluster's subscription and above it, and, for an identity of
	// another subscription, at its own too.
	assigned := make([]scopeRead[azurerbac.Assignment], 2*len(kept))
	for i, m := range kept {
		if m.PrincipalID == "" {
			continue
		}
		g.Go(func() error {
			r, err := l.listAssignedTo(gctx, sub, m)
			assigned[2*i] = r
			return err
		})
		if own := subscriptionOf(m.ID); own != "" && !strings.EqualFold(own, sub) {
			g.Go(func() error {
				r, err := l.listAssignedTo(gctx, own, m)
				assigned[2*i+1] = r
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}

	seen := map[string]bool{}
	for _, a := range d.Assignments {
		seen[strings.ToLower(a.ID)] = true
	}
	for _, r := range assigned {
		for _, a := range r.items {
			if k := strings.ToLower(a.ID); !seen[k] {
				seen[k] = true
				d.Assignments = append(d.Assignments, a)
			}
		}
		if r.gap != "" {
			gaps = append(gaps, r.gap)
		}
	}
	// A role an identity's assignment names, unread, leaves what the
	// identity can do unknown, not guard's answers.
	roles, roleGaps := l.rolesRead()
	d.Roles, gaps = append(d.Roles, roles...), append(gaps, roleGaps...)
	for _, m := range kept {
		d.AddIdentity(m)
	}
	d.IdentityGaps = append(d.IdentityGaps, gaps...)
	return nil
}

// listAssignedTo lists the role assignments of identity m's principal at
// every scope of the subscription sub and above it.
func (l *loader) listAssignedTo(ctx context.Context, sub string, m azurerbac.ManagedIdentity) (scopeRead[azurerbac.Assignment], error) {
	var r scopeRead[azurerbac.Assignment]
	filter := "assignedTo('" + m.PrincipalID + "')"
	p := l.assignments.NewListForScopePager(sub, &armauthorization.RoleAssignmentsClientListForScopeOptions{Filter: &filter})
	err := drain(ctx, l, p, func(page armauthorization.RoleAssignmentsClientListForScopeResponse) {
		for _, v := range page.Value {
			if a, ok := assignment(v); ok {
				r.items = append(r.items, a)
				l.wantRole(ctx, a.RoleDefinitionID)
			}
		}
	})
	if err != nil {
		gap, fatal := classify(ctx, "the role assignments of managed identity "+m.Name+" ("+m.PrincipalID+") in "+sub, assignmentsHint, err)
		r.gap = gap
		return r, fatal
	}
	return r, nil
}

// managedIdentity is what the tool keeps of a user-assigned identity.
func managedIdentity(v *armmsi.Identity) (azurerbac.ManagedIdentity, bool) {
	if v == nil || deref(v.ID) == "" {
		return azurerbac.ManagedIdentity{}, false
	}
	m := azurerbac.ManagedIdentity{ID: deref(v.ID), Name: deref(v.Name)}
	if p := v.Properties; p != nil {
		m.ClientID, m.PrincipalID, m.TenantID = deref(p.ClientID), deref(p.PrincipalID), deref(p.TenantID)
	}
	return m, true
}

// federatedCredential is what Entra compares of a federated credential.
func federatedCredential(v *armmsi.FederatedIdentityCredential) (azurerbac.FederatedCredential, bool) {
	if v == nil || v.Properties == nil || deref(v.ID) == "" {
		return azurerbac.FederatedCredential{}, false
	}
	p := v.Properties
	return azurerbac.FederatedCredential{ID: deref(v.ID), Name: deref(v.Name), Issuer: deref(p.Issuer), Subject: deref(p.Subject), Audiences: strs(p.Audiences)}, true
}

// applications reads from Microsoft Graph the app registrations of the
// client ids no managed identity read has, one at a time (a cluster's
// annotations name a handful). A refusal or failure is a gap; only a
// cancelled ctx ends the load.
func applications(ctx context.Context, clientIDs []string, read []azurerbac.ManagedIdentity, o Options) ([]azurerbac.ManagedIdentity, []string, error) {
	var out []azurerbac.ManagedIdentity
	var gaps []string
	g := o.graph()
	for _, c := range clientIDs {
		// A client id is a GUID; any other text is no application's and
		// is not put into Graph's URL.
		if !guid.MatchString(c) || slices.ContainsFunc(read, func(m azurerbac.ManagedIdentity) bool { return strings.EqualFold(m.ClientID, c) }) {
			continue
		}
		app, err := g.Application(ctx, c)
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if err != nil {
			gaps = append(gaps, "Microsoft Graph: "+err.Error())
		}
		if app == nil {
			continue
		}
		m := azurerbac.ManagedIdentity{ID: "/applications/" + app.ID, Name: app.DisplayName, ClientID: app.AppID, Kind: azurerbac.KindApplication}
		if err != nil {
			m.CredentialsUnread = err.Error()
		}
		// Role assignments name the application's service principal.
		if m.PrincipalID, err = g.ServicePrincipalID(ctx, app.AppID); err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			gaps = append(gaps, "Microsoft Graph: "+err.Error())
		}
		for _, f := range app.FederatedCredentials {
			m.FederatedCredentials = append(m.FederatedCredentials, azurerbac.FederatedCredential{ID: m.ID + "/federatedIdentityCredentials/" + f.ID,
				Name: f.Name, Issuer: f.Issuer, Subject: f.Subject, Audiences: f.Audiences})
		}
		out = append(out, m)
	}
	return out, gaps, nil
}

// guid is a client id as Entra writes it: only such an id is put into a
// Resource Graph query (an annotation is anyone's text).
var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// missingClientIDs are the client ids (GUIDs) no identity read has.
func missingClientIDs(clientIDs []string, read []azurerbac.ManagedIdentity) []string {
	var out []string
	for _, c := range clientIDs {
		c = strings.ToLower(c)
		if !guid.MatchString(c) || slices.Contains(out, c) || slices.ContainsFunc(read, func(m azurerbac.ManagedIdentity) bool { return strings.EqualFold(m.ClientID, c) }) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// subscriptionOf is "/subscriptions/ID" of a resource id, "" for another.
func subscriptionOf(id string) string {
	rid, err := arm.ParseResourceID(id)
	if err != nil || rid.SubscriptionID == "" {
		return ""
	}
	return "/subscriptions/" + rid.SubscriptionID
}

// identitiesElsewhere finds the user-assigned identities of the client ids
// in any subscription the sign-in may read, in one Azure Resource Graph
// query, and reads each one's federated credentials from its own
// subscription. A refused query or list is a gap: an identity it would
// have found stays unread (the client id is then looked for among the app
// registrations, and an annotation no identity has is said as such).
func identitiesElsewhere(ctx context.Context, l *loader, clientIDs []string, cred signInCredential, o Options) ([]azurerbac.ManagedIdentity, []string, error) {
	if len(clientIDs) == 0 {
		return nil, nil, nil
	}
	c, err := armresourcegraph.NewClient(cred, o.armOptions())
	if err != nil {
		return nil, nil, fmt.Errorf("create the Resource Graph client: %w", err)
	}
	query := "resources | where type =~ 'microsoft.managedidentity/userassignedidentities' | where tolower(tostring(properties.clientId)) in ('" +
		strings.Join(clientIDs, "', '") + "') | project id, name, type, location, properties"
	req := armresourcegraph.QueryRequest{Query: to.Ptr(query),
		Options: &armresourcegraph.QueryRequestOptions{ResultFormat: to.Ptr(armresourcegraph.ResultFormatObjectArray), Top: to.Ptr[int32](1000)}}
	var found []azurerbac.ManagedIdentity
	for {
		resp, err := c.Resources(ctx, req, nil)
		if err != nil {
			gap, fatal := classify(ctx, "the managed identities of other subscriptions (Azure Resource Graph, client ids "+strings.Join(clientIDs, ", ")+")", identitiesHint, err)
			return nil, []string{gap}, fatal
		}
		rows, _ := resp.Data.([]any)
		for _, row := range rows {
			b, err := json.Marshal(row)
			if err != nil {
				return nil, nil, err
			}
			var v armmsi.Identity
			if json.Unmarshal(b, &v) != nil {
				continue
			}
			if m, ok := managedIdentity(&v); ok {
				found = append(found, m)
			}
		}
		if resp.SkipToken == nil || *resp.SkipToken == "" {
			break
		}
		req.Options.SkipToken = resp.SkipToken
	}
	var gaps []string
	for i := range found {
		m := &found[i]
		rid, perr := arm.ParseResourceID(m.ID)
		if perr != nil || rid.ResourceGroupName == "" {
			m.CredentialsUnread = fmt.Sprintf("the federated credentials of %s: not an identity's resource id", m.ID)
			gaps = append(gaps, m.CredentialsUnread)
			continue
		}
		credentials, err := armmsi.NewFederatedIdentityCredentialsClient(rid.SubscriptionID, cred, o.armOptions())
		if err != nil {
			return nil, nil, fmt.Errorf("create the ARM client: %w", err)
		}
		lerr := drain(ctx, l, credentials.NewListPager(rid.ResourceGroupName, rid.Name, nil), func(page armmsi.FederatedIdentityCredentialsClientListResponse) {
			for _, v := range page.Value {
				if c, ok := federatedCredential(v); ok {
					m.FederatedCredentials = append(m.FederatedCredentials, c)
				}
			}
		})
		if lerr != nil {
			gap, fatal := classify(ctx, "the federated credentials of managed identity "+m.ID, credentialsHint, lerr)
			if fatal != nil {
				return nil, nil, fatal
			}
			m.CredentialsUnread = gap
			gaps = append(gaps, gap)
		}
	}
	return found, gaps, nil
}
