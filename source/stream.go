package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

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
func (l *loader) streamSnapshot(r io.Reader, at Location) (end int64, rest io.Reader, err error) {
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
		if err := streamArray(d, func() error { return list(l, d, at) }); err != nil {
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

// streamItem decodes the next element of d into a T and puts it.
func streamItem[T any](d *json.Decoder, put func(*T)) error {
	var o T
	if err := d.Decode(&o); err != nil {
		return err
	}
	put(&o)
	return nil
}

// snapshotLists are a snapshot's large lists, by their JSON names, and
// how an element of each is read into the loader (as merge puts them).
var snapshotLists = map[string]func(l *loader, d *json.Decoder, at Location) error{
	"namespaces": func(l *loader, d *json.Decoder, at Location) error {
		return streamItem(d, func(o *corev1.Namespace) {
			put(l, &l.snap.Namespaces, rbac.ObjectRef{Kind: "Namespace", Name: o.Name}, *o, at)
		})
	},
	"serviceAccounts": func(l *loader, d *json.Decoder, at Location) error {
		return streamItem(d, func(o *corev1.ServiceAccount) {
			put(l, &l.snap.ServiceAccounts, rbac.ObjectRef{Kind: "ServiceAccount", Name: o.Name, Namespace: o.Namespace}, *o, at)
		})
	},
	"roles": func(l *loader, d *json.Decoder, at Location) error {
		return streamItem(d, func(o *rbacv1.Role) {
			put(l, &l.snap.Roles, rbac.ObjectRef{Kind: "Role", Name: o.Name, Namespace: o.Namespace}, *o, at)
		})
	},
	"clusterRoles": func(l *loader, d *json.Decoder, at Location) error {
		return streamItem(d, func(o *rbacv1.ClusterRole) {
			put(l, &l.snap.ClusterRoles, rbac.ObjectRef{Kind: "ClusterRole", Name: o.Name}, *o, at)
		})
	},
	"roleBindings": func(l *loader, d *json.Decoder, at Location) error {
		return streamItem(d, func(o *rbacv1.RoleBinding) {
			put(l, &l.snap.RoleBindings, rbac.ObjectRef{Kind: "RoleBinding", Name: o.Name, Namespace: o.Namespace}, *o, at)
		})
	},
	"clusterRoleBindings": func(l *loader, d *json.Decoder, at Location) error {
		return streamItem(d, func(o *rbacv1.ClusterRoleBinding) {
			put(l, &l.snap.ClusterRoleBindings, rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: o.Name}, *o, at)
		})
	},
	"pods": func(l *loader, d *json.Decoder, at Location) error {
		return streamItem(d, func(o *corev1.Pod) { put(l, &l.snap.Pods, podKey(o), *o, at) })
	},
	"nodes": func(l *loader, d *json.Decoder, at Location) error {
		return streamItem(d, func(o *corev1.Node) {
			put(l, &l.snap.Nodes, rbac.ObjectRef{Kind: "Node", Name: o.Name}, *o, at)
		})
	},
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
func (l *loader) streamFile(ctx context.Context, path string, max int64) (bool, error) {
	f, _, err := files.Open(input(path, max))
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }() // read only: its close loses nothing
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(64 << 10)
	body := bytes.TrimLeft(head, " \t\r\n")
	if !snapshotHead(body) {
		return false, nil
	}
	lead := len(head) - len(body)
	at := Location{File: path, Line: 1 + bytes.Count(head[:lead], []byte("\n"))}
	if _, err := br.Discard(lead); err != nil {
		return false, nil
	}
	cr := &lineCounter{r: io.LimitReader(br, max+1-int64(lead))}
	_, rest, err := l.streamSnapshot(cr, at)
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
		return true, wholeFileError(ctx, l.o, path, max, err)
	}
	if len(bytes.TrimSpace(after)) == 0 {
		return true, nil
	}
	return true, l.documents(path, after, at.Line)
}

// wholeFileError is what reading the file whole says is wrong with it,
// else streamErr.
func wholeFileError(ctx context.Context, o ReadOptions, path string, max int64, streamErr error) error {
	data, err := readFile(ctx, path, max)
	if err != nil {
		return err
	}
	if err := newLoader(o).file(path, data); err != nil {
		return err
	}
	if streamErr == nil {
		streamErr = tooLarge(path, 0, max)
	}
	return fmt.Errorf("read %s: %w", path, streamErr)
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
	return l.snapshots == 0 && l.objects == 0 && l.azureFiles == 0 && len(l.index) == 0 && len(l.warnings) == 0 &&
		l.snap.Azure == nil && l.cluster == "" && !l.snap.GMSAInstalled && len(l.snap.Gaps) == 0
}
