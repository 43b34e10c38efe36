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
