package audit

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// The azure rules read the Azure role assignments the snapshot holds
// (Azure RBAC for Kubernetes authorization, AKS's guard webhook): grants
// no Kubernetes object shows. Without the Azure data they find nothing,
// and the report is incomplete if the probe found Azure RBAC deciding.

// CategoryAzure are Azure RBAC for Kubernetes authorization's rules.
const CategoryAzure Category = "azure"

func init() {
	register(
		Rule{Name: "azure-cluster-admin", Category: CategoryAzure, Severity: Critical,
			Title: "An Azure role assignment grants cluster-admin",
			Why:   "A role whose dataActions cover every Kubernetes action (Azure Kubernetes Service RBAC Cluster Admin, or a custom role with managedClusters/*) is cluster-admin, granted outside the cluster where kubectl never shows it.",
			Fix:   "Deletes the assignment; with fix --narrow, first assigns the same role at the scopes of the namespaces where the principal works (RoleBindings or other assignments name it there).",
			check: checkAzureClusterAdmin},
		Rule{Name: "azure-secrets-read", Category: CategoryAzure, Severity: High,
			Title: "An Azure role assignment grants reading secrets",
			Why:   "Reading secrets (Azure Kubernetes Service RBAC Writer, Admin, or a custom role) gives every service account token and credential stored in them.",
			Fix:   "Deletes the assignment; with fix --narrow, first assigns the same role in the namespaces where the principal works.",
			check: checkAzureSecrets},
		Rule{Name: "azure-inherited-assignment", Category: CategoryAzure, Severity: High,
			Title: "A role granting Kubernetes access is assigned above the cluster",
			Why:   "An assignment at a management group, subscription or resource group reaches every cluster below it, present and future.",
			Fix:   "Replaces it with assignments at the clusters (or their namespaces) that need it.",
			check: checkAzureInherited},
		Rule{Name: "azure-wildcard-role", Category: CategoryAzure, Severity: Medium,
			Title: "A custom Azure role has wildcard dataActions",
			Why:   "A * in a dataAction grants every action it matches, including those of resources and CRDs added later.",
			Fix:   "Lists the dataActions the role needs in place of the wildcard.",
			check: checkAzureWildcardRoles},
		Rule{Name: "azure-orphaned-assignment", Category: CategoryAzure, Severity: Medium,
			Title: "An Azure role assignment names a principal that no longer exists",
			Why:   "Assignments of deleted users, groups or service principals are left behind; they grant nothing until an object id is reused, and hide what is really assigned.",
			Fix:   "Deletes the assignment.",
			check: checkAzureOrphans},
		Rule{Name: "azure-broad-group", Category: CategoryAzure, Severity: Medium,
			Title: "An Azure role granting Kubernetes access is assigned to a broad group",
			Why:   "A group of many members (hundreds, by Microsoft Graph's count, or named like a tenant-wide group such as All Users) hands the role to everyone in it, and to whoever joins later; nobody reviewing the cluster sees who they are.",
			Fix:   "Assign the role to a group of the people who need it (not fixed automatically: removing it would take access from every member).",
			check: checkAzureBroadGroups},
		Rule{Name: "azure-conditional-assignment", Category: CategoryAzure, Severity: Low,
			Title: "An Azure role or deny assignment carries a condition the tool does not evaluate",
			Why:   "ABAC conditions are not evaluated here: answers the assignment could change are marked incomplete rather than guessed.",
			Fix:   "Review the condition by hand.",
			check: checkAzureConditions},
		Rule{Name: "azure-escalation-path", Category: CategoryAzure, Severity: High,
			Title: "An Azure grant to create pods reaches a service account's RBAC rights",
			Why:   "Whoever may create pods in a namespace may run them as any service account there, and so holds that account's Kubernetes RBAC rights: the Azure grant crosses into RBAC.",
			Fix:   "Deletes the assignment that grants creating pods there (or move the powerful service accounts out of the namespace by hand).",
			check: checkAzureEscalation},
	)
}

// azureAssignment is one assignment with what the checks need of it.
type azureAssignment struct {
	a    *azurerbac.Assignment
	role *azurerbac.RoleDefinition // nil when not read
	ns   string                    // "" at the cluster or above
}

func (c *checker) azureAssignments() (*azurerbac.Data, []azureAssignment) {
	d := c.snap.Azure
	if d == nil {
		return nil, nil
	}
	var out []azureAssignment
	for i := range d.Assignments {
		a := &d.Assignments[i]
		ns, ok := azureNamespaceOf(d, a.Scope)
		if !ok {
			continue // another cluster's
		}
		r, _ := d.Role(a.RoleDefinitionID)
		out = append(out, azureAssignment{a: a, role: r, ns: ns})
	}
	return d, out
}

// azureNamespaceOf is the namespace of a scope under the cluster, "" for
// the cluster and above; ok false for a scope that does not reach it.
func azureNamespaceOf(d *azurerbac.Data, scope string) (string, bool) {
	p := rbac.AzurePath{Scope: scope}
	if ns := p.AzureNamespace(); ns != "" {
		return ns, azurerbac.InScope(d.ClusterID, scope)
	}
	return "", d.Reaches(scope, d.ClusterID)
}

// azureAction is a dataAction of the cluster for a request.
func azureAction(d *azurerbac.Data, a rbac.Attributes) string {
	return azurerbac.DataAction(d.Prefix(), azurerbac.Request{Verb: a.Verb, APIGroup: a.APIGroup, Resource: a.Resource, Subresource: a.Subresource, Path: a.Path})
}

// azureSubject is the finding's subject for an assignment's principal.
func azureSubject(a *azurerbac.Assignment) rbac.Subject {
	switch {
	case strings.EqualFold(a.PrincipalType, rbac.AzureGroup):
		return rbac.Subject{Kind: rbac.GroupKind, Name: a.PrincipalID, DisplayName: a.PrincipalName}
	case strings.EqualFold(a.PrincipalType, rbac.AzureServicePrincipal):
		// Kubernetes sees it as the user its object id names; printed as
		// what it is.
		t := rbac.PrincipalServicePrincipal
		if a.ManagedIdentity {
			t = rbac.PrincipalManagedIdentity
		}
		return rbac.Subject{Kind: rbac.UserKind, Name: a.PrincipalID, ObjectID: a.PrincipalID, DisplayName: a.PrincipalName, PrincipalType: t}
	case a.PrincipalName != "":
		return rbac.Subject{Kind: rbac.UserKind, Name: a.PrincipalName, ObjectID: a.PrincipalID}
	}
	return rbac.Subject{Kind: rbac.UserKind, Name: a.PrincipalID, ObjectID: a.PrincipalID}
}

// azureRef is the finding's object for an assignment or a role.
func azureRef(kind, id string) rbac.ObjectRef {
	return rbac.ObjectRef{APIVersion: "Microsoft.Authorization", Kind: kind, Name: id}
}

func azureEvidence(x azureAssignment, action string) rbac.Path {
	p := rbac.Path{Azure: &rbac.AzurePath{Assignment: x.a.ID, Scope: x.a.Scope, PrincipalID: x.a.PrincipalID, PrincipalType: x.a.PrincipalType,
		PrincipalName: x.a.PrincipalName, RoleDefinitionID: x.a.RoleDefinitionID, DataAction: action}}
	if x.role != nil {
		p.Azure.RoleName = x.role.Name
	}
	return p
}

func azureWhere(x azureAssignment) string {
	if x.ns != "" {
		return "in namespace " + x.ns
	}
	return "cluster-wide (assigned at " + rbac.AzureScopeName(x.a.Scope) + ")"
}

func (c *checker) azureFinding(sev Severity, x azureAssignment, action, msg string) {
	c.add(Finding{Severity: sev, Message: msg, Subjects: []rbac.Subject{azureSubject(x.a)},
		Objects:  []rbac.ObjectRef{azureRef("RoleAssignment", x.a.ID), azureRef("RoleDefinition", x.a.RoleDefinitionID)},
		Evidence: []rbac.Path{azureEvidence(x, action)}})
}

func roleName(x azureAssignment) string {
	if x.role == nil {
		return x.a.RoleDefinitionID
	}
	return fmt.Sprintf("%q", x.role.Name)
}

// adminActions are what cluster-admin means in dataActions: RBAC writes,
// escalate and bind, impersonation, nodes, secrets and exec.
var adminActions = []rbac.Attributes{
	{Verb: "*", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
	{Verb: "escalate", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "impersonate", Resource: "users"},
	{Verb: "delete", Resource: "nodes"},
	{Verb: "get", Resource: "secrets"},
	{Verb: "create", Resource: "pods", Subresource: "exec"},
	{Verb: "create", APIGroup: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
}

func isAzureAdmin(d *azurerbac.Data, r *azurerbac.RoleDefinition) bool {
	if r == nil {
		return false
	}
	for _, a := range adminActions {
		if r.Matching(azureAction(d, a)) == "" {
			return false
		}
	}
	return true
}

func checkAzureClusterAdmin(c *checker) {
	d, xs := c.azureAssignments()
	for _, x := range xs {
		if x.a.Condition != "" || !isAzureAdmin(d, x.role) {
			continue
		}
		sev := Critical
		if x.ns != "" {
			sev = High // every right in one namespace
		}
		c.azureFinding(sev, x, x.role.Matching(azureAction(d, adminActions[0])), fmt.Sprintf("%s holds Azure role %s %s: every Kubernetes action, through Azure RBAC",
			azureSubject(x.a), roleName(x), azureWhere(x)))
	}
}

func checkAzureSecrets(c *checker) {
	d, xs := c.azureAssignments()
	if d == nil {
		return
	}
	read := azureAction(d, rbac.Attributes{Verb: "get", Resource: "secrets"})
	for _, x := range xs {
		if x.a.Condition != "" || x.role == nil || isAzureAdmin(d, x.role) {
			continue // the admin rule reports those
		}
		if da := x.role.Matching(read); da != "" {
			c.azureFinding(High, x, da, fmt.Sprintf("%s may read secrets %s through Azure role %s", azureSubject(x.a), azureWhere(x), roleName(x)))
		}
	}
}

func checkAzureInherited(c *checker) {
	d, xs := c.azureAssignments()
	if d == nil {
		return
	}
	write := azureAction(d, rbac.Attributes{Verb: "create", Resource: "pods"})
	read := azureAction(d, rbac.Attributes{Verb: "get", Resource: "pods"})
	for _, x := range xs {
		if x.ns != "" || azurerbac.InScope(d.ClusterID, x.a.Scope) || x.role == nil || x.a.Condition != "" {
			continue // at the cluster or below; conditions are azure-conditional-assignment's
		}
		sev, what := Medium, "read"
		da := x.role.Matching(read)
		if w := x.role.Matching(write); w != "" {
			sev, what, da = High, "write", w
		}
		if da == "" {
			continue
		}
		c.azureFinding(sev, x, da, fmt.Sprintf("%s holds Azure role %s at %s (%s access): every cluster below that scope grants it, this one included",
			azureSubject(x.a), roleName(x), rbac.AzureScopeName(x.a.Scope), what))
	}
}

// builtinAKSRoles are the GUIDs of Azure's built-in AKS roles (their
// wildcards are Microsoft's to keep, not the tenant's).
var builtinAKSRoles = []string{
	"7f6c6a51-bcf8-42ba-9220-52d62157d7db", // RBAC Reader
	"a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb", // RBAC Writer
	"3498e952-d568-435e-9b2c-8d77e338d7f7", // RBAC Admin
	"b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b", // RBAC Cluster Admin
}

func checkAzureWildcardRoles(c *checker) {
	_, xs := c.azureAssignments()
	seen := map[string]bool{}
	for _, x := range xs {
		if x.role == nil || seen[strings.ToLower(x.role.ID)] {
			continue
		}
		guid := strings.ToLower(x.role.ID[strings.LastIndexByte(x.role.ID, '/')+1:])
		if slices.Contains(builtinAKSRoles, guid) {
			continue
		}
		var wild []string
		for _, p := range x.role.Permissions {
			for _, da := range p.DataActions {
				if strings.Contains(da, "*") {
					wild = append(wild, da)
				}
			}
		}
		if len(wild) == 0 {
			continue
		}
		seen[strings.ToLower(x.role.ID)] = true
		c.add(Finding{Severity: Medium, Message: fmt.Sprintf("custom Azure role %q grants wildcard dataActions %s (assigned to %s %s)", x.role.Name, strings.Join(wild, ", "), azureSubject(x.a), azureWhere(x)),
			Objects: []rbac.ObjectRef{azureRef("RoleDefinition", x.role.ID)}, Evidence: []rbac.Path{azureEvidence(x, wild[0])}})
	}
}

func checkAzureOrphans(c *checker) {
	d, xs := c.azureAssignments()
	if d == nil {
		return
	}
	named := slices.ContainsFunc(d.Assignments, func(a azurerbac.Assignment) bool { return a.PrincipalName != "" })
	for _, x := range xs {
		var gone bool
		switch {
		case d.Directory != nil:
			// Microsoft Graph was asked: it knows every principal that exists.
			gone = d.Directory.Gone(x.a.PrincipalID)
		default:
			// az names every principal it resolves, so an unnamed one
			// among named ones is gone (a service principal may be
			// unnamed when az cannot read applications).
			gone = strings.EqualFold(x.a.PrincipalType, "Unknown") ||
				named && x.a.PrincipalName == "" && !strings.EqualFold(x.a.PrincipalType, rbac.AzureServicePrincipal)
		}
		if gone {
			c.azureFinding(Medium, x, "", fmt.Sprintf("Azure role assignment %s names principal %s (type %s), which Entra no longer resolves", x.a.ID, x.a.PrincipalID, x.a.PrincipalType))
		}
	}
}

// BroadGroupMembers is how many members make a group broad.
const BroadGroupMembers = 100

// broadGroupNames are display names tenant-wide groups go by.
var broadGroupNames = []string{"all users", "all-users", "everyone", "all employees", "all company", "all staff", "all members", "domain users", "all guests", "all tenant"}

// azureBroadGroup says why a group is broad, or "".
func azureBroadGroup(d *azurerbac.Data, a *azurerbac.Assignment) string {
	if !strings.EqualFold(a.PrincipalType, rbac.AzureGroup) {
		return ""
	}
	if o, ok := d.Directory.Object(a.PrincipalID); ok && o.Members != nil {
		if *o.Members >= BroadGroupMembers {
			return fmt.Sprintf("%d members, by Microsoft Graph", *o.Members)
		}
		return "" // counted: the name does not matter
	}
	name := strings.ToLower(a.PrincipalName)
	for _, b := range broadGroupNames {
		if strings.Contains(name, b) {
			return fmt.Sprintf("named like a tenant-wide group (%q)", a.PrincipalName)
		}
	}
	return ""
}

// grantsKubernetes says whether a role has a dataAction of the cluster's
// (less its carve-outs: a role of Kubernetes reads only pods/log is one).
func grantsKubernetes(d *azurerbac.Data, r *azurerbac.RoleDefinition) bool {
	for _, p := range r.Permissions {
		for _, da := range p.DataActions {
			// A dataAction of the cluster, or a wildcard reaching one.
			if azurerbac.MatchAction(da, d.Prefix()+"/pods/read") || strings.HasPrefix(strings.ToLower(da), strings.ToLower(d.Prefix())+"/") {
				return true
			}
		}
	}
	return false
}

func checkAzureBroadGroups(c *checker) {
	d, xs := c.azureAssignments()
	for _, x := range xs {
		if x.role == nil || x.a.Condition != "" || !grantsKubernetes(d, x.role) {
			continue
		}
		if why := azureBroadGroup(d, x.a); why != "" {
			sev := Medium
			if isAzureAdmin(d, x.role) || x.role.Matching(azureAction(d, rbac.Attributes{Verb: "get", Resource: "secrets"})) != "" {
				sev = High
			}
			c.azureFinding(sev, x, "", fmt.Sprintf("group %s (%s) holds Azure role %s %s", cmp.Or(x.a.PrincipalName, x.a.PrincipalID), why, roleName(x), azureWhere(x)))
		}
	}
}

func checkAzureConditions(c *checker) {
	d, xs := c.azureAssignments()
	for _, x := range xs {
		if x.a.Condition != "" {
			c.azureFinding(Low, x, "", fmt.Sprintf("Azure role assignment of %s to %s %s carries a condition that is not evaluated: %s", roleName(x), azureSubject(x.a), azureWhere(x), x.a.Condition))
		}
	}
	if d == nil {
		return
	}
	for _, dn := range d.Denies {
		if dn.Condition != "" {
			c.add(Finding{Severity: Low, Message: fmt.Sprintf("deny assignment %s at %s carries a condition that is not evaluated: %s", dn.ID, rbac.AzureScopeName(dn.Scope), dn.Condition),
				Objects: []rbac.ObjectRef{azureRef("DenyAssignment", dn.ID)}})
		}
	}
}

// powerful are the rights that make a service account worth running a
// pod as, asked in the service account's namespace; the last, creating
// pods in every namespace, is asked across all namespaces (a second hop:
// such a pod may run as any service account, kube-system's controllers
// included).
var powerful = []rbac.Attributes{
	{Verb: "get", Resource: "secrets"},
	{Verb: "create", APIGroup: "rbac.authorization.k8s.io", Resource: "rolebindings"},
	{Verb: "escalate", APIGroup: "rbac.authorization.k8s.io", Resource: "clusterroles"},
	{Verb: "impersonate", Resource: "users"},
	{Verb: "create", Resource: "serviceaccounts", Subresource: "token"},
	{Verb: "create", Resource: "pods"},
}

func checkAzureEscalation(c *checker) {
	d, xs := c.azureAssignments()
	if d == nil {
		return
	}
	create := azureAction(d, rbac.Attributes{Verb: "create", Resource: "pods"})
	// The service accounts per namespace: those that exist and those
	// bindings name.
	sas := map[string][]string{}
	add := func(ns, name string) {
		if !slices.Contains(sas[ns], name) {
			sas[ns] = append(sas[ns], name)
		}
	}
	for _, sa := range c.snap.ServiceAccounts {
		add(sa.Namespace, sa.Name)
	}
	for _, b := range c.bindings() {
		for _, s := range b.Matches() {
			if s.Kind == rbac.ServiceAccountKind {
				add(s.Namespace, s.Name)
			}
		}
	}
	for _, x := range xs {
		if x.a.Condition != "" || x.role == nil || isAzureAdmin(d, x.role) {
			continue // azure-cluster-admin reports those
		}
		da := x.role.Matching(create)
		if da == "" {
			continue
		}
		var reached []string
		var evidence []rbac.Path
		nss := make([]string, 0, len(sas))
		for ns := range sas {
			nss = append(nss, ns)
		}
		slices.Sort(nss)
		for _, ns := range nss {
			if x.ns != "" && ns != x.ns {
				continue
			}
			for _, name := range sas[ns] {
				id := rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: ns, Name: name}.Identity()
				for _, a := range powerful {
					what := a.String()
					if a.Resource == "pods" {
						what += " in every namespace"
					} else {
						a.Namespace = ns
					}
					if res := c.ix.Can(id, a); res.Allowed && len(res.Via) > 0 && res.Via[0].Azure == nil {
						reached = append(reached, fmt.Sprintf("sa:%s:%s (%s)", ns, name, what))
						evidence = append(evidence, res.Via[0])
						break
					}
				}
			}
		}
		if len(reached) == 0 {
			continue
		}
		slices.Sort(reached)
		msg := fmt.Sprintf("%s may create pods %s through Azure role %s, and so run as %s", azureSubject(x.a), azureWhere(x), roleName(x), strings.Join(firstN(reached, 5), ", "))
		if len(reached) > 5 {
			msg += fmt.Sprintf(" and %d more", len(reached)-5)
		}
		c.add(Finding{Severity: High, Message: msg, Subjects: []rbac.Subject{azureSubject(x.a)},
			Objects:  []rbac.ObjectRef{azureRef("RoleAssignment", x.a.ID)},
			Evidence: append([]rbac.Path{azureEvidence(x, da)}, firstN(evidence, 5)...)})
	}
}

func firstN[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}
