package audit

import (
	"encoding/json"
	"fmt"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/internal/jsontext"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// SharePaths readies the report to be written as a document: each
// distinct path of the findings' evidence once in Paths, each distinct
// object and subject they name once in Objects and Subjects, in the order
// first met, and each finding's evidence, objects and subjects written as
// indexes into them. On a dense
// cluster thousands of findings run through the same few paths (a role
// bound in many namespaces, a team's binding behind each of its risks):
// each is written once instead of once per finding.
func (r *Report) SharePaths() {
	paths, subjects := table[rbac.Path]{}, table[rbac.Subject]{}
	var key []byte // reused: a key is copied only when new
	// RBAC paths are told apart by their binding (found by the pointer
	// the index's paths share, else by its name), then by role and rule
	// among that binding's few: no key is built for them. A path's rule
	// is first compared by the memory its lists share with the index's
	// other paths of that rule, then field by field.
	type seenPath struct {
		role rbac.ObjectRef
		rule rbacv1.PolicyRule
		ref  int
	}
	byPointer := map[*rbac.ObjectRef]*[]seenPath{}
	byBinding := map[rbac.ObjectRef]*[]seenPath{}
	pathRef := func(p *rbac.Path) int {
		if p.Azure != nil || p.Binding == nil {
			key = appendPathKey(key[:0], p)
			return paths.ref(*p, key)
		}
		seen := byPointer[p.Binding]
		if seen == nil {
			if seen = byBinding[*p.Binding]; seen == nil {
				seen = new([]seenPath)
				byBinding[*p.Binding] = seen
			}
			byPointer[p.Binding] = seen
		}
		for k := range *seen {
			if s := &(*seen)[k]; sameLists(&s.rule, &p.Rule) && s.role == p.Role {
				return s.ref
			}
		}
		for k := range *seen {
			if s := &(*seen)[k]; sameRule(&s.rule, &p.Rule) && s.role == p.Role {
				return s.ref
			}
		}
		ref := paths.add(*p)
		*seen = append(*seen, seenPath{p.Role, p.Rule, ref})
		return ref
	}
	// The three tables are independent: made at once, each walking the
	// findings and setting its own field of each (a dense cluster's
	// report has tens of thousands, and writing waits for all three).
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range r.Findings {
			f := &r.Findings[i]
			f.refs = make([]int, len(f.Evidence))
			for j := range f.Evidence {
				f.refs[j] = pathRef(&f.Evidence[j])
			}
		}
	})
	objects := map[rbac.ObjectRef]int{}
	var objectList []rbac.ObjectRef
	wg.Go(func() {
		for i := range r.Findings {
			f := &r.Findings[i]
			f.objRefs = make([]int, len(f.Objects))
			for j := range f.Objects {
				o := &f.Objects[j]
				k, ok := objects[*o]
				if !ok {
					k = len(objectList)
					objects[*o] = k
					objectList = append(objectList, *o)
				}
				f.objRefs[j] = k
			}
		}
	})
	var subjectKey []byte
	for i := range r.Findings {
		f := &r.Findings[i]
		f.subjectRefs = make([]int, len(f.Subjects))
		for j := range f.Subjects {
			s := &f.Subjects[j]
			subjectKey = appendFields(subjectKey[:0], s.Kind, s.Namespace, s.Name, s.DisplayName, s.ObjectID, s.PrincipalType)
			subjectKey = appendFields(subjectKey, s.Groups...)
			f.subjectRefs[j] = subjects.ref(*s, subjectKey)
		}
	}
	wg.Wait()
	r.Paths, r.Objects, r.Subjects = paths.all(), (&table[rbac.ObjectRef]{items: objectList}).all(), subjects.all()
}

// sameLists says whether a and b hold the same lists in the same memory.
func sameLists(a, b *rbacv1.PolicyRule) bool {
	same := func(x, y []string) bool { return len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0]) }
	return same(a.Verbs, b.Verbs) && same(a.APIGroups, b.APIGroups) && same(a.Resources, b.Resources) &&
		same(a.ResourceNames, b.ResourceNames) && same(a.NonResourceURLs, b.NonResourceURLs)
}

// appendPathKey appends what tells p from every other path: its binding,
// role and rule, field by field (an Azure path: its JSON).
func appendPathKey(b []byte, p *rbac.Path) []byte {
	if p.Azure != nil {
		j, _ := p.MarshalJSON() // written by hand, never fails
		return append(append(b, 'a'), j...)
	}
	if p.Binding != nil {
		b = appendFields(append(b, 'b'), p.Binding.APIVersion, p.Binding.Kind, p.Binding.Namespace, p.Binding.Name)
	}
	b = appendFields(append(b, 'r'), p.Role.APIVersion, p.Role.Kind, p.Role.Namespace, p.Role.Name)
	rule := &p.Rule
	for _, list := range [][]string{rule.Verbs, rule.APIGroups, rule.Resources, rule.ResourceNames, rule.NonResourceURLs} {
		b = appendFields(append(b, 2), list...)
	}
	return b
}

// appendFields appends each field and a separator no name holds.
func appendFields(b []byte, fields ...string) []byte {
	for _, f := range fields {
		b = append(append(b, f...), 0)
	}
	return b
}

// table keeps each distinct item once, told apart by a key.
type table[T any] struct {
	at    map[string]int
	items []T
}

// ref is the index of v, whose key is key, added when new.
func (t *table[T]) ref(v T, key []byte) int {
	if t.at == nil {
		t.at = map[string]int{}
	}
	if k, ok := t.at[string(key)]; ok {
		return k
	}
	t.at[string(key)] = len(t.items)
	t.items = append(t.items, v)
	return len(t.items) - 1
}

// add adds v, told apart from the others by its caller, and gives its
// index.
func (t *table[T]) add(v T) int {
	t.items = append(t.items, v)
	return len(t.items) - 1
}

// all are the items, an empty list rather than none.
func (t *table[T]) all() []T {
	if t.items == nil {
		return []T{}
	}
	return t.items
}

// MarshalJSON writes the finding; after SharePaths its evidence and
// objects are indexes into the report's paths and objects.
func (f Finding) MarshalJSON() ([]byte, error) {
	return f.AppendJSON(nil)
}

// AppendJSON appends what MarshalJSON gives: after SharePaths written by
// hand (a dense cluster's report holds tens of thousands of findings, and
// encoding/json's reflection and its compaction of each finding's JSON
// were most of the time to write them), in the order encoding/json gives
// the fields of Finding with the three lists of indexes last.
func (f *Finding) AppendJSON(b []byte) ([]byte, error) {
	type plain Finding
	if f.refs == nil {
		j, err := json.Marshal((*plain)(f))
		return append(b, j...), err
	}
	b = jsontext.AppendString(append(b, `{"id":`...), f.ID)
	b = jsontext.AppendString(append(b, `,"rule":`...), f.Rule)
	b = jsontext.AppendString(append(b, `,"severity":`...), f.Severity.String())
	b = jsontext.AppendString(append(b, `,"category":`...), string(f.Category))
	b = jsontext.AppendString(append(b, `,"title":`...), f.Title)
	b = jsontext.AppendString(append(b, `,"message":`...), f.Message)
	b = jsontext.AppendBool(append(b, `,"fixable":`...), f.Fixable)
	if f.Managed {
		b = append(b, `,"managed":true`...)
	}
	if f.Default {
		b = append(b, `,"default":true`...)
	}
	if f.Scope != "" {
		b = jsontext.AppendString(append(b, `,"scope":`...), f.Scope)
	}
	if len(f.People) > 0 {
		j, err := json.Marshal(f.People)
		if err != nil {
			return b, err
		}
		b = append(append(b, `,"people":`...), j...)
	}
	b = jsontext.AppendInts(append(b, `,"subjects":`...), f.subjectRefs)
	b = jsontext.AppendInts(append(b, `,"objects":`...), f.objRefs)
	b = jsontext.AppendInts(append(b, `,"evidence":`...), f.refs)
	return append(b, '}'), nil
}

// UnmarshalJSON reads a finding whose evidence and objects are paths and
// objects, or indexes into its report's (which the report resolves).
func (f *Finding) UnmarshalJSON(b []byte) error {
	type plain Finding
	x := struct {
		*plain
		Subjects json.RawMessage `json:"subjects"`
		Objects  json.RawMessage `json:"objects"`
		Evidence json.RawMessage `json:"evidence"`
	}{plain: (*plain)(f)}
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	f.Evidence, f.Objects, f.Subjects, f.refs, f.objRefs, f.subjectRefs = nil, nil, nil, nil, nil, nil
	if err := refsOr(x.Evidence, &f.refs, &f.Evidence); err != nil {
		return err
	}
	if err := refsOr(x.Subjects, &f.subjectRefs, &f.Subjects); err != nil {
		return err
	}
	return refsOr(x.Objects, &f.objRefs, &f.Objects)
}

// refsOr reads raw as indexes into refs, or else as the items themselves.
func refsOr[T any](raw json.RawMessage, refs *[]int, items *[]T) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, refs); err == nil {
		return nil
	}
	*refs = nil
	return json.Unmarshal(raw, items)
}

// UnmarshalJSON reads a report, putting back each finding's paths and
// objects from the report's tables when the finding refers to them.
func (r *Report) UnmarshalJSON(b []byte) error {
	type plain Report
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		var err error
		if f.refs != nil {
			if f.Evidence, err = resolve(f.ID, "evidence", f.refs, r.Paths); err != nil {
				return err
			}
		}
		if f.objRefs != nil {
			if f.Objects, err = resolve(f.ID, "objects", f.objRefs, r.Objects); err != nil {
				return err
			}
		}
		if f.subjectRefs != nil {
			if f.Subjects, err = resolve(f.ID, "subjects", f.subjectRefs, r.Subjects); err != nil {
				return err
			}
		}
		f.refs, f.objRefs, f.subjectRefs = nil, nil, nil
	}
	r.Paths, r.Objects, r.Subjects = nil, nil, nil
	return nil
}

// resolve looks refs up in items.
func resolve[T any](id, what string, refs []int, items []T) ([]T, error) {
	out := make([]T, len(refs))
	for j, k := range refs {
		if k < 0 || k >= len(items) {
			return nil, fmt.Errorf("finding %s: %s %d is not one of the report's %d", id, what, k, len(items))
		}
		out[j] = items[k]
	}
	return out, nil
}
