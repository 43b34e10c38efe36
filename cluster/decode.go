package cluster

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// protoMagic starts every protobuf body the API server sends.
var protoMagic = []byte{0x6b, 0x38, 0x73, 0x00} // "k8s\0"

// Field numbers of the messages read here (k8s.io/apimachinery's
// generated.proto): runtime.Unknown, a List, and ObjectMeta.
const (
	unknownTypeMeta        = 1
	unknownRaw             = 2
	unknownContentEncoding = 3
	typeMetaKind           = 2
	listMetadata           = 1
	listItems              = 2
	listMetaContinue       = 3
	metaAnnotations        = 12
	metaManagedFields      = 17
	mapEntryKey            = 1
)

// errNotProtobuf says a body is not a protobuf List: the caller decodes it
// the general way.
var errNotProtobuf = errors.New("not a protobuf list")

// decodeList appends the items of a protobuf LIST response of the given
// kind ("RoleBindingList") to dst, as the protobuf serializer would decode
// them into the typed list and slim would then trim them, in one pass and
// without the copies: the body's envelope is read in place (the
// serializer copies the raw object out of it first), items are decoded
// straight into dst (not into a page slice joined later), and each item's
// managed fields and kubectl's last-applied annotation, which the engine
// never reads, are skipped before decoding, not decoded and then dropped.
// It returns the list's metadata; errNotProtobuf when the body is not a
// protobuf list of that kind.
func decodeList[T any, PT interface {
	*T
	Unmarshal([]byte) error
}](body []byte, kind string, dst []T) ([]T, metav1.ListMeta, error) {
	var meta metav1.ListMeta
	if !bytes.HasPrefix(body, protoMagic) {
		return dst, meta, errNotProtobuf
	}
	var raw []byte
	var gotKind string
	err := fields(body[len(protoMagic):], func(num protowire.Number, v []byte) error {
		switch num {
		case unknownTypeMeta:
			return fields(v, func(num protowire.Number, v []byte) error {
				if num == typeMetaKind {
					gotKind = string(v)
				}
				return nil
			})
		case unknownRaw:
			raw = v
		case unknownContentEncoding:
			if len(v) > 0 {
				return errNotProtobuf // an encoding the serializer would undo
			}
		}
		return nil
	})
	if err != nil || gotKind != kind || raw == nil {
		return dst, meta, errNotProtobuf
	}
	var scratch []byte
	err = fields(raw, func(num protowire.Number, v []byte) error {
		switch num {
		case listMetadata:
			return meta.Unmarshal(v)
		case listItems:
			item, stripErr := stripItem(v, &scratch)
			if stripErr != nil {
				return stripErr
			}
			var zero T
			dst = append(dst, zero)
			return PT(&dst[len(dst)-1]).Unmarshal(item)
		}
		return nil
	})
	if err != nil {
		return dst, meta, fmt.Errorf("decoding a %s: %w", kind, err)
	}
	return dst, meta, nil
}

// stripItem returns the item's bytes without its metadata's managed fields
// and last-applied annotation: the item itself when it has neither, else a
// copy rebuilt in scratch (the generated Unmarshal copies every string and
// byte slice out of what it reads, so scratch is reused).
func stripItem(item []byte, scratch *[]byte) ([]byte, error) {
	meta, ok := field(item, 1)
	if !ok || !dropsSomething(meta) {
		return item, nil
	}
	b := (*scratch)[:0]
	err := rawFields(item, func(num protowire.Number, typ protowire.Type, whole, v []byte) error {
		if num != 1 || typ != protowire.BytesType {
			b = append(b, whole...)
			return nil
		}
		var m []byte
		err := rawFields(v, func(num protowire.Number, typ protowire.Type, whole, v []byte) error {
			if !dropped(num, typ, v) {
				m = append(m, whole...)
			}
			return nil
		})
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
		return err
	})
	*scratch = b
	return b, err
}

func dropsSomething(meta []byte) bool {
	found := false
	_ = rawFields(meta, func(num protowire.Number, typ protowire.Type, _, v []byte) error {
		found = found || dropped(num, typ, v)
		return nil
	})
	return found
}

// dropped says whether an ObjectMeta field is one the engine never reads:
// a managed fields entry, or the last-applied annotation.
func dropped(num protowire.Number, typ protowire.Type, v []byte) bool {
	switch {
	case typ != protowire.BytesType:
		return false
	case num == metaManagedFields:
		return true
	case num == metaAnnotations:
		k, _ := field(v, mapEntryKey)
		return string(k) == corev1.LastAppliedConfigAnnotation
	}
	return false
}

// fields calls f with each length-delimited field of a message, in order;
// other wire types are skipped.
func fields(b []byte, f func(num protowire.Number, v []byte) error) error {
	return rawFields(b, func(num protowire.Number, typ protowire.Type, _, v []byte) error {
		if typ != protowire.BytesType {
			return nil
		}
		return f(num, v)
	})
}

// rawFields calls f with each field of a message: its number, wire type,
// whole encoding (tag included) and, for length-delimited fields, value.
func rawFields(b []byte, f func(num protowire.Number, typ protowire.Type, whole, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			return protowire.ParseError(m)
		}
		whole := b[:n+m]
		var v []byte
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(b[n:])
		}
		if err := f(num, typ, whole, v); err != nil {
			return err
		}
		b = b[n+m:]
	}
	return nil
}

// field returns the first length-delimited field number n of a message.
func field(b []byte, n protowire.Number) ([]byte, bool) {
	var out []byte
	found := false
	_ = rawFields(b, func(num protowire.Number, typ protowire.Type, _, v []byte) error {
		if !found && num == n && typ == protowire.BytesType {
			out, found = v, true
		}
		return nil
	})
	return out, found
}

// peekContinue reads a LIST response's continue token from the front of
// its protobuf body (the envelope's raw object, whose first field is the
// ListMeta) without decoding the items. ok is false when the body is not
// protobuf or not shaped so.
func peekContinue(b []byte) (cont string, ok bool) {
	if !bytes.HasPrefix(b, protoMagic) {
		return "", false
	}
	raw, ok := firstField(b[len(protoMagic):], unknownRaw)
	if !ok {
		return "", false
	}
	meta, ok := firstField(raw, listMetadata)
	if !ok {
		return "", false
	}
	c, found := field(meta, listMetaContinue)
	if !found {
		return "", true // a valid ListMeta without a token: the last page
	}
	return string(c), true
}

// firstField is field, stopping at the first match: the raw object and
// the list's metadata come before the bulk of the body.
func firstField(b []byte, n protowire.Number) ([]byte, bool) {
	for len(b) > 0 {
		num, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, false
		}
		b = b[l:]
		if num == n && typ == protowire.BytesType {
			v, size := protowire.ConsumeBytes(b)
			return v, size >= 0
		}
		l = protowire.ConsumeFieldValue(num, typ, b)
		if l < 0 {
			return nil, false
		}
		b = b[l:]
	}
	return nil, false
}
