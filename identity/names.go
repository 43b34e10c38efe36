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

// Names maps group object ids to display names.
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
// (a header line is skipped). It reads a regular file only, up to
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
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("--group-names %s: not a JSON object of id to name: %v", path, err)
		}
	case b[0] == '[':
		var list []struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
			Name        string `json:"name"`
		}
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("--group-names %s: not a JSON list of {id, displayName}: %v", path, err)
		}
		for _, g := range list {
			if g.ID != "" {
				out[g.ID] = firstNonEmpty(g.DisplayName, g.Name)
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
			id := strings.TrimSpace(rec[0])
			if i == 0 && (strings.EqualFold(id, "id") || strings.EqualFold(id, "objectid")) {
				continue
			}
			out[id] = strings.TrimSpace(rec[1])
		}
	}
	if err := out.check(); err != nil {
		return nil, fmt.Errorf("--group-names %s: %w", path, err)
	}
	return out, nil
}

// check refuses an entry whose display name is a system: name, an object
// id, or another entry's id: written in a question, that text means that
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
			return fmt.Errorf("the entry %q -> display name %q: a display name that is a system: name or a group's object id would stand for that group; remove the entry (or rename the group)", id, name)
		}
	}
	return nil
}

// literal says whether a group as written is never a display name: a
// system: name (Kubernetes' own groups, any case) or an object id.
func literal(group string) bool {
	return len(group) >= len("system:") && strings.EqualFold(group[:len("system:")], "system:") || rbac.IsGUID(group)
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
// object id when known.
func (n Names) Subject(s rbac.Subject) string {
	if s.Kind == rbac.GroupKind {
		return "group:" + n.Label(s.Name)
	}
	return s.String()
}

// Resolve reads a group as the user wrote it, in a fixed order: a
// system: name or an object id (GUID) as it is, never looked up as a
// display name; an id the names know as it is; a display name the names
// know as its id; anything else as it is. Display names are matched
// without regard to case; a name two groups share is an error that lists
// their ids, never a guess.
func (n Names) Resolve(group string) (string, error) {
	if literal(group) {
		return group, nil
	}
	if _, ok := n[group]; ok || len(n) == 0 {
		return group, nil
	}
	var ids []string
	for id, name := range n {
		if name != "" && strings.EqualFold(name, group) {
			ids = append(ids, id)
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
