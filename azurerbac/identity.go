package azurerbac

import (
	"slices"
	"strings"
)

// The way out of a cluster to Azure: a pod whose service account is
// annotated with a user-assigned managed identity's client id exchanges
// its service-account token for the identity's Entra token, when one of
// the identity's federated credentials names the cluster's OIDC issuer,
// the account as subject and the token exchange audience. Entra compares
// the token's claims with the credential's fields as strings: the issuer
// must be the token's iss exactly (a trailing slash included), the
// subject its sub exactly, and the credential's audiences must hold the
// token's aud (which the workload identity webhook sets to
// api://AzureADTokenExchange).

const (
	// AnnotationClientID names the identity a service account's pods act
	// as (azure-workload-identity's webhook reads it).
	AnnotationClientID = "azure.workload.identity/client-id"
	// TokenExchangeAudience is the audience of the projected token the
	// webhook mounts, which a federated credential must accept.
	TokenExchangeAudience = "api://AzureADTokenExchange"
	// identityType and credentialType are ARM's resource types.
	identityType   = "microsoft.managedidentity/userassignedidentities"
	credentialType = "microsoft.managedidentity/userassignedidentities/federatedidentitycredentials"
)

// ManagedIdentity is a user-assigned managed identity (az identity list,
// ARM's Microsoft.ManagedIdentity/userAssignedIdentities) with the
// federated credentials read for it.
type ManagedIdentity struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	ClientID    string `json:"clientId,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	TenantID    string `json:"tenantId,omitempty"`
	// Kind is "" for a user-assigned managed identity, KindApplication
	// for an app registration (read from Microsoft Graph: its ID is
	// /applications/OBJECT-ID, ClientID its appId, PrincipalID its service
	// principal's object id). Workload identity exchanges a token for
	// either alike.
	Kind string `json:"kind,omitempty"`
	// FederatedCredentials are the identity's federated identity
	// credentials read (az identity federated-credential list).
	FederatedCredentials []FederatedCredential `json:"federatedCredentials,omitempty"`
	// CredentialsUnread says why the federated credentials could not be
	// read (live): whether one accepts an account's token is unknown.
	CredentialsUnread string `json:"credentialsUnread,omitempty"`
}

// KindApplication marks an app registration among the identities.
const KindApplication = "application"

// What names the identity's kind as the answers say it.
func (m *ManagedIdentity) What() string { return IdentityWhat(m.Kind) }

// IdentityWhat names an identity's Kind: "managed identity" or "app
// registration".
func IdentityWhat(kind string) string {
	if kind == KindApplication {
		return "app registration"
	}
	return "managed identity"
}

// FederatedCredential is one federated identity credential: Entra
// exchanges a token whose iss, sub and aud it names for the identity's.
type FederatedCredential struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"`
}

// IdentityTypeOf says whether an ARM type is a user-assigned identity's.
func IdentityTypeOf(typ string) bool { return strings.EqualFold(typ, identityType) }

// CredentialTypeOf says whether an ARM type is a federated identity
// credential's.
func CredentialTypeOf(typ string) bool { return strings.EqualFold(typ, credentialType) }

// CredentialParent is the resource id of the identity a federated
// credential's id names ("" when it names none).
func CredentialParent(id string) string {
	i := strings.Index(strings.ToLower(id), "/federatedidentitycredentials/")
	if i < 0 {
		return ""
	}
	return id[:i]
}

// AddIdentity adds an identity, or fills the one of the same resource id
// already read (its federated credentials kept).
func (d *Data) AddIdentity(m ManagedIdentity) {
	if x := d.identity(m.ID); x != nil {
		creds := x.FederatedCredentials
		*x = m
		for _, c := range m.FederatedCredentials {
			creds = upsertCredential(creds, c)
		}
		x.FederatedCredentials = creds
		return
	}
	d.Identities = append(d.Identities, m)
}

// AddCredential adds a federated credential to the identity its id names;
// an identity not read yet is added by its id alone (no client id: no
// service account can name it until the identity itself is read).
func (d *Data) AddCredential(c FederatedCredential) {
	parent := CredentialParent(c.ID)
	x := d.identity(parent)
	if x == nil {
		d.Identities = append(d.Identities, ManagedIdentity{ID: parent, Name: parent[strings.LastIndexByte(parent, '/')+1:]})
		x = &d.Identities[len(d.Identities)-1]
	}
	x.FederatedCredentials = upsertCredential(x.FederatedCredentials, c)
}

func upsertCredential(creds []FederatedCredential, c FederatedCredential) []FederatedCredential {
	if j := slices.IndexFunc(creds, func(y FederatedCredential) bool { return strings.EqualFold(y.ID, c.ID) }); j >= 0 {
		creds[j] = c
		return creds
	}
	return append(creds, c)
}

func (d *Data) identity(id string) *ManagedIdentity {
	id = strings.TrimSuffix(id, "/")
	for i := range d.Identities {
		if strings.EqualFold(strings.TrimSuffix(d.Identities[i].ID, "/"), id) {
			return &d.Identities[i]
		}
	}
	return nil
}

// Workload identity match outcomes.
const (
	// WorkloadMatched: a federated credential accepts the account's
	// token; its pods act as the identity.
	WorkloadMatched = "matched"
	// WorkloadNoCredential: the identity was read, none of its federated
	// credentials accepts the account's token: no access.
	WorkloadNoCredential = "no-matching-credential"
	// WorkloadIdentityUnknown: no identity read has the client id (it may
	// be another identity's, or an app registration's, not read).
	WorkloadIdentityUnknown = "identity-not-read"
	// WorkloadCredentialsUnknown: the identity was read, its federated
	// credentials could not be: whether one matches is unknown.
	WorkloadCredentialsUnknown = "credentials-not-read"
	// WorkloadIssuerUnknown: the cluster's OIDC issuer is not known
	// (no managed cluster read, or it has none): matching is unknown.
	WorkloadIssuerUnknown = "issuer-unknown"
)

// ServiceAccountSubject is the subject claim of an account's token.
func ServiceAccountSubject(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// CredentialMiss says why a federated credential does not accept a
// token of issuer and subject with the exchange audience; "" when it
// does. The comparisons are Entra's: exact strings.
func (c *FederatedCredential) CredentialMiss(issuer, subject string) string {
	var miss []string
	if c.Issuer != issuer {
		miss = append(miss, "issuer "+c.Issuer+" is not the cluster's "+issuer)
	}
	if c.Subject != subject {
		miss = append(miss, "subject "+c.Subject+" is not "+subject)
	}
	if !slices.Contains(c.Audiences, TokenExchangeAudience) {
		miss = append(miss, "audiences do not hold "+TokenExchangeAudience)
	}
	return strings.Join(miss, "; ")
}

// WorkloadMatch is what an annotated service account's client id leads
// to: the identity and the credential that accepts its token, or why
// none does.
type WorkloadMatch struct {
	Status     string
	Identity   *ManagedIdentity
	Credential *FederatedCredential
	// Misses say, per federated credential of the identity, why it does
	// not accept the token (WorkloadNoCredential).
	Misses []CredentialMiss
}

// CredentialMiss is one federated credential that does not match.
type CredentialMiss struct {
	Credential string `json:"credential"`
	Why        string `json:"why"`
}

// MatchWorkload matches service account namespace/name, annotated with
// clientID, to an identity read, as Entra does, with the cluster's OIDC
// issuer URL (from the managed cluster read; "" when not known).
func (d *Data) MatchWorkload(issuer, namespace, name, clientID string) WorkloadMatch {
	var id *ManagedIdentity
	for i := range d.Identities {
		if d.Identities[i].ClientID != "" && strings.EqualFold(d.Identities[i].ClientID, clientID) {
			id = &d.Identities[i]
			break
		}
	}
	if id == nil {
		return WorkloadMatch{Status: WorkloadIdentityUnknown}
	}
	if issuer == "" {
		return WorkloadMatch{Status: WorkloadIssuerUnknown, Identity: id}
	}
	subject := ServiceAccountSubject(namespace, name)
	m := WorkloadMatch{Status: WorkloadNoCredential, Identity: id}
	for i := range id.FederatedCredentials {
		c := &id.FederatedCredentials[i]
		why := c.CredentialMiss(issuer, subject)
		if why == "" {
			return WorkloadMatch{Status: WorkloadMatched, Identity: id, Credential: c}
		}
		m.Misses = append(m.Misses, CredentialMiss{Credential: c.Name, Why: why})
	}
	if id.CredentialsUnread != "" {
		// None of those read matches, and others may.
		m.Status = WorkloadCredentialsUnknown
	}
	return m
}

// IdentityAssignment is one role assignment of an identity's principal,
// at any scope, with its role's name.
type IdentityAssignment struct {
	Assignment       string `json:"assignment"`
	Scope            string `json:"scope"`
	RoleName         string `json:"roleName"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	Conditional      bool   `json:"conditional,omitempty"`
}

// AssignmentsOfIdentity are the role assignments that name the identity's
// principal (object) id, at every scope read.
func (d *Data) AssignmentsOfIdentity(m *ManagedIdentity) []IdentityAssignment {
	if m.PrincipalID == "" {
		return nil
	}
	d.prepare()
	var out []IdentityAssignment
	for _, a := range d.AssignmentsOf([]string{m.PrincipalID}) {
		out = append(out, IdentityAssignment{Assignment: a.ID, Scope: a.Scope, RoleName: d.RoleName(a.RoleDefinitionID),
			RoleDefinitionID: a.RoleDefinitionID, Conditional: a.Condition != ""})
	}
	return out
}

// RoleName is a role definition's name: the data's, else the built-in
// role's of that id, else the definition's GUID.
func (d *Data) RoleName(id string) string {
	d.prepare()
	if r := d.roles[roleKey(id)]; r != nil && r.Name != "" {
		return r.Name
	}
	if r, ok := builtinRoles[roleKey(id)]; ok {
		return r.Name
	}
	if r, ok := keyVaultSecretReaders[roleKey(id)]; ok {
		return r.Name
	}
	return roleKey(id)
}

// RoleWrites says whether a role grants writing Azure resources: an
// action `*`, or one ending in /write, /delete or /* (the roles whose
// holder changes what it reaches: Owner, Contributor and their kind).
// known is false when the role's definition is neither read nor a
// built-in role the tool knows.
func (d *Data) RoleWrites(roleDefinitionID string) (writes, known bool) {
	d.prepare()
	r, _ := d.controlRole(roleDefinitionID)
	if r == nil {
		return false, false
	}
	for _, p := range r.Permissions {
		for _, a := range p.Actions {
			l := strings.ToLower(a)
			if l == "*" || strings.HasSuffix(l, "/write") || strings.HasSuffix(l, "/delete") || strings.HasSuffix(l, "/*") {
				return true, true
			}
		}
	}
	return false, true
}

// CredentialMatch is one identity's federated credential that accepts a
// service account's tokens.
type CredentialMatch struct {
	Identity   *ManagedIdentity
	Credential *FederatedCredential
}

// CredentialsAccepting are the federated credentials, of every identity
// read, that accept namespace/name's tokens from issuer (exactly as
// MatchWorkload compares). The annotation is not needed for the exchange:
// it only tells the webhook which client id to inject, and any pod of the
// account can mount a token for the exchange audience and name the
// identity's client id (which is no secret) itself.
func (d *Data) CredentialsAccepting(issuer, namespace, name string) []CredentialMatch {
	if issuer == "" {
		return nil
	}
	subject := ServiceAccountSubject(namespace, name)
	var out []CredentialMatch
	for i := range d.Identities {
		m := &d.Identities[i]
		for j := range m.FederatedCredentials {
			if m.FederatedCredentials[j].CredentialMiss(issuer, subject) == "" {
				out = append(out, CredentialMatch{Identity: m, Credential: &m.FederatedCredentials[j]})
			}
		}
	}
	return out
}

// FederatedAccounts are the service accounts (namespace, name) that the
// federated credentials on issuer name, each once, in the data's order.
func (d *Data) FederatedAccounts(issuer string) [][2]string {
	if issuer == "" {
		return nil
	}
	seen := map[[2]string]bool{}
	var out [][2]string
	for i := range d.Identities {
		for _, c := range d.Identities[i].FederatedCredentials {
			rest, ok := strings.CutPrefix(c.Subject, "system:serviceaccount:")
			ns, name, ok2 := strings.Cut(rest, ":")
			if !ok || !ok2 || ns == "" || name == "" || strings.Contains(name, ":") || c.Issuer != issuer {
				continue
			}
			if k := [2]string{ns, name}; !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// GetSecretAction is the dataAction that reads a Key Vault secret's value
// (what the Secrets Store CSI driver does with an identity's token).
const GetSecretAction = "Microsoft.KeyVault/vaults/secrets/getSecret/action"

// keyVaultSecretReaders are the built-in roles that read secrets' values,
// by their stable ids, with the dataActions Azure documents for them: a
// definition in the data takes precedence.
var keyVaultSecretReaders = map[string]RoleDefinition{
	"4633458b-17de-408a-b874-0445c86b69e6": {Name: "Key Vault Secrets User", Permissions: []Permission{{DataActions: []string{"Microsoft.KeyVault/vaults/secrets/getSecret/action", "Microsoft.KeyVault/vaults/secrets/readMetadata/action"}}}},
	"b86a8fe4-44ce-4948-aee5-eccb2c155cd7": {Name: "Key Vault Secrets Officer", Permissions: []Permission{{DataActions: []string{"Microsoft.KeyVault/vaults/secrets/*"}}}},
	"00482a5a-887f-4fb3-b363-3b7fe8e74483": {Name: "Key Vault Administrator", Permissions: []Permission{{DataActions: []string{"Microsoft.KeyVault/vaults/*"}}}},
}

// ReadsSecrets says whether a role reads Key Vault secrets' values
// (GetSecretAction among its dataActions, not excluded). known is false
// when its definition is neither read (with its dataActions) nor one of
// the built-in Key Vault roles.
func (d *Data) ReadsSecrets(roleDefinitionID string) (reads, known bool) {
	d.prepare()
	if r := d.roles[roleKey(roleDefinitionID)]; r != nil {
		return Allows(r.Permissions, GetSecretAction), true
	}
	if r, ok := keyVaultSecretReaders[roleKey(roleDefinitionID)]; ok {
		return Allows(r.Permissions, GetSecretAction), true
	}
	_, known = builtinRoles[roleKey(roleDefinitionID)] // Owner, Contributor: no dataActions
	return false, known
}
