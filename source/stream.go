package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// streamSnapshot decodes a saved snapshot in JSON from r an object at a
// time, putting each of its large lists' objects straight into the
// loader: a saved cluster is tens of MiB, and decoding it whole into a
// snapshot of its own before merging held it twice over, beside the
// decoder's copy of its bytes. Every other field (the source, probes,
// discovery, Azure's data: small) is gathered and decoded as before,
// unknown fields refused. It returns where in r the snapshot ended. An
// error here may be said less well than the whole decode would say it;
// the caller asks that one for the message. What r holds after the
// snapshot begins with rest.
func (l *loader) streamSnapshot(r io.Reader, at Location, counts map[string]int) (end int64, rest io.Reader, err error) {
	l.makeRoom(counts)
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return 0, nil, fmt.Errorf("%s: %s: not a JSON object", at, rbac.SnapshotKind)
	}
	// The small fields, written back as an object to decode at the end.
	var others bytes.Buffer
	others.WriteByte('{')
	streamed := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return 0, nil, err
		}
		key, _ := t.(string)
		list, ok := snapshotLists[key]
		if !ok {
			// Another field (or a list's name spelt otherwise, which
			// encoding/json would match): decoded with the others.
			for name := range snapshotLists {
				if strings.EqualFold(name, key) && streamed[name] {
					return 0, nil, fmt.Errorf("%s: %s: %q is given twice", at, rbac.SnapshotKind, name)
				}
			}
			var v json.RawMessage
			if err := d.Decode(&v); err != nil {
				return 0, nil, err
			}
			if others.Len() > 1 {
				others.WriteByte(',')
			}
			k, _ := json.Marshal(key)
			others.Write(k)
			others.WriteByte(':')
			others.Write(v)
			continue
		}
		if streamed[key] {
			return 0, nil, fmt.Errorf("%s: %s: %q is given twice", at, rbac.SnapshotKind, key)
		}
		streamed[key] = true
		list.grow(l, counts[key])
		if err := streamArray(d, func() error { return list.read(l, d, at) }); err != nil {
			return 0, nil, fmt.Errorf("%s: %s: %s: %w", at, rbac.SnapshotKind, key, err)
		}
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return 0, nil, err
	}
	end = d.InputOffset()
	others.WriteByte('}')
	var s rbac.Snapshot
	rd := json.NewDecoder(&others)
	rd.DisallowUnknownFields()
	if err := rd.Decode(&s); err != nil {
		return 0, nil, fmt.Errorf("%s: %s: %v", at, rbac.SnapshotKind, err)
	}
	for name := range snapshotLists {
		if streamed[name] && snapshotListLen(&s, name) > 0 {
			return 0, nil, fmt.Errorf("%s: %s: %q is given twice", at, rbac.SnapshotKind, name)
		}
	}
	return end, d.Buffered(), l.addSnapshot(&s, at)
}

// makeRoom makes the loader's maps, when they are still empty, the size
// of the objects counts says are coming (countLists), so that they are
// not grown a doubling at a time as they are read.
func (l *loader) makeRoom(counts map[string]int) {
	n := 0
	for _, c := range counts {
		n += c
	}
	if len(l.where) == 0 && n > 1024 {
		l.where = make(map[rbac.ObjectRef]Location, n)
	}
}

// streamArray calls item for each element of the JSON array d is at (a
// null is an empty list, as encoding/json reads it into a slice).
func streamArray(d *json.Decoder, item func() error) error {
	t, err := d.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if t != json.Delim('[') {
		return fmt.Errorf("not a list: %v", t)
	}
	for d.More() {
		if err := item(); err != nil {
			return err
		}
	}
	_, err = d.Token()
	return err
}

// snapshotList is one of a snapshot's large lists: how an element is
// read into the loader (as merge puts them), and how the list is made
// room for.
type snapshotList struct {
	read func(l *loader, d *json.Decoder, at Location) error
	grow func(l *loader, n int)
}

// listOf is the snapshotList of the list of Ts list gives, each told
// apart by ref. An element is decoded straight into the list's next
// place, not into a T of its own copied there: at a hundred thousand
// objects the copies were a list's worth of garbage.
func listOf[T any](list func(*rbac.Snapshot) *[]T, ref func(*T) rbac.ObjectRef) snapshotList {
	return snapshotList{
		read: func(l *loader, d *json.Decoder, at Location) error {
			s := list(l.snap)
			var zero T
			*s = append(*s, zero)
			n := len(*s) - 1
			if err := d.Decode(&(*s)[n]); err != nil {
				*s = (*s)[:n]
				return err
			}
			r := ref(&(*s)[n])
			if _, dup := l.where[r.Key()]; dup {
				o := (*s)[n]
				(*s)[n] = zero
				*s = (*s)[:n]
				put(l, s, r, o, at)
				return nil
			}
			at.pos = n
			l.where[r.Key()] = at
			return nil
		},
		grow: func(l *loader, n int) {
			s := list(l.snap)
			*s = slices.Grow(*s, n)
		},
	}
}

// snapshotLists are a snapshot's large lists, by their JSON names.
var snapshotLists = map[string]snapshotList{
	"namespaces": listOf(func(s *rbac.Snapshot) *[]corev1.Namespace { return &s.Namespaces },
		func(o *corev1.Namespace) rbac.ObjectRef { return rbac.ObjectRef{Kind: "Namespace", Name: o.Name} }),
	"serviceAccounts": listOf(func(s *rbac.Snapshot) *[]corev1.ServiceAccount { return &s.ServiceAccounts },
		func(o *corev1.ServiceAccount) rbac.ObjectRef {
			return rbac.ObjectRef{Kind: "ServiceAccount", Name: o.Name, Namespace: o.Namespace}
		}),
	"roles": listOf(func(s *rbac.Snapshot) *[]rbacv1.Role { return &s.Roles },
		func(o *rbacv1.Role) rbac.ObjectRef {
			return rbac.ObjectRef{Kind: "Role", Name: o.Name, Namespace: o.Namespace}
		}),
	"clusterRoles": listOf(func(s *rbac.Snapshot) *[]rbacv1.ClusterRole { return &s.ClusterRoles },
		func(o *rbacv1.ClusterRole) rbac.ObjectRef { return rbac.ObjectRef{Kind: "ClusterRole", Name: o.Name} }),
	"roleBindings": listOf(func(s *rbac.Snapshot) *[]rbacv1.RoleBinding { return &s.RoleBindings },
		func(o *rbacv1.RoleBinding) rbac.ObjectRef {
			return rbac.ObjectRef{Kind: "RoleBinding", Name: o.Name, Namespace: o.Namespace}
		}),
	"clusterRoleBindings": listOf(func(s *rbac.Snapshot) *[]rbacv1.ClusterRoleBinding { return &s.ClusterRoleBindings },
		func(o *rbacv1.ClusterRoleBinding) rbac.ObjectRef {
			return rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: o.Name}
		}),
	"pods": listOf(func(s *rbac.Snapshot) *[]corev1.Pod { return &s.Pods }, podKey),
	"nodes": listOf(func(s *rbac.Snapshot) *[]corev1.Node { return &s.Nodes },
		func(o *corev1.Node) rbac.ObjectRef { return rbac.ObjectRef{Kind: "Node", Name: o.Name} }),
}

// snapshotListLen is how many objects s holds in the list of that name.
func snapshotListLen(s *rbac.Snapshot, name string) int {
	switch name {
	case "namespaces":
		return len(s.Namespaces)
	case "serviceAccounts":
		return len(s.ServiceAccounts)
	case "roles":
		return len(s.Roles)
	case "clusterRoles":
		return len(s.ClusterRoles)
	case "roleBindings":
		return len(s.RoleBindings)
	case "clusterRoleBindings":
		return len(s.ClusterRoleBindings)
	case "pods":
		return len(s.Pods)
	case "nodes":
		return len(s.Nodes)
	}
	return 0
}

// streamList reads a List's items (a JSON object d has not yet opened)
// one at a time as documents, rather than copying them all out first.
func (l *loader) streamList(d *json.Decoder, at Location) error {
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		if key, _ := t.(string); !strings.EqualFold(key, "items") {
			var skip json.RawMessage
			if err := d.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if err := streamArray(d, func() error {
			var item json.RawMessage
			if err := d.Decode(&item); err != nil {
				return err
			}
			if err := l.document(item, nil, at); err != nil {
				return itemError{err}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	_, err := d.Token()
	return err
}

// itemError is an item's own error, located and said already.
type itemError struct{ error }

// streamFile reads a file that opens with a saved snapshot in JSON
// straight from the file, never holding its bytes whole: at 55 MB a
// snapshot's bytes are half what its objects take. It says whether it
// read the file; any other file (YAML, UTF-16, a byte-order mark,
// manifests, Azure's JSON) is read whole as before. What follows the
// snapshot in the file, if anything, is read as the stream's next
// documents. A file that fails is read again whole, for the error as
// reading it whole says it.
func (l *loader) streamFile(ctx context.Context, path, name string, max int64) (bool, error) {
	f, _, err := files.Open(input(path, max))
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }() // read only: its close loses nothing
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(64 << 10)
	body := bytes.TrimLeft(head, " \t\r\n")
	if !snapshotHead(body) {
		// YAML, if it may be a large snapshot or List (not JSON, not
		// UTF-16 or a byte-order mark: those are read whole).
		if fi, err := f.Stat(); err == nil && fi.Size() >= int64(yamlStreamMin) && l.empty() &&
			len(body) > 0 && body[0] != '{' && body[0] != '[' && !bytes.HasPrefix(head, utf8BOM) && utf8.Valid(head[:min(len(head), 4)]) {
			return l.streamYAMLFile(f, name), nil
		}
		return false, nil
	}
	lead := len(head) - len(body)
	at := Location{File: name, Line: 1 + bytes.Count(head[:lead], []byte("\n"))}
	if _, err := br.Discard(lead); err != nil {
		return false, nil
	}
	// The lists' lengths first, from a second read of the file (from the
	// page cache: a fraction of decoding it), so they are made at size.
	counts := countLists(io.NewSectionReader(f, int64(lead), max))
	cr := &lineCounter{r: io.LimitReader(br, max+1-int64(lead))}
	_, rest, err := l.streamSnapshot(cr, at, counts)
	var after []byte
	if err == nil {
		var buffered []byte
		if buffered, err = io.ReadAll(rest); err == nil {
			at.Line += cr.lines - bytes.Count(buffered, []byte("\n"))
			var more []byte
			more, err = io.ReadAll(cr)
			after = append(buffered, more...)
		}
	}
	if err != nil || int64(lead)+cr.n > max {
		return true, wholeFileError(ctx, l.o, path, name, max, err)
	}
	if len(bytes.TrimSpace(after)) == 0 {
		return true, nil
	}
	return true, l.documents(name, after, at.Line)
}

// wholeFileError is what reading the file whole says is wrong with it,
// else streamErr.
func wholeFileError(ctx context.Context, o ReadOptions, path, name string, max int64, streamErr error) error {
	data, err := readFile(ctx, path, name, max)
	if err != nil {
		return err
	}
	if err := newLoader(o).file(name, data); err != nil {
		return err
	}
	if streamErr == nil {
		streamErr = tooLarge(name, 0, max)
	}
	return fmt.Errorf("read %s: %w", name, streamErr)
}

// lineCounter counts the bytes and lines read through it.
type lineCounter struct {
	r     io.Reader
	n     int64
	lines int
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.lines += bytes.Count(p[:n], []byte("\n"))
	return n, err
}

// empty says whether nothing has been read yet: a streamed read that
// fails can then be undone, and the input read again whole.
func (l *loader) empty() bool {
	return l.snapshots == 0 && l.objects == 0 && l.azureFiles == 0 && len(l.where) == 0 && len(l.warnings) == 0 &&
		l.snap.Azure == nil && l.cluster == "" && !l.snap.GMSAInstalled && len(l.snap.Gaps) == 0
}
