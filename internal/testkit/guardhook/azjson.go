package guardhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// WriteAzJSON writes the fixture, in dir, as the files kubectl access
// reads with -f and --azure-rbac-from: assignments.json as `az role
// assignment list` prints it, roles.json as ARM's role definition list
// response, denies.json as ARM's deny assignment list response. It
// returns their paths.
func (f *Fixture) WriteAzJSON(dir string) ([]string, error) {
	f.RLock()
	defer f.RUnlock()
	assignments := []map[string]any{}
	for _, a := range f.Assignments {
		m := map[string]any{"id": a.ID, "name": path.Base(a.ID), "scope": a.Scope, "principalId": a.PrincipalID, "principalType": a.PrincipalType,
			"roleDefinitionId": a.RoleID, "type": "Microsoft.Authorization/roleAssignments", "condition": nil}
		if a.Condition != "" {
			m["condition"], m["conditionVersion"] = a.Condition, "2.0"
		}
		if a.PrincipalName != "" {
			m["principalName"] = a.PrincipalName
		}
		assignments = append(assignments, m)
	}
	roles := []map[string]any{}
	for _, r := range f.Roles {
		var perms []map[string]any
		for _, p := range r.Perms {
			perms = append(perms, map[string]any{"actions": []string{}, "notActions": []string{}, "dataActions": nonNil(p.DataActions), "notDataActions": nonNil(p.NotDataActions)})
		}
		roles = append(roles, map[string]any{"id": r.ID, "name": path.Base(r.ID), "type": "Microsoft.Authorization/roleDefinitions",
			"properties": map[string]any{"roleName": r.Name, "type": "CustomRole", "permissions": perms}})
	}
	denies := []map[string]any{}
	for _, d := range f.Denies {
		var ps, ex []map[string]string
		for _, p := range d.Principals {
			ps = append(ps, map[string]string{"id": p, "type": "Group"})
		}
		for _, p := range d.Exclude {
			ex = append(ex, map[string]string{"id": p, "type": "User"})
		}
		denies = append(denies, map[string]any{"id": d.Scope + "/providers/Microsoft.Authorization/denyAssignments/" + d.ID, "name": d.ID,
			"type": "Microsoft.Authorization/denyAssignments", "properties": map[string]any{"denyAssignmentName": d.ID, "scope": d.Scope,
				"permissions": []map[string]any{{"actions": []string{}, "dataActions": nonNil(d.Perm.DataActions), "notDataActions": nonNil(d.Perm.NotDataActions)}},
				"principals":  ps, "excludePrincipals": ex, "doNotApplyToChildScopes": d.NoChildren}})
	}
	var out []string
	for _, file := range []struct {
		name string
		v    any
	}{{"assignments.json", assignments}, {"roles.json", map[string]any{"value": roles}}, {"denies.json", map[string]any{"value": denies}}} {
		b, err := json.MarshalIndent(file.v, "", "  ")
		if err != nil {
			return nil, err
		}
		p := filepath.Join(dir, file.name)
		if err := os.WriteFile(p, append(b, '\n'), 0o600); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// azItem is any one item of the files WriteAzJSON writes, and of `az role
// definition list` (whose fields are not under properties).
type azItem struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Type             string `json:"type"`
	Scope            string `json:"scope"`
	PrincipalID      string `json:"principalId"`
	PrincipalType    string `json:"principalType"`
	PrincipalName    string `json:"principalName"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	Condition        string `json:"condition"`
	RoleName         string `json:"roleName"`
	Permissions      []struct {
		DataActions    []string `json:"dataActions"`
		NotDataActions []string `json:"notDataActions"`
	} `json:"permissions"`
	Principals        []struct{ ID string } `json:"principals"`
	ExcludePrincipals []struct{ ID string } `json:"excludePrincipals"`
	NoChildren        bool                  `json:"doNotApplyToChildScopes"`
	Properties        *azItem               `json:"properties"`
}

// ReadAzJSON reads a fixture for the cluster from files in the shapes
// WriteAzJSON writes (also `az role definition list`'s), each a list or
// an object with a value list.
func ReadAzJSON(cluster string, files ...string) (*Fixture, error) {
	f := &Fixture{Cluster: cluster}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var items []azItem
		if err := json.Unmarshal(b, &items); err != nil {
			var list struct{ Value []azItem }
			if err2 := json.Unmarshal(b, &list); err2 != nil {
				return nil, fmt.Errorf("%s: neither a list nor an object with a value list: %w", name, errors.Join(err, err2))
			}
			items = list.Value
		}
		for _, it := range items {
			p := it
			if it.Properties != nil {
				p = *it.Properties
			}
			typ := strings.ToLower(it.Type)
			switch {
			case strings.HasSuffix(typ, "/roleassignments"):
				f.Assignments = append(f.Assignments, Assignment{ID: it.ID, Scope: p.Scope, PrincipalID: p.PrincipalID, PrincipalType: p.PrincipalType,
					PrincipalName: p.PrincipalName, RoleID: p.RoleDefinitionID, Condition: p.Condition})
			case strings.HasSuffix(typ, "/roledefinitions"):
				r := Role{ID: it.ID, Name: p.RoleName}
				for _, x := range p.Permissions {
					r.Perms = append(r.Perms, Perm{DataActions: x.DataActions, NotDataActions: x.NotDataActions})
				}
				f.Roles = append(f.Roles, r)
			case strings.HasSuffix(typ, "/denyassignments"):
				d := Deny{ID: it.Name, Scope: p.Scope, NoChildren: p.NoChildren}
				for _, x := range p.Principals {
					d.Principals = append(d.Principals, x.ID)
				}
				for _, x := range p.ExcludePrincipals {
					d.Exclude = append(d.Exclude, x.ID)
				}
				if len(p.Permissions) != 1 {
					return nil, fmt.Errorf("%s: deny assignment %s has %d permissions; the webhook decides with exactly one", name, it.ID, len(p.Permissions))
				}
				d.Perm = Perm{DataActions: p.Permissions[0].DataActions, NotDataActions: p.Permissions[0].NotDataActions}
				f.Denies = append(f.Denies, d)
			default:
				return nil, fmt.Errorf("%s: an item of type %q (%s) is no role assignment, role definition or deny assignment", name, it.Type, it.ID)
			}
		}
	}
	return f, nil
}
