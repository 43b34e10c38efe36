package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/azurerbac"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Location is where an object was read from, for messages and SARIF.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
	// pos is the object's place in its kind's list while the input is
	// read: the loader finds an object given twice by it, rather than
	// in a map of its own beside this one (a hundred thousand objects'
	// keys again).
	pos int
}

func (l Location) String() string { return fmt.Sprintf("%s:%d", l.File, l.Line) }

var yamlLine = regexp.MustCompile(`line (\d+)`)

// shift moves the location to the line a YAML error names (counted from
// the document's start), so the message points at the offending line.
func (l Location) shift(err error) Location {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		if n, e := strconv.Atoi(m[1]); e == nil && n > 0 {
			l.Line += n - 1
		}
	}
	return l
}

type loader struct {
	o          ReadOptions
	snap       *rbac.Snapshot
	where      map[rbac.ObjectRef]Location // an object (its Key) -> where it was read, and its place in its kind's list
	snapshots  int
	objects    int // objects read as manifests (not from snapshots)
	azureFiles int // files of Azure RBAC JSON
	// clusterFiles are files of a managed cluster (az aks show).
	clusterFiles int
	// secrets are the app registrations' password credentials read
	// (az ad app show, az ad app credential list: AppID "", the file's
	// app not said).
	secrets []azurerbac.AppSecrets
	// identityFiles are files of managed identities and federated
	// credentials only.
	identityFiles int
	// azureDenies counts the deny assignments those files held.
	azureDenies int
	// cluster is the first saved snapshot's source ("context NAME"), to
	// say when snapshots of two clusters are merged.
	cluster, clusterAt string
	warnings           []rbac.Warning
}

func newLoader(o ReadOptions) *loader {
	s := rbac.NewSnapshot()
	s.RulesAggregated = true
	return &loader{o: o, snap: s, where: map[rbac.ObjectRef]Location{}}
}

// file reads every document of one input: a JSON stream, or YAML
// documents.
func (l *loader) file(name string, data []byte) error {
	if azureJSON(data) {
		return l.azureFile(name, data)
	}
	if managedClusterJSON(data) {
		return l.managedClusterFile(name, data)
	}
	if appJSON(data) {
		return l.appFile(name, data)
	}
	if jsonStream(data) {
		return l.jsonStream(name, data)
	}
	// The documents before a bad separator are read first, as the
	// reader would have given them, and the error then said at its line.
	docs, sepErr := yamlDocuments(data)
	line := 1
	for _, doc := range docs {
		start := line + leadingBlankLines(doc)
		line += bytes.Count(doc, []byte("\n"))
		if blankYAML(doc) {
			continue
		}
		at := Location{File: name, Line: start}
		if len(doc) >= yamlStreamMin && l.empty() {
			if split, ok := splitYAMLSnapshot(doc); ok && (isSnapshot(split) || isList(split)) {
				var err error
				if isList(split) {
					err = l.listItems(split, at)
				} else {
					_, _, err = l.streamSnapshot(newYAMLSnapshotReader(split), at, yamlCounts(split))
				}
				if err == nil {
					continue
				}
				// Read again whole, which says what is wrong as it
				// always has (or reads what the split could not).
				*l = *newLoader(l.o)
			}
		}
		// Strictly first (duplicate keys, which YAML allows and JSON
		// hides, are refused as kubectl refuses them): one conversion of
		// a clean document rather than two. A document only the lenient
		// conversion reads is refused only if it is of a kind read.
		j, strictErr := yaml.YAMLToJSONStrict(doc)
		if strictErr != nil {
			var err error
			if j, err = yaml.YAMLToJSON(doc); err != nil {
				return fmt.Errorf("%s: not a Kubernetes object: %v", at.shift(err), cleanYAMLError(err))
			}
		}
		if err := l.document(j, strictErr, at); err != nil {
			return err
		}
	}
	if sepErr != nil {
		return fmt.Errorf("%s:%d: %w", name, line, sepErr)
	}
	return nil
}

// jsonStream reads concatenated JSON objects, as kubectl does; anything
// after the last one that is not an object is an error at its line.
func (l *loader) jsonStream(name string, data []byte) error {
	line, counted := 1, 0
	lineAt := func(off int) int {
		line += bytes.Count(data[counted:off], []byte("\n"))
		counted = off
		return line
	}
	// A saved snapshot (usually the whole file) is decoded where it lies,
	// not first copied out as a raw value; what follows it, if anything,
	// is read as the stream's next documents.
	base := 0
	if start := len(data) - len(bytes.TrimLeft(data, " \t\r\n")); snapshotHead(data[start:]) {
		at := Location{File: name, Line: lineAt(start)}
		end, _, err := l.streamSnapshot(bytes.NewReader(data[start:]), at, countLists(bytes.NewReader(data[start:])))
		if err != nil {
			// Broken JSON is said at its line, as the stream below says
			// it; anything else at the snapshot's.
			var raw json.RawMessage
			rd := json.NewDecoder(bytes.NewReader(data[start:]))
			if serr := rd.Decode(&raw); serr != nil {
				off := len(data)
				var syn *json.SyntaxError
				if errors.As(serr, &syn) {
					off = start + int(syn.Offset)
				}
				return fmt.Errorf("%s:%d: not a JSON object: %v", name, lineAt(min(off, len(data))), serr)
			}
			return wholeSnapshotError(l.o, data[start:], at, err)
		}
		base = start + int(end)
	}
	return l.documents(name, data[base:], lineAt(base))
}

// documents reads the JSON documents of data, which begins at line
// first of the file name.
func (l *loader) documents(name string, data []byte, first int) error {
	line, counted := first, 0
	lineAt := func(off int) int {
		line += bytes.Count(data[counted:off], []byte("\n"))
		counted = off
		return line
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var raw json.RawMessage
		before := int(dec.InputOffset())
		err := dec.Decode(&raw)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			off := before
			var syn *json.SyntaxError
			if errors.As(err, &syn) {
				off = int(syn.Offset)
			} else if errors.Is(err, io.ErrUnexpectedEOF) {
				off = len(data)
			}
			return fmt.Errorf("%s:%d: not a JSON object: %v", name, lineAt(min(off, len(data))), err)
		}
		start := before + len(data[before:]) - len(bytes.TrimLeft(data[before:], " \t\r\n"))
		at := Location{File: name, Line: lineAt(start)}
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			continue
		}
		if err := l.document(raw, nil, at); err != nil {
			return err
		}
	}
}

func leadingBlankLines(doc []byte) int {
	n := 0
	for ln := range bytes.Lines(doc) {
		t := bytes.TrimSpace(ln)
		if len(t) != 0 && !bytes.HasPrefix(t, []byte("#")) && !bytes.Equal(t, []byte("---")) {
			break
		}
		n++
	}
	return n
}

// blankYAML says whether doc holds only blank lines, comments and
// document markers: nothing to read. It copies nothing: a document may be
// a snapshot of tens of MiB.
func blankYAML(doc []byte) bool {
	for ln := range bytes.Lines(doc) {
		t := bytes.TrimSpace(ln)
		if len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			return false
		}
	}
	return true
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// snapshotHead says whether j, an object, opens with the fields of a
// saved snapshot ("apiVersion" and "kind" before any other, as snapshot
// writes them), reading no further than those: a saved cluster is tens of
// MiB, and parsing it whole to learn its kind (and again to find where it
// ends) cost as much as decoding it. Anything else, including the same
// fields written otherwise, answers false and is read the general way
// (where, as before, the last of duplicate keys counts); on this path a
// later duplicate of either field is caught when the snapshot is decoded.
func snapshotHead(j []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(j))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	var tm typeMeta
	for range 2 {
		k, err := dec.Token()
		if err != nil {
			return false
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return false
		}
		switch k {
		case "apiVersion":
			tm.APIVersion = v
		case "kind":
			tm.Kind = v
		default:
			return false
		}
	}
	return tm.Kind == rbac.SnapshotKind && tm.APIVersion == rbac.APIVersion
}

// wholeSnapshotError says what is wrong with a snapshot that could not be
// streamed (streamErr) as decoding it whole says it, as it always has;
// only this rare path pays for holding it whole.
func wholeSnapshotError(o ReadOptions, j []byte, at Location, streamErr error) error {
	d := json.NewDecoder(bytes.NewReader(j))
	d.DisallowUnknownFields()
	var s rbac.Snapshot
	if err := d.Decode(&s); err != nil {
		return fmt.Errorf("%s: %s: %v", at, rbac.SnapshotKind, err)
	}
	if err := newLoader(o).addSnapshot(&s, at); err != nil {
		return err
	}
	return streamErr
}

// addSnapshot adds a decoded snapshot's objects. Its kind and apiVersion
// are checked again: given twice, the decoder kept the last of each.
func (l *loader) addSnapshot(s *rbac.Snapshot, at Location) error {
	if s.Kind != rbac.SnapshotKind || s.APIVersion != rbac.APIVersion {
		return fmt.Errorf("%s: %s: its kind or apiVersion is given twice (%s %s)", at, rbac.SnapshotKind, s.APIVersion, s.Kind)
	}
	l.snapshots++
	l.sameCluster(s.Source, at.String())
	l.merge(s, at)
	return nil
}

func (tm typeMeta) group() string {
	if g, _, ok := strings.Cut(tm.APIVersion, "/"); ok {
		return g
	}
	return ""
}

// document decodes one object (as JSON; strictErr is why its YAML
// source failed the strict conversion, duplicate keys, which kubectl
// refuses in the objects it reads).
func (l *loader) document(j []byte, strictErr error, at Location) error {
	var tm typeMeta
	if snapshotHead(j) {
		tm = typeMeta{APIVersion: rbac.APIVersion, Kind: rbac.SnapshotKind}
	} else if err := json.Unmarshal(j, &tm); err != nil {
		return fmt.Errorf("%s: not a Kubernetes object: %v", at, err)
	}
	if tm.Kind == "" {
		return fmt.Errorf("%s: object has no kind", at)
	}
	group := tm.group()
	isList := strings.HasSuffix(tm.Kind, "List") && (tm.APIVersion == "v1" || group == rbacv1.GroupName)
	isSnapshot := tm.Kind == rbac.SnapshotKind && tm.APIVersion == rbac.APIVersion
	if !isList && !isSnapshot && len(j) > MaxObjectBytes {
		return fmt.Errorf("%s: a %s of %d MiB: no Kubernetes object is that large (the API server's store refuses 1.5 MiB); is this file what you meant to read?", at, tm.Kind, len(j)>>20)
	}
	decode := func(into any) error {
		if strictErr != nil {
			return fmt.Errorf("%s: %s: %v", at.shift(strictErr), tm.Kind, cleanYAMLError(strictErr))
		}
		d := json.NewDecoder(bytes.NewReader(j))
		d.DisallowUnknownFields()
		if err := d.Decode(into); err != nil {
			return fmt.Errorf("%s: %s: %v", at, tm.Kind, err)
		}
		return nil
	}
	switch {
	case isList:
		err := l.streamList(json.NewDecoder(bytes.NewReader(j)), at)
		var item itemError
		if err == nil || errors.As(err, &item) {
			return item.error
		}
		// The list itself is malformed: said as decoding it whole says it.
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if uerr := json.Unmarshal(j, &list); uerr != nil {
			err = uerr
		}
		return fmt.Errorf("%s: %s: %v", at, tm.Kind, err)
	case isSnapshot:
		if strictErr != nil {
			return fmt.Errorf("%s: %s: %v", at.shift(strictErr), tm.Kind, cleanYAMLError(strictErr))
		}
		if _, _, err := l.streamSnapshot(bytes.NewReader(j), at, countLists(bytes.NewReader(j))); err != nil {
			return wholeSnapshotError(l.o, j, at, err)
		}
		return nil
	}
	read, ok := kinds[groupKind{group, tm.Kind}]
	if !ok {
		if group == "apiextensions.k8s.io" && tm.Kind == "CustomResourceDefinition" {
			var o struct {
				metav1.ObjectMeta `json:"metadata"`
			}
			if err := json.Unmarshal(j, &o); err == nil && o.Name == "gmsacredentialspecs."+rbac.GMSAGroup {
				l.snap.GMSAInstalled = true
			}
		}
		return nil // a kind the checks do not read
	}
	if group == "" && tm.APIVersion != "v1" {
		return nil // not the core group's
	}
	l.objects++
	return read(l, tm, decode, at)
}

type groupKind struct{ group, kind string }

// kinds are the kinds the engine and the checks read, and how.
var kinds = map[groupKind]func(l *loader, tm typeMeta, decode func(any) error, at Location) error{
	{rbacv1.GroupName, "Role"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.Roles, func(o *rbacv1.Role) *metav1.ObjectMeta { return &o.ObjectMeta }, "Role", true)
	},
	{rbacv1.GroupName, "ClusterRole"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.ClusterRoles, func(o *rbacv1.ClusterRole) *metav1.ObjectMeta { return &o.ObjectMeta }, "ClusterRole", false)
	},
	{rbacv1.GroupName, "RoleBinding"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.RoleBindings, func(o *rbacv1.RoleBinding) *metav1.ObjectMeta { return &o.ObjectMeta }, "RoleBinding", true)
	},
	{rbacv1.GroupName, "ClusterRoleBinding"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.ClusterRoleBindings, func(o *rbacv1.ClusterRoleBinding) *metav1.ObjectMeta { return &o.ObjectMeta }, "ClusterRoleBinding", false)
	},
	{"", "ServiceAccount"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.ServiceAccounts, func(o *corev1.ServiceAccount) *metav1.ObjectMeta { return &o.ObjectMeta }, "ServiceAccount", true)
	},
	{"", "Namespace"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.Namespaces, func(o *corev1.Namespace) *metav1.ObjectMeta { return &o.ObjectMeta }, "Namespace", false)
	},
	{"", "Pod"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		var o corev1.Pod
		if err := decode(&o); err != nil {
			return err
		}
		o.Namespace = l.namespace(o.Namespace)
		put(l, &l.snap.Pods, rbac.ObjectRef{Kind: "Pod", Name: o.Name, Namespace: o.Namespace}, loading.SlimPod(&o), at)
		return nil
	},
	{"", "Node"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		var o corev1.Node
		if err := decode(&o); err != nil {
			return err
		}
		put(l, &l.snap.Nodes, rbac.ObjectRef{Kind: "Node", Name: o.Name}, loading.SlimNode(&o), at)
		return nil
	},
	{"", "Service"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		var o corev1.Service
		if err := decode(&o); err != nil {
			return err
		}
		o.Namespace = l.namespace(o.Namespace)
		put(l, &l.snap.Services, rbac.ObjectRef{Kind: "Service", Name: o.Name, Namespace: o.Namespace},
			corev1.Service{TypeMeta: o.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace}}, at)
		return nil
	},
	{"apps", "Deployment"}: template(func(o *appsv1.Deployment) (*metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.ObjectMeta, &o.Spec.Template
	}),
	{"apps", "StatefulSet"}: template(func(o *appsv1.StatefulSet) (*metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.ObjectMeta, &o.Spec.Template
	}),
	{"apps", "DaemonSet"}: template(func(o *appsv1.DaemonSet) (*metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.ObjectMeta, &o.Spec.Template
	}),
	{"apps", "ReplicaSet"}: template(func(o *appsv1.ReplicaSet) (*metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.ObjectMeta, &o.Spec.Template
	}),
	{"batch", "Job"}: template(func(o *batchv1.Job) (*metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.ObjectMeta, &o.Spec.Template
	}),
	{"batch", "CronJob"}: template(func(o *batchv1.CronJob) (*metav1.ObjectMeta, *corev1.PodTemplateSpec) {
		return &o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template
	}),
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.MutatingWebhooks, func(o *admissionregistrationv1.MutatingWebhookConfiguration) *metav1.ObjectMeta { return &o.ObjectMeta }, "MutatingWebhookConfiguration", false)
	},
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.ValidatingWebhooks, func(o *admissionregistrationv1.ValidatingWebhookConfiguration) *metav1.ObjectMeta {
			return &o.ObjectMeta
		}, "ValidatingWebhookConfiguration", false)
	},
	{"networking.k8s.io", "NetworkPolicy"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.NetworkPolicies, func(o *networkingv1.NetworkPolicy) *metav1.ObjectMeta { return &o.ObjectMeta }, "NetworkPolicy", true)
	},
	{rbac.PodIdentityGroup, "AzurePodIdentityException"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		return read(l, decode, at, &l.snap.PodIdentityExceptions, func(o *rbac.AzurePodIdentityException) *metav1.ObjectMeta { return &o.ObjectMeta }, "AzurePodIdentityException", true)
	},
	{rbac.GMSAGroup, "GMSACredentialSpec"}: func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		l.snap.GMSAInstalled = true
		return read(l, decode, at, &l.snap.GMSACredentialSpecs, func(o *rbac.GMSACredentialSpec) *metav1.ObjectMeta { return &o.ObjectMeta }, "GMSACredentialSpec", false)
	},
}

// read decodes an object of a list kind and puts it in its list.
func read[T any](l *loader, decode func(any) error, at Location, list *[]T, meta func(*T) *metav1.ObjectMeta, kind string, namespaced bool) error {
	var o T
	if err := decode(&o); err != nil {
		return err
	}
	m := meta(&o)
	switch {
	case namespaced:
		m.Namespace = l.namespace(m.Namespace)
	case m.Namespace != "":
		// The API server identifies a cluster-scoped object by its name
		// alone and drops a namespace given for it (charts ship
		// ClusterRoleBindings with one): the same object, however its
		// copies say it.
		l.warnings = append(l.warnings, rbac.Warnf(WarnStrayNamespace, "%s %s at %s is cluster-scoped: its metadata.namespace %q is ignored, as the API server ignores it", kind, m.Name, at, m.Namespace))
		m.Namespace = ""
	}
	put(l, list, rbac.ObjectRef{Kind: kind, Name: m.Name, Namespace: m.Namespace}, o, at)
	return nil
}

// template reads a workload controller: the pod its template makes,
// named and owned after the workload.
func template[T any](parts func(*T) (*metav1.ObjectMeta, *corev1.PodTemplateSpec)) func(*loader, typeMeta, func(any) error, Location) error {
	return func(l *loader, tm typeMeta, decode func(any) error, at Location) error {
		var o T
		if err := decode(&o); err != nil {
			return err
		}
		meta, t := parts(&o)
		meta.Namespace = l.namespace(meta.Namespace)
		put(l, &l.snap.Pods, rbac.ObjectRef{Kind: tm.Kind, Name: meta.Name, Namespace: meta.Namespace},
			loading.PodFromTemplate(tm.APIVersion, tm.Kind, *meta, t), at)
		return nil
	}
}

// namespace is where a namespaced object goes: its own, else -n, else
// default, as kubectl apply places it.
func (l *loader) namespace(ns string) string {
	switch {
	case ns != "":
		return ns
	case l.o.Namespace != "":
		return l.o.Namespace
	}
	return "default"
}

// put adds obj to its list, or replaces the object of the same kind,
// namespace and name read before: the last one counts, as kubectl apply
// would leave the cluster, and a warning names both places.
func put[T any](l *loader, list *[]T, ref rbac.ObjectRef, obj T, at Location) {
	key := ref.Key()
	prev, dup := l.where[key]
	if !dup {
		at.pos = len(*list)
		*list = append(*list, obj)
		l.where[key] = at
		return
	}
	i := prev.pos
	same := reflect.DeepEqual((*list)[i], obj)
	(*list)[i] = obj
	at.pos = i
	l.where[key] = at
	if same {
		l.warnings = append(l.warnings, rbac.Warnf(WarnDuplicate, "%s is given twice, identically (%s and %s): counted once", ref, prev, at))
		return
	}
	l.warnings = append(l.warnings, rbac.Warnf(WarnDuplicate, "%s is given twice and the two differ (%s and %s): the last one counts, as kubectl apply would leave it", ref, prev, at))
}

// sameCluster warns when a snapshot saved from one context is merged with
// one saved from another: one view of two clusters answers for neither.
func (l *loader) sameCluster(src, at string) {
	if !strings.HasPrefix(src, "context ") {
		return
	}
	switch {
	case l.cluster == "":
		l.cluster, l.clusterAt = src, at
	case src != l.cluster:
		l.warnings = append(l.warnings, rbac.Warnf(WarnMerged, "snapshots of two clusters are merged into one view (%s at %s, %s at %s), which answers for neither: "+
			"read each alone, or write them with snapshot --all-contexts --dir DIR and read the directory as a fleet", l.cluster, l.clusterAt, src, at))
	}
}

// merge adds a saved snapshot's objects, each through put.
func (l *loader) merge(s *rbac.Snapshot, at Location) {
	// Room for the snapshot's objects at once: a saved cluster holds tens
	// of thousands, and growing into them a doubling at a time cost a
	// fifth of reading one.
	n := len(s.Namespaces) + len(s.ServiceAccounts) + len(s.Roles) + len(s.ClusterRoles) + len(s.RoleBindings) + len(s.ClusterRoleBindings) + len(s.Pods)
	if len(l.where) == 0 && n > 1024 {
		l.where = make(map[rbac.ObjectRef]Location, n)
	}
	l.snap.Namespaces = slices.Grow(l.snap.Namespaces, len(s.Namespaces))
	l.snap.ServiceAccounts = slices.Grow(l.snap.ServiceAccounts, len(s.ServiceAccounts))
	l.snap.Roles = slices.Grow(l.snap.Roles, len(s.Roles))
	l.snap.ClusterRoles = slices.Grow(l.snap.ClusterRoles, len(s.ClusterRoles))
	l.snap.RoleBindings = slices.Grow(l.snap.RoleBindings, len(s.RoleBindings))
	l.snap.ClusterRoleBindings = slices.Grow(l.snap.ClusterRoleBindings, len(s.ClusterRoleBindings))
	l.snap.Pods = slices.Grow(l.snap.Pods, len(s.Pods))
	for _, o := range s.Namespaces {
		put(l, &l.snap.Namespaces, rbac.ObjectRef{Kind: "Namespace", Name: o.Name}, o, at)
	}
	for _, o := range s.ServiceAccounts {
		put(l, &l.snap.ServiceAccounts, rbac.ObjectRef{Kind: "ServiceAccount", Name: o.Name, Namespace: o.Namespace}, o, at)
	}
	for _, o := range s.Roles {
		put(l, &l.snap.Roles, rbac.ObjectRef{Kind: "Role", Name: o.Name, Namespace: o.Namespace}, o, at)
	}
	for _, o := range s.ClusterRoles {
		put(l, &l.snap.ClusterRoles, rbac.ObjectRef{Kind: "ClusterRole", Name: o.Name}, o, at)
	}
	for _, o := range s.RoleBindings {
		put(l, &l.snap.RoleBindings, rbac.ObjectRef{Kind: "RoleBinding", Name: o.Name, Namespace: o.Namespace}, o, at)
	}
	for _, o := range s.ClusterRoleBindings {
		put(l, &l.snap.ClusterRoleBindings, rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: o.Name}, o, at)
	}
	for _, o := range s.Pods {
		put(l, &l.snap.Pods, podKey(&o), o, at)
	}
	for _, o := range s.Nodes {
		put(l, &l.snap.Nodes, rbac.ObjectRef{Kind: "Node", Name: o.Name}, o, at)
	}
	for _, o := range s.Services {
		put(l, &l.snap.Services, rbac.ObjectRef{Kind: "Service", Name: o.Name, Namespace: o.Namespace}, o, at)
	}
	for _, o := range s.GMSACredentialSpecs {
		put(l, &l.snap.GMSACredentialSpecs, rbac.ObjectRef{Kind: "GMSACredentialSpec", Name: o.Name}, o, at)
	}
	for _, o := range s.NetworkPolicies {
		put(l, &l.snap.NetworkPolicies, rbac.ObjectRef{Kind: "NetworkPolicy", Name: o.Name, Namespace: o.Namespace}, o, at)
	}
	for _, o := range s.PodIdentityExceptions {
		put(l, &l.snap.PodIdentityExceptions, rbac.ObjectRef{Kind: "AzurePodIdentityException", Name: o.Name, Namespace: o.Namespace}, o, at)
	}
	for _, o := range s.MutatingWebhooks {
		put(l, &l.snap.MutatingWebhooks, rbac.ObjectRef{Kind: "MutatingWebhookConfiguration", Name: o.Name}, o, at)
	}
	for _, o := range s.ValidatingWebhooks {
		put(l, &l.snap.ValidatingWebhooks, rbac.ObjectRef{Kind: "ValidatingWebhookConfiguration", Name: o.Name}, o, at)
	}
	l.snap.Gaps = append(l.snap.Gaps, s.Gaps...)
	l.snap.GMSAInstalled = l.snap.GMSAInstalled || s.GMSAInstalled
	l.snap.NetworkPoliciesListed = l.snap.NetworkPoliciesListed || s.NetworkPoliciesListed
	if p := s.AzureRBAC; p != nil && (l.snap.AzureRBAC == nil || p.State == rbac.ProbeActive) {
		l.snap.AzureRBAC = p // Azure RBAC found in any snapshot read counts
	}
	if s.Probes != nil {
		l.snap.Probes = s.Probes // a saved snapshot keeps what the live probes found
	}
	if s.Discovery != nil {
		if l.snap.Discovery != nil && !reflect.DeepEqual(l.snap.Discovery, s.Discovery) {
			l.warnings = append(l.warnings, rbac.Warnf(WarnDiscoveryDiffers, "%s was taken from a server that serves other resources than the first snapshot read: names are resolved with the first one's discovery", at.File))
		} else {
			l.snap.Discovery = s.Discovery // the server it came from resolves names
		}
	}
	if s.Azure != nil {
		l.mergeAzure(s.Azure)
	}
	if !s.RulesAggregated {
		l.objects++ // treat as raw objects: compute aggregation
	}
}

// podKey is how a pod is told apart: a workload's template by the
// workload, a pod by itself.
func podKey(p *corev1.Pod) rbac.ObjectRef {
	if p.Annotations[rbac.TemplateAnnotation] == "true" && len(p.OwnerReferences) > 0 {
		return rbac.ObjectRef{Kind: p.OwnerReferences[0].Kind, Name: p.OwnerReferences[0].Name, Namespace: p.Namespace}
	}
	return rbac.ObjectRef{Kind: "Pod", Name: p.Name, Namespace: p.Namespace}
}

// finish decides, once everything is read, what the input leaves open:
// aggregation is computed unless only live snapshots were read, and a
// binding's missing role is Kubernetes' default of that name or a gap.
func (l *loader) finish() {
	if l.objects > 0 {
		l.snap.RulesAggregated = false
	}
	if l.objects == 0 {
		return // live snapshots: a missing role is missing on the cluster
	}
	l.resolveRoles()
}

// cleanYAMLError drops the library's "error converting YAML to JSON:"
// preamble.
func cleanYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "error converting YAML to JSON: ")
	s = strings.TrimPrefix(s, "error unmarshaling JSON: while decoding JSON: ")
	return s
}

// resolveRoles settles what a binding's missing role is. Offline input
// seldom holds the roles Kubernetes creates itself (cluster-admin, admin,
// edit, view, the system: roles): a binding to one of those gets
// Kubernetes' default (and, for an aggregated default, the defaults it
// aggregates), with a warning. Any other missing role is a gap: the
// cluster may hold it, so what the binding grants is unknown, and every
// answer it could change says so.
func (l *loader) resolveRoles() {
	defaults := Defaults()
	haveCR := map[string]bool{}
	for _, cr := range l.snap.ClusterRoles {
		haveCR[cr.Name] = true
	}
	haveRole := map[rbac.ObjectRef]bool{}
	for _, r := range l.snap.Roles {
		haveRole[rbac.ObjectRef{Kind: "Role", Name: r.Name, Namespace: r.Namespace}] = true
	}
	type need struct {
		ref rbac.ObjectRef
		by  string // the binding that needs it, for the gap's reason
	}
	var queue []need
	queued := map[rbac.ObjectRef]bool{}
	want := func(ref rbac.ObjectRef, by string) {
		if ref.Kind == "ClusterRole" && haveCR[ref.Name] || ref.Kind == "Role" && haveRole[ref] || queued[ref] {
			return
		}
		queued[ref] = true
		queue = append(queue, need{ref, by})
	}
	for _, b := range l.snap.ClusterRoleBindings {
		if b.RoleRef.Kind == "ClusterRole" {
			want(rbac.ObjectRef{Kind: "ClusterRole", Name: b.RoleRef.Name}, "ClusterRoleBinding "+b.Name)
		}
	}
	for _, b := range l.snap.RoleBindings {
		switch b.RoleRef.Kind {
		case "ClusterRole":
			want(rbac.ObjectRef{Kind: "ClusterRole", Name: b.RoleRef.Name}, "RoleBinding "+b.Namespace+"/"+b.Name)
		case "Role":
			want(rbac.ObjectRef{Kind: "Role", Name: b.RoleRef.Name, Namespace: b.Namespace}, "RoleBinding "+b.Namespace+"/"+b.Name)
		}
	}
	var taken []string
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if d, ok := defaults.find(n.ref); ok {
			switch o := d.(type) {
			case rbacv1.ClusterRole:
				l.snap.ClusterRoles = append(l.snap.ClusterRoles, o)
				haveCR[o.Name] = true
				for _, src := range defaults.aggregatedBy(&o) {
					want(rbac.ObjectRef{Kind: "ClusterRole", Name: src}, "ClusterRole "+o.Name)
				}
			case rbacv1.Role:
				l.snap.Roles = append(l.snap.Roles, o)
				haveRole[n.ref] = true
			}
			taken = append(taken, n.ref.String())
			continue
		}
		resource := "clusterroles"
		if n.ref.Kind == "Role" {
			resource = "roles"
		}
		l.snap.Gaps = append(l.snap.Gaps, rbac.Gap{Resource: resource, Name: n.ref.Name, Namespace: n.ref.Namespace,
			Reason: fmt.Sprintf("%s references it, and the input holds no such %s (nor is it one of Kubernetes' default roles): add it to the input, or read the cluster", n.by, n.ref.Kind)})
	}
	if len(taken) > 0 {
		l.warnings = append(l.warnings, rbac.Warnf(WarnDefaults, "the input references %d of Kubernetes' default roles without holding them; they are taken from Kubernetes %s's default policy: %s",
			len(taken), DefaultsVersion, strings.Join(taken, ", ")))
	}
}
