package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// printDoc writes a document as JSON or YAML.
func printDoc(w io.Writer, format string, doc any) error {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if format == "yaml" {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

// printWarnings writes warnings and the incomplete mark to stderr, so a
// table on stdout stays clean for grep.
func printWarnings(w io.Writer, incomplete bool, warnings []string) {
	for _, s := range warnings {
		fmt.Fprintf(w, "Warning: %s\n", s)
	}
	if incomplete {
		fmt.Fprintln(w, "INCOMPLETE: parts of the cluster could not be read (see the warnings); an absent grant is unknown, not denied")
	}
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// via renders a path without its rule: "RoleBinding ns/x -> ClusterRole y".
func via(p rbac.Path) string {
	if p.Binding == nil {
		return "(no binding: group system:masters)"
	}
	return shortRef(*p.Binding) + " -> " + shortRef(p.Role)
}

// shortRef abbreviates kinds so a path fits in 80 columns.
func shortRef(r rbac.ObjectRef) string {
	kind := map[string]string{"ClusterRoleBinding": "CRB", "RoleBinding": "RB", "ClusterRole": "CR", "Role": "Role"}[r.Kind]
	if kind == "" {
		kind = r.Kind
	}
	if r.Namespace != "" {
		return kind + " " + r.Namespace + "/" + r.Name
	}
	return kind + " " + r.Name
}

// resources renders a rule's resources with their groups, and its
// resource names and URLs.
func resources(r rbac.GrantedRule) string {
	var parts []string
	for _, res := range r.Resources {
		for _, g := range r.APIGroups {
			if g == "" {
				parts = append(parts, res)
			} else {
				parts = append(parts, res+"."+g)
			}
		}
	}
	parts = append(parts, r.NonResourceURLs...)
	s := strings.Join(parts, ",")
	if len(r.ResourceNames) > 0 {
		s += " [" + strings.Join(r.ResourceNames, ",") + "]"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
