package identity

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Names maps group ids to display names: Entra object ids, and the
// security identifiers (SIDs) of Active Directory groups and users on AKS
// hybrid, whose names are DOMAIN\name.
type Names map[string]string

// Label renders id with its name beside it when known: "GUID (Name)".
func (n Names) Label(id string) string {
	if name, ok := n[id]; ok && name != "" && name != id {
		return id + " (" + name + ")"
	}
	return id
}

// Annotate puts known names beside group ids in a line of text: each
// "group:ID" token (up to a space, comma, semicolon or parenthesis) is
// looked up once, so a names file of thousands of groups costs nothing per
// line and an id that prefixes another is not mistaken for it.
func (n Names) Annotate(text string) string {
	if len(n) == 0 {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "group:")
		if i < 0 {
			b.WriteString(text)
			return b.String()
		}
		i += len("group:")
		b.WriteString(text[:i])
		text = text[i:]
		end := strings.IndexAny(text, " ,;()")
		if end < 0 {
			end = len(text)
		}
		b.WriteString(n.Label(text[:end]))
		text = text[end:]
	}
}

// LoadNames reads a names file: a JSON object {"id": "name"}, a JSON list
// of {"id", "displayName" or "name"} (what `az ad group list --query
// "[].{id:id, displayName:displayName}"` writes), or CSV lines "id,name"
// (a header line is skipped). For AKS hybrid's Active Directory, a SID
// may stand in either column or on either side of the object
// ("name,sid" as `Get-ADGroup -Filter * | Select-Object Name,SID |
// Export-Csv` writes it, or {"CONTOSO\\Domain Admins": "S-1-5-21-..."}),
// and a list entry may give it as "sid" (a string, or PowerShell's
// ConvertTo-Json object {"Value": "S-1-..."}): whichever side is a SID
// is the id. It reads a regular file only, up to
// files.MaxNames (a FIFO or /dev/zero is refused, not waited on or read
// forever), and gives up when ctx ends.
func LoadNames(ctx context.Context, path string) (Names, error) {
	b, err := files.Read(ctx, files.Input{What: "--group-names", Path: path, Max: files.MaxNames})
	if err != nil {
		return nil, err
	}
	return parseNames(path, b)
}

// parseNames reads a names file's content (path is for errors only) and
// refuses the entries that could stand for another group (see
// checkNames).
func parseNames(path string, b []byte) (Names, error) {
	b = bytes.TrimSpace(b)
	out := Names{}
	switch {
	case len(b) == 0:
		return out, nil
	case b[0] == '{':
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("--group-names %s: not a JSON object of id to name: %v", path, err)
		}
		for k, v := range m {
			k, v = sidFirst(k, v)
			out[k] = v
		}
	case b[0] == '[':
		var list []struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
			Name        string `json:"name"`
			SID         sid    `json:"sid"`
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("--group-names %s: not a JSON list of {id, displayName} or {sid, name}: %v", path, err)
		}
		for _, g := range list {
			if id := firstNonEmpty(g.ID, string(g.SID)); id != "" {
				out[id] = firstNonEmpty(g.DisplayName, g.Name)
			}
		}
	default:
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		recs, err := r.ReadAll()
		if err != nil {
			return nil, fmt.Errorf("--group-names %s: not CSV of id,name: %v", path, err)
		}
		for i, rec := range recs {
			if len(rec) < 2 {
				return nil, fmt.Errorf("--group-names %s: line %d: want id,name", path, i+1)
			}
			id, name := sidFirst(strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]))
			if i == 0 && header(id) {
				continue
			}
			out[id] = name
		}
	}
	if err := out.check(); err != nil {
		return nil, fmt.Errorf("--group-names %s: %w", path, err)
	}
	return out, nil
}

// check refuses an entry whose display name is a system: name, an object
// id, a SID, or another entry's id: written in a question, that text means that
// group, never the entry's. The names file is data (an export anyone with
// a group in the tenant can name), so it is refused rather than believed.
func (n Names) check() error {
	ids := make([]string, 0, len(n))
	for id := range n {
		ids = append(ids, id)
	}
	slices.Sort(ids) // the first bad entry, the same every time
	for _, id := range ids {
		name := n[id]
		if name == "" || name == id {
			continue
		}
		_, isID := n[name]
		if literal(name) || isID {
			return fmt.Errorf("the entry %q -> display name %q: a display name that is a system: name, a group's object id or a SID would stand for that group; remove the entry (or rename the group)", id, name)
		}
	}
	return nil
}

// literal says whether a group as written is never a display name: a
// system: name (Kubernetes' own groups, any case), an object id or a SID
// (bare or as microsoft:activedirectory:SID).
func literal(group string) bool {
	if len(group) >= len("system:") && strings.EqualFold(group[:len("system:")], "system:") || rbac.IsGUID(group) || rbac.IsSID(group) {
		return true
	}
	_, _, named := rbac.ADAccount(group)
	return !named && rbac.IsAD(group) // microsoft:activedirectory:SID
}

// sidFirst orders a names entry as id, name: an AD export may put the SID
// second ("name,sid"); whichever side alone is a SID is the id.
func sidFirst(a, b string) (id, name string) {
	if !rbac.IsSID(a) && rbac.IsSID(b) {
		return b, a
	}
	return a, b
}

// header says whether a CSV's first line's id column is a header.
func header(id string) bool {
	switch strings.ToLower(id) {
	case "id", "objectid", "sid", "name", "displayname", "samaccountname":
		return true
	}
	return false
}

// sid reads a SID written as a string or as PowerShell's ConvertTo-Json
// writes a SecurityIdentifier ({"BinaryLength": 28, "Value": "S-1-..."}).
type sid string

func (s *sid) UnmarshalJSON(b []byte) error {
	var v struct{ Value string }
	if json.Unmarshal(b, &v) == nil {
		*s = sid(v.Value)
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	*s = sid(str)
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// Subject renders a subject for a table: a group with its name beside its
// object id when known, and so a user an AD SID names (kubectl-adsso
// nametosid writes users' SIDs into bindings too).
func (n Names) Subject(s rbac.Subject) string {
	switch {
	case s.Kind == rbac.GroupKind:
		return "group:" + n.Label(s.Name)
	case s.Kind == rbac.UserKind && s.PrincipalType == "" && rbac.IsSID(s.Name):
		return "user:" + n.Label(s.Name)
	}
	return s.String()
}

// Resolve reads a group as the user wrote it, in a fixed order: a
// system: name, an object id (GUID) or a SID as it is, never looked up as
// a display name; an id the names know as it is; a display name the names
// know as its id; anything else as it is. Display names are matched
// without regard to case; a name two groups share is an error that lists
// their ids, never a guess. An AD name (DOMAIN\name, or with AKS
// hybrid's microsoft:activedirectory: prefix) is matched without the
// prefix, and a name without a domain matches an AD name's account part
// (group:"Domain Admins" is CONTOSO\Domain Admins when the names hold
// one such group).
func (n Names) Resolve(group string) (string, error) {
	if literal(group) {
		return group, nil
	}
	if _, ok := n[group]; ok || len(n) == 0 {
		return group, nil
	}
	want := group
	if d, a, ok := rbac.ADAccount(group); ok {
		want = d + `\` + a
	}
	var ids []string
	for id, name := range n {
		if name != "" && strings.EqualFold(name, want) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 && !strings.Contains(want, `\`) {
		for id, name := range n {
			if _, account, ok := strings.Cut(name, `\`); ok && rbac.IsSID(id) && strings.EqualFold(account, want) {
				ids = append(ids, id)
			}
		}
	}
	switch len(ids) {
	case 0:
		return group, nil
	case 1:
		return ids[0], nil
	}
	slices.Sort(ids)
	return "", fmt.Errorf("group %q: %d groups have that display name (%s): write the object id", group, len(ids), strings.Join(ids, ", "))
}

// DisplayName is a group's display name, "" when unknown or the same as
// its id.
func (n Names) DisplayName(id string) string {
	if name := n[id]; name != id {
		return name
	}
	return ""
}
