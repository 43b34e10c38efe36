package source

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Azure RBAC data offline: the JSON of `az role assignment list`, `az role
// definition list` and `az ... deny assignment` (a top-level array), or
// ARM's REST responses ({"value": [...]}, each item's fields under
// "properties"). Which of the three an item is comes from its type, else
// from its fields.

// armItem holds both shapes: az's flattened fields and ARM's properties.
type armItem struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`

	Properties *armItem `json:"properties"`

	Scope            string `json:"scope"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"`
	PrincipalName    string `json:"principalName"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	Condition        string `json:"condition"`

	// An eligible role assignment's (roleEligibilityScheduleInstances).
	StartDateTime             string `json:"startDateTime"`
	EndDateTime               string `json:"endDateTime"`
	MemberType                string `json:"memberType"`
	Status                    string `json:"status"`
	RoleEligibilityScheduleID string `json:"roleEligibilityScheduleId"`
	ExpandedProperties        *struct {
		Principal struct {
			DisplayName string `json:"displayName"`
			Email       string `json:"email"`
		} `json:"principal"`
	} `json:"expandedProperties"`

	RoleName    string                 `json:"roleName"`
	Permissions []azurerbac.Permission `json:"permissions"`

	DenyAssignmentName      string         `json:"denyAssignmentName"`
	Principals              []armPrincipal `json:"principals"`
	ExcludePrincipals       []armPrincipal `json:"excludePrincipals"`
	DoNotApplyToChildScopes bool           `json:"doNotApplyToChildScopes"`

	// A user-assigned managed identity's (az identity list) and a
	// federated identity credential's (az identity federated-credential
	// list) fields.
	// A password credential's (az ad app credential list): its id,
	// name and end (startDateTime and endDateTime above), never its value.
	KeyID string `json:"keyId"`
	// A password credential's name, or an app registration's.
	DisplayName string `json:"displayName"`

	ClientID string `json:"clientId"`
	TenantID string `json:"tenantId"`
	// An app registration's (az ad app list, Graph's applications).
	AppID     string   `json:"appId"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

type armPrincipal struct {
	ID string `json:"id"`
}

// azureJSON says whether data is Azure's JSON rather than Kubernetes
// objects: a top-level array, or an object whose "value" is an array.
func azureJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(t) > 0 && t[0] == '[' {
		return true
	}
	if len(t) == 0 || t[0] != '{' || snapshotHead(t) {
		return false
	}
	var probe struct {
		Value json.RawMessage `json:"value"`
		Kind  string          `json:"kind"`
	}
	if json.Unmarshal(t, &probe) != nil || probe.Kind != "" {
		return false
	}
	return bytes.HasPrefix(bytes.TrimSpace(probe.Value), []byte("["))
}

// azureFile reads one file of Azure JSON into the snapshot's Azure data.
func (l *loader) azureFile(name string, data []byte) error {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	var items []json.RawMessage
	app := "" // the application whose federated credentials Graph lists
	if t[0] == '[' {
		if err := json.Unmarshal(t, &items); err != nil {
			return fmt.Errorf("%s: not Azure RBAC JSON (az role assignment list -o json): %v", name, err)
		}
	} else {
		var page struct {
			Value     []json.RawMessage `json:"value"`
			NextLink  string            `json:"nextLink"`
			GraphNext string            `json:"@odata.nextLink"`
			Context   string            `json:"@odata.context"`
		}
		if err := json.Unmarshal(t, &page); err != nil {
			return fmt.Errorf("%s: not an ARM list response: %v", name, err)
		}
		if m := graphAppCredentials.FindStringSubmatch(page.Context); m != nil {
			app = m[1]
		}
		if page.NextLink != "" || page.GraphNext != "" {
			l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "%s is one page of an ARM list (it has a nextLink): the items of the other pages are not read", name))
		}
		items = page.Value
	}
	d := l.azure()
	rbacItems := 0 // role assignments, definitions, deny assignments
	for i, raw := range items {
		var it armItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("%s: item %d: %v", name, i, err)
		}
		if p := it.Properties; p != nil {
			p.ID, p.Name, p.Type = it.ID, it.Name, it.Type
			it = *p
		}
		at := fmt.Sprintf("%s: item %d", name, i)
		typ := strings.ToLower(it.Type)
		switch {
		case typ == "" && it.KeyID != "" && it.PrincipalID == "":
			// az ad app credential list --id APPID: which app's is not
			// said; the cluster's service principal's, when it has one.
			x, err := appSecret(it.KeyID, it.DisplayName, it.EndDateTime)
			if err != nil {
				return fmt.Errorf("%s: %v", at, err)
			}
			l.addSecrets("", name, x)
			continue
		case azurerbac.IdentityTypeOf(typ) || typ == "" && it.ClientID != "" && it.PrincipalID != "" && it.RoleDefinitionID == "":
			if it.ID == "" || it.ClientID == "" || it.PrincipalID == "" {
				return fmt.Errorf("%s: a managed identity needs id, clientId and principalId", at)
			}
			d.AddIdentity(azurerbac.ManagedIdentity{ID: strings.TrimSuffix(it.ID, "/"), Name: it.Name, ClientID: it.ClientID, PrincipalID: it.PrincipalID, TenantID: it.TenantID})
			continue
		case typ == "" && it.AppID != "" && it.Issuer == "":
			// An app registration: its service principal's object id (what
			// role assignments name) is found from them (finishAzure).
			if it.ID == "" {
				return fmt.Errorf("%s: an app registration needs id (its object id) and appId", at)
			}
			d.AddIdentity(azurerbac.ManagedIdentity{ID: "/applications/" + it.ID, Name: it.DisplayName, ClientID: it.AppID, Kind: azurerbac.KindApplication})
			continue
		case typ == "" && it.Issuer != "" && it.Subject != "" && azurerbac.CredentialParent(it.ID) == "":
			// An app registration's federated credential names no parent:
			// Graph's response says the application in its @odata.context.
			if app == "" || it.ID == "" {
				return fmt.Errorf("%s: a federated credential without its identity's id (az ad app federated-credential list prints none): give Graph's own response, which names the application: "+
					"az rest --url https://graph.microsoft.com/v1.0/applications/OBJECT-ID/federatedIdentityCredentials", at)
			}
			d.AddCredential(azurerbac.FederatedCredential{ID: "/applications/" + app + "/federatedIdentityCredentials/" + it.ID, Name: it.Name, Issuer: it.Issuer, Subject: it.Subject, Audiences: it.Audiences})
			continue
		case azurerbac.CredentialTypeOf(typ) || typ == "" && it.Issuer != "" && it.Subject != "":
			if it.ID == "" || azurerbac.CredentialParent(it.ID) == "" || it.Issuer == "" || it.Subject == "" {
				return fmt.Errorf("%s: a federated identity credential needs issuer, subject and an id naming its identity (.../userAssignedIdentities/NAME/federatedIdentityCredentials/NAME)", at)
			}
			d.AddCredential(azurerbac.FederatedCredential{ID: it.ID, Name: it.Name, Issuer: it.Issuer, Subject: it.Subject, Audiences: it.Audiences})
			continue
		case strings.HasSuffix(typ, "/roleeligibilityscheduleinstances") || strings.HasSuffix(typ, "/roleeligibilityschedules") ||
			typ == "" && it.RoleEligibilityScheduleID != "":
			e, err := eligible(&it)
			if err != nil {
				return fmt.Errorf("%s: %v", at, err)
			}
			if j := slices.IndexFunc(d.Eligible, func(x azurerbac.EligibleAssignment) bool { return strings.EqualFold(x.ID, e.ID) }); j >= 0 {
				d.Eligible[j] = e
				continue
			}
			d.Eligible = append(d.Eligible, e)
		case strings.HasSuffix(typ, "/roleassignments") || typ == "" && it.RoleDefinitionID != "" && it.PrincipalID != "":
			if it.ID == "" || it.Scope == "" || it.PrincipalID == "" || it.RoleDefinitionID == "" {
				return fmt.Errorf("%s: a role assignment needs id, scope, principalId and roleDefinitionId", at)
			}
			a := azurerbac.Assignment{ID: it.ID, Scope: it.Scope, PrincipalID: it.PrincipalID, PrincipalType: it.PrincipalType,
				PrincipalName: it.PrincipalName, RoleDefinitionID: it.RoleDefinitionID, Condition: it.Condition}
			if j := slices.IndexFunc(d.Assignments, func(x azurerbac.Assignment) bool { return strings.EqualFold(x.ID, a.ID) }); j >= 0 {
				if a.PrincipalName == "" {
					a.PrincipalName = d.Assignments[j].PrincipalName
				}
				d.Assignments[j] = a
				continue
			}
			d.Assignments = append(d.Assignments, a)
		case strings.HasSuffix(typ, "/roledefinitions") || typ == "" && it.RoleName != "":
			if it.ID == "" || it.RoleName == "" {
				return fmt.Errorf("%s: a role definition needs id and roleName", at)
			}
			r := azurerbac.RoleDefinition{ID: it.ID, Name: it.RoleName, Permissions: it.Permissions}
			if j := slices.IndexFunc(d.Roles, func(x azurerbac.RoleDefinition) bool { return strings.EqualFold(roleGUID(x.ID), roleGUID(r.ID)) }); j >= 0 {
				d.Roles[j] = r
				continue
			}
			d.Roles = append(d.Roles, r)
		case strings.HasSuffix(typ, "/denyassignments") || typ == "" && (it.DenyAssignmentName != "" || len(it.Principals) > 0):
			if it.ID == "" || it.Scope == "" {
				return fmt.Errorf("%s: a deny assignment needs id and scope", at)
			}
			x := azurerbac.DenyAssignment{ID: it.ID, Scope: it.Scope, Permissions: it.Permissions,
				DoNotApplyToChildScopes: it.DoNotApplyToChildScopes, Condition: it.Condition}
			for _, p := range it.Principals {
				x.Principals = append(x.Principals, p.ID)
			}
			for _, p := range it.ExcludePrincipals {
				x.ExcludePrincipals = append(x.ExcludePrincipals, p.ID)
			}
			l.azureDenies++
			if j := slices.IndexFunc(d.Denies, func(y azurerbac.DenyAssignment) bool { return strings.EqualFold(y.ID, x.ID) }); j >= 0 {
				d.Denies[j] = x
				continue
			}
			d.Denies = append(d.Denies, x)
		default:
			return fmt.Errorf("%s: neither a role assignment, a role definition, a deny assignment, an eligible role assignment, a managed identity nor a federated credential: -f reads the JSON of "+
				"`az role assignment list`, `az role definition list`, `az identity list`, `az identity federated-credential list`, `az ad app list`, ARM's list responses (roleEligibilityScheduleInstances too) and Graph's list of an application's federatedIdentityCredentials", at)
		}
		rbacItems++
	}
	l.azureFiles++
	if rbacItems == 0 && len(items) > 0 {
		// Identities alone say nothing of guard's assignments.
		l.identityFiles++
	}
	return nil
}

// graphAppCredentials finds the application in the @odata.context of
// Graph's list of its federated credentials.
var graphAppCredentials = regexp.MustCompile(`#applications\('([0-9a-fA-F-]+)'\)/federatedIdentityCredentials`)

// eligible reads an eligible role assignment (ARM's
// roleEligibilityScheduleInstances or roleEligibilitySchedules, as ARM
// lists them and `az rest` prints them).
func eligible(it *armItem) (azurerbac.EligibleAssignment, error) {
	if it.ID == "" || it.Scope == "" || it.PrincipalID == "" || it.RoleDefinitionID == "" {
		return azurerbac.EligibleAssignment{}, fmt.Errorf("an eligible role assignment needs id, scope, principalId and roleDefinitionId")
	}
	e := azurerbac.EligibleAssignment{ID: it.ID, Scope: it.Scope, PrincipalID: it.PrincipalID, PrincipalType: it.PrincipalType,
		PrincipalName: it.PrincipalName, RoleDefinitionID: it.RoleDefinitionID, MemberType: it.MemberType, Status: it.Status, Condition: it.Condition}
	if x := it.ExpandedProperties; x != nil && e.PrincipalName == "" {
		// A user's email is most often its UPN; anyone else has a
		// display name only.
		e.PrincipalName = x.Principal.DisplayName
		if strings.EqualFold(e.PrincipalType, "User") && x.Principal.Email != "" {
			e.PrincipalName = x.Principal.Email
		}
	}
	for _, t := range []struct {
		field string
		in    string
		out   *time.Time
	}{{"startDateTime", it.StartDateTime, &e.Start}, {"endDateTime", it.EndDateTime, &e.End}} {
		if t.in == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.in)
		if err != nil {
			return e, fmt.Errorf("eligible role assignment %s: %s %q is not a date and time (RFC 3339)", it.ID, t.field, t.in)
		}
		*t.out = v
	}
	return e, nil
}

func roleGUID(id string) string { return id[strings.LastIndexByte(id, '/')+1:] }

// azure returns the snapshot's Azure data, made on first use.
func (l *loader) azure() *azurerbac.Data {
	if l.snap.Azure == nil {
		l.snap.Azure = &azurerbac.Data{}
	}
	return l.snap.Azure
}

// mergeAzure adds a saved snapshot's Azure data.
func (l *loader) mergeAzure(s *azurerbac.Data) {
	d := l.azure()
	switch {
	case d.ClusterID == "":
		d.ClusterID = s.ClusterID
	case s.ClusterID != "" && !strings.EqualFold(s.ClusterID, d.ClusterID):
		l.warnings = append(l.warnings, rbac.Warnf(WarnMerged, "Azure RBAC data of two clusters are merged (%s and %s); the first decides", d.ClusterID, s.ClusterID))
	}
	d.Assignments = append(d.Assignments, s.Assignments...)
	d.Roles = append(d.Roles, s.Roles...)
	d.Denies = append(d.Denies, s.Denies...)
	d.Gaps = append(d.Gaps, s.Gaps...)
	d.Eligible = append(d.Eligible, s.Eligible...)
	d.EligibleGaps = append(d.EligibleGaps, s.EligibleGaps...)
	if d.Cluster == nil {
		d.Cluster = s.Cluster
	}
	for _, m := range s.Identities {
		d.AddIdentity(m)
	}
	d.IdentityGaps = append(d.IdentityGaps, s.IdentityGaps...)
}

var clusterIDPattern = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/(microsoft\.containerservice/managedclusters|microsoft\.kubernetes/connectedclusters)/[^/]+`)

// ClusterIDs are the clusters the scopes of the assignments name.
func clusterIDs(d *azurerbac.Data) []string {
	seen := map[string]bool{}
	var out []string
	add := func(scope string) {
		if m := clusterIDPattern.FindString(scope); m != "" && !seen[strings.ToLower(m)] {
			seen[strings.ToLower(m)] = true
			out = append(out, m)
		}
	}
	for _, a := range d.Assignments {
		add(a.Scope)
	}
	for _, x := range d.Denies {
		add(x.Scope)
	}
	for _, e := range d.Eligible {
		add(e.Scope)
	}
	slices.Sort(out)
	return out
}

// finishAzure sets the cluster's resource id: the one given, else the one
// the scopes name; it is an error when none or several are, or when the
// one given is not shaped like a cluster's.
func (l *loader) finishAzure() error {
	d := l.snap.Azure
	if d == nil {
		return nil
	}
	if d.Cluster != nil && d.ClusterID == "" && l.o.AzureClusterID == "" && len(clusterIDs(d)) == 0 {
		d.ClusterID = d.Cluster.ID // the managed cluster read names it
	}
	defer l.finishCluster()
	for i := range d.Identities {
		m := &d.Identities[i]
		if m.Kind == azurerbac.KindApplication && m.PrincipalID == "" && m.ClientID != "" {
			// az role assignment list names a service principal by its
			// appId (principalName): the application's.
			for _, a := range d.Assignments {
				if strings.EqualFold(a.PrincipalType, "ServicePrincipal") && strings.EqualFold(a.PrincipalName, m.ClientID) {
					m.PrincipalID = a.PrincipalID
					break
				}
			}
			if m.PrincipalID == "" {
				l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "app registration %s (appId %s): no role assignment read names its service principal, so what acting as it gets in Azure is not known (az role assignment list --assignee %s --all)", m.Name, m.ClientID, m.ClientID))
			}
		}
		if m.ClientID == "" {
			what, list := "managed identity", "az identity list"
			if strings.HasPrefix(m.ID, "/applications/") {
				what, list = "app registration", "az ad app list"
			}
			l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "federated credentials of %s %s were read but not the identity (%s): its client id is not known, so no service account is matched to it", what, m.ID, list))
		}
	}
	if id := l.o.AzureClusterID; id != "" {
		if !clusterIDPattern.MatchString(id) || clusterIDPattern.FindString(id) != strings.TrimSuffix(id, "/") {
			return fmt.Errorf("--azure-cluster-id %q: not a cluster's resource id (/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME)", id)
		}
		if d.ClusterID != "" && !strings.EqualFold(d.ClusterID, id) {
			l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "--azure-cluster-id %s replaces the snapshot's %s", id, d.ClusterID))
		}
		d.ClusterID = strings.TrimSuffix(id, "/")
		return nil
	}
	if l.azureFiles > l.clusterFiles+l.identityFiles {
		// What az's usual commands leave out, said rather than guessed.
		if l.azureDenies == 0 {
			l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "no Azure deny assignments were read: if the cluster has any (ARM's denyAssignments list with $filter=atScope()), the answers may allow what they deny"))
		}
		if d.GuardDecides() && !slices.ContainsFunc(d.Assignments, func(a azurerbac.Assignment) bool { return strings.Contains(strings.ToLower(a.Scope), "/namespaces/") }) {
			l.warnings = append(l.warnings, rbac.Warnf(rbac.WarnAzureRBAC, "no namespace-scope Azure role assignment was read: az role assignment list --include-inherited at the cluster leaves them out; list each CLUSTER/namespaces/NS too, or read them live with --azure-rbac"))
		}
	}
	if d.ClusterID != "" {
		return nil
	}
	switch ids := clusterIDs(d); len(ids) {
	case 1:
		d.ClusterID = ids[0]
		return nil
	case 0:
		if len(d.Assignments) == 0 && len(d.Denies) == 0 && len(d.Identities) > 0 {
			return fmt.Errorf("managed identities were read without the managed cluster they are matched against: give the cluster's JSON too (az aks show: its OIDC issuer decides which federated credentials its service accounts match), or --azure-cluster-id /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME")
		}
		return fmt.Errorf("the Azure role assignments read name no cluster's scope, so which cluster they decide for is not known: give --azure-cluster-id /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/NAME")
	default:
		return fmt.Errorf("the Azure role assignments read name %d clusters (%s): give --azure-cluster-id to say which one this view is of", len(ids), strings.Join(ids, ", "))
	}
}
