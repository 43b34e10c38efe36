package cmd

import (
	"fmt"
	"io"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// printDoors lists the ways in through Azure's control plane, apart from
// the authorizer's answer: azure-credential (a credential whose identity
// the cluster allows it), azure-reconfigure (can change who may).
func printDoors(w io.Writer, names identity.Names, doors []rbac.AzureDoor) {
	if len(doors) == 0 {
		return
	}
	fmt.Fprintf(w, "\nThrough Azure's control plane (the managed cluster and its role assignments): %d more\n", len(doors))
	t := newTable(w)
	fmt.Fprintln(t, "SUBJECT\tDOOR\tVIA\tWHICH")
	for i := range doors {
		d := &doors[i]
		name := names.Subject(d.Subject)
		if d.Subject.DisplayName != "" {
			name += " (" + d.Subject.DisplayName + ")"
		}
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", cell(name), d.Kind, cell(access.DoorRole(d)+" at "+rbac.AzureScopeName(d.Scope)), cell(d.What))
	}
	_ = t.Flush()
}

// doorRows are the doors as rows of a flat table (csv, markdown), as
// paths are: subject, display name, where, binding, role, rule.
func doorRows(doors []rbac.AzureDoor) [][]string {
	var out [][]string
	for i := range doors {
		d := &doors[i]
		out = append(out, []string{d.Subject.String(), d.Subject.DisplayName, access.ClusterWide,
			access.DoorAssignment(d), access.DoorRole(d), access.DoorStep(d)})
	}
	return out
}

// printSubjectDoors says a subject's ways in through Azure's control
// plane, under its own answer (which stays the authorizer's).
func printSubjectDoors(w io.Writer, doors []rbac.AzureDoor) {
	if len(doors) == 0 {
		return
	}
	fmt.Fprintln(w, "through Azure's control plane (beside the authorizer's answer above):")
	for i := range doors {
		d := &doors[i]
		fmt.Fprintf(w, "  %s: %s\n    via %s -> %s -> %s\n", d.Kind, cell(d.What), cell(access.DoorAssignment(d)), cell(access.DoorRole(d)), cell(access.DoorStep(d)))
	}
}

// printWorkloadIdentities says the Azure identities a service account's
// pods act as (annotation -> federated credential -> identity -> role
// assignments), beside what the cluster's authorizer grants it, and the
// annotations that grant nothing or are not known to.
func printWorkloadIdentities(w io.Writer, ws []rbac.WorkloadIdentity) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintln(w, "\nacts in Azure through workload identity (beside the authorizer's answer above):")
	for i := range ws {
		x := &ws[i]
		if !x.Acts() {
			fmt.Fprintf(w, "  not as client id %s (%s): %s\n", cell(x.ClientID), x.Status, cell(x.Why))
			for _, m := range x.Misses {
				fmt.Fprintf(w, "    federated credential %s: %s\n", cell(m.Credential), cell(m.Why))
			}
			continue
		}
		ids := "client id " + x.Identity.ClientID + ", object id " + x.Identity.PrincipalID
		if x.Identity.PrincipalID == "" {
			ids = "client id " + x.Identity.ClientID + ", object id not known: no role assignment read names it"
		}
		if x.Identity.ClientID == "" {
			ids = "the identity itself was not read: " + x.Identity.ID
		}
		fmt.Fprintf(w, "  %s %s (%s)\n", x.Identity.What(), cell(x.Identity.Name), cell(ids))
		fmt.Fprintf(w, "    via %s -> federated credential %s (issuer %s, subject %s) -> %s %s\n",
			cell(workloadStart(x)), cell(x.FederatedCredential.Name), cell(x.FederatedCredential.Issuer), cell(x.FederatedCredential.Subject), x.Identity.What(), cell(x.Identity.Name))
		if x.Annotation == "" {
			fmt.Fprintf(w, "    %s\n", cell(x.Why))
		}
		if len(x.RoleAssignments) == 0 {
			if x.Annotation != "" { // else the why above says it
				fmt.Fprintln(w, "    no role assignment of the identity was read")
			}
			continue
		}
		t := newTable(w)
		fmt.Fprintln(t, "    ROLE\tSCOPE\tASSIGNMENT")
		for _, a := range x.RoleAssignments {
			role := a.RoleName
			if a.Conditional {
				role += " (conditional)"
			}
			fmt.Fprintf(t, "    %s\t%s\t%s\n", cell(role), cell(rbac.AzureScopeName(a.Scope)), cell(a.Assignment))
		}
		_ = t.Flush()
	}
}

// workloadRows are the role assignments a service account reaches through
// workload identity as rows of a flat table (csv, markdown): where (the
// Azure scope), the identity, the path, the role.
func workloadRows(ws []rbac.WorkloadIdentity) [][]string {
	var out [][]string
	for i := range ws {
		x := &ws[i]
		if !x.Acts() {
			continue
		}
		path := workloadStart(x) + " -> federated credential " + x.FederatedCredential.Name
		for _, a := range x.RoleAssignments {
			out = append(out, []string{rbac.AzureScopeName(a.Scope), x.Identity.What() + " " + x.Identity.Name, path, a.RoleName})
		}
	}
	return out
}

// workloadStart is access.WorkloadStart.
var workloadStart = access.WorkloadStart

// printAzureReach lists the managed identities a subject acts as by a step
// in the cluster, the most severe first, each with its steps and the path
// that allows each step. A step the subject takes as a member of a group
// (or of system:authenticated) says so.
func printAzureReach(w io.Writer, names identity.Names, asked rbac.Subject, rs []access.AzureReach) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nacts in Azure by a step in the cluster (beside the authorizer's answer above; who-can act-as IDENTITY lists everyone):")
	last := ""
	for i := range rs {
		r := &rs[i]
		if id := access.ReachIdentity(r); id != last {
			fmt.Fprintf(w, "  %s: %s\n", r.Severity, cell(id))
			last = id
		}
		by := access.ReachWords(&r.IdentityReach)
		if r.Subject.Key() != asked.Key() {
			by += " (as a member of " + names.Subject(r.Subject) + ")"
		}
		if len(r.Evidence) > 0 {
			by += ", via " + access.PathVia(r.Evidence[0])
			if len(r.Evidence) > 1 {
				by += fmt.Sprintf(" (+%d)", len(r.Evidence)-1)
			}
		}
		fmt.Fprintf(w, "    %s\n", cell(by))
	}
}
