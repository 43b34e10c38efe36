package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// Location is where an object was read from, for messages and SARIF.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line"`
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

// Files loads a snapshot from files, directories (recursively: *.yaml,
// *.yml, *.json) and "-" for stdin. Multi-document YAML, JSON, List kinds
// (kubectl get -o yaml) and saved snapshots are understood; other kinds are
// skipped. A malformed document is an error naming the file and line.
// Aggregated ClusterRoles are computed from their aggregationRule unless
// every input was a snapshot of a live cluster.
func Files(paths []string, stdin io.Reader) (*rbac.Snapshot, map[rbac.ObjectRef]Location, error) {
	l := &loader{snap: rbac.NewSnapshot(), where: map[rbac.ObjectRef]Location{}}
	l.snap.RulesAggregated = true
	var files []string
	for _, p := range paths {
		if p == "-" {
			files = append(files, "-")
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				if !d.IsDir() {
					found = append(found, path)
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", p, err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	sawObjects := false
	for _, f := range files {
		var data []byte
		var err error
		name := f
		if f == "-" {
			name = "<stdin>"
			if stdin == nil {
				return nil, nil, errors.New("-f -: no standard input")
			}
			data, err = io.ReadAll(stdin)
		} else {
			data, err = os.ReadFile(f)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		n, err := l.file(name, data)
		if err != nil {
			return nil, nil, err
		}
		sawObjects = sawObjects || n > 0
	}
	if !l.sawSnapshotOnly() && sawObjects {
		l.snap.RulesAggregated = false
	}
	l.snap.Source = strings.Join(paths, ",")
	return l.snap, l.where, nil
}

type loader struct {
	snap      *rbac.Snapshot
	where     map[rbac.ObjectRef]Location // an object (its Key) -> where it was read
	snapshots int
	objects   int
}

func (l *loader) sawSnapshotOnly() bool { return l.snapshots > 0 && l.objects == 0 }

// file reads every document of one file and returns how many objects it
// held.
func (l *loader) file(name string, data []byte) (int, error) {
	before := l.objects + l.snapshots
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	line := 1
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		start := line + leadingBlankLines(doc)
		line += bytes.Count(doc, []byte("\n"))
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		if err := l.document(doc, Location{File: name, Line: start}); err != nil {
			return 0, err
		}
	}
	return l.objects + l.snapshots - before, nil
}

func leadingBlankLines(doc []byte) int {
	n := 0
	for _, ln := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(ln)
		if len(t) != 0 && !bytes.HasPrefix(t, []byte("#")) && !bytes.Equal(t, []byte("---")) {
			break
		}
		n++
	}
	return n
}

func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, ln := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(ln)
		if bytes.HasPrefix(t, []byte("#")) || bytes.Equal(t, []byte("---")) {
			continue
		}
		out = append(out, ln)
	}
	return bytes.Join(out, []byte("\n"))
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// document decodes one YAML or JSON document.
func (l *loader) document(doc []byte, at Location) error {
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return fmt.Errorf("%s: not a Kubernetes object: %v", at.shift(err), cleanYAMLError(err))
	}
	if tm.Kind == "" {
		return fmt.Errorf("%s: object has no kind", at)
	}
	group := tm.APIVersion
	if i := strings.Index(group, "/"); i >= 0 {
		group = group[:i]
	} else {
		group = ""
	}
	decode := func(into any) error {
		if err := yaml.UnmarshalStrict(doc, into); err != nil {
			return fmt.Errorf("%s: %s: %v", at.shift(err), tm.Kind, cleanYAMLError(err))
		}
		return nil
	}
	key := func(ns, name string) rbac.ObjectRef { return rbac.ObjectRef{Kind: tm.Kind, Name: name, Namespace: ns} }
	switch {
	case strings.HasSuffix(tm.Kind, "List") && (tm.APIVersion == "v1" || group == rbacv1.GroupName):
		var list struct {
			Items []rawDoc `json:"items"`
		}
		if err := yaml.Unmarshal(doc, &list); err != nil {
			return fmt.Errorf("%s: %s: %v", at, tm.Kind, cleanYAMLError(err))
		}
		for _, item := range list.Items {
			if err := l.document(item, at); err != nil {
				return err
			}
		}
		return nil
	case tm.Kind == rbac.SnapshotKind && tm.APIVersion == rbac.APIVersion:
		var s rbac.Snapshot
		if err := decode(&s); err != nil {
			return err
		}
		l.snapshots++
		l.merge(&s)
		return nil
	case group == rbacv1.GroupName || tm.APIVersion == "v1":
	default:
		return l.workload(tm, group, doc, at, decode)
	}
	l.objects++
	switch tm.Kind {
	case "Role":
		var o rbacv1.Role
		if err := decode(&o); err != nil {
			return err
		}
		l.where[key(o.Namespace, o.Name)] = at
		l.snap.Roles = append(l.snap.Roles, o)
	case "ClusterRole":
		var o rbacv1.ClusterRole
		if err := decode(&o); err != nil {
			return err
		}
		l.where[key("", o.Name)] = at
		l.snap.ClusterRoles = append(l.snap.ClusterRoles, o)
	case "RoleBinding":
		var o rbacv1.RoleBinding
		if err := decode(&o); err != nil {
			return err
		}
		if o.Namespace == "" {
			o.Namespace = "default" // as kubectl apply would place it
		}
		l.where[key(o.Namespace, o.Name)] = at
		l.snap.RoleBindings = append(l.snap.RoleBindings, o)
	case "ClusterRoleBinding":
		var o rbacv1.ClusterRoleBinding
		if err := decode(&o); err != nil {
			return err
		}
		l.where[key("", o.Name)] = at
		l.snap.ClusterRoleBindings = append(l.snap.ClusterRoleBindings, o)
	case "ServiceAccount":
		var o corev1.ServiceAccount
		if err := decode(&o); err != nil {
			return err
		}
		if o.Namespace == "" {
			o.Namespace = "default"
		}
		l.where[key(o.Namespace, o.Name)] = at
		l.snap.ServiceAccounts = append(l.snap.ServiceAccounts, o)
	case "Namespace":
		var o corev1.Namespace
		if err := decode(&o); err != nil {
			return err
		}
		l.where[key("", o.Name)] = at
		l.snap.Namespaces = append(l.snap.Namespaces, o)
	default:
		l.objects--
		return l.workload(tm, group, doc, at, decode)
	}
	return nil
}

// workload reads the kinds the gMSA and workload checks need: pods and
// the pod templates of workload controllers, nodes, services, admission
// webhooks, gMSA credential specs and the gMSA CRD itself.
func (l *loader) workload(tm typeMeta, group string, doc []byte, at Location, decode func(any) error) error {
	key := func(ns, name string) rbac.ObjectRef { return rbac.ObjectRef{Kind: tm.Kind, Name: name, Namespace: ns} }
	orDefault := func(ns string) string {
		if ns == "" {
			return "default"
		}
		return ns
	}
	template := func(meta metav1.ObjectMeta, t *corev1.PodTemplateSpec) {
		meta.Namespace = orDefault(meta.Namespace)
		l.where[key(meta.Namespace, meta.Name)] = at
		l.snap.Pods = append(l.snap.Pods, PodFromTemplate(tm.APIVersion, tm.Kind, meta, t))
	}
	switch {
	case tm.APIVersion == "v1" && tm.Kind == "Pod":
		var o corev1.Pod
		if err := decode(&o); err != nil {
			return err
		}
		o.Namespace = orDefault(o.Namespace)
		l.where[key(o.Namespace, o.Name)] = at
		l.snap.Pods = append(l.snap.Pods, SlimPod(&o))
	case tm.APIVersion == "v1" && tm.Kind == "Node":
		var o corev1.Node
		if err := decode(&o); err != nil {
			return err
		}
		l.where[key("", o.Name)] = at
		l.snap.Nodes = append(l.snap.Nodes, SlimNode(&o))
	case tm.APIVersion == "v1" && tm.Kind == "Service":
		var o corev1.Service
		if err := decode(&o); err != nil {
			return err
		}
		o.Namespace = orDefault(o.Namespace)
		l.where[key(o.Namespace, o.Name)] = at
		l.snap.Services = append(l.snap.Services, corev1.Service{TypeMeta: o.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace}})
	case group == "apps" && tm.Kind == "Deployment":
		var o appsv1.Deployment
		if err := decode(&o); err != nil {
			return err
		}
		template(o.ObjectMeta, &o.Spec.Template)
	case group == "apps" && tm.Kind == "StatefulSet":
		var o appsv1.StatefulSet
		if err := decode(&o); err != nil {
			return err
		}
		template(o.ObjectMeta, &o.Spec.Template)
	case group == "apps" && tm.Kind == "DaemonSet":
		var o appsv1.DaemonSet
		if err := decode(&o); err != nil {
			return err
		}
		template(o.ObjectMeta, &o.Spec.Template)
	case group == "apps" && tm.Kind == "ReplicaSet":
		var o appsv1.ReplicaSet
		if err := decode(&o); err != nil {
			return err
		}
		template(o.ObjectMeta, &o.Spec.Template)
	case group == "batch" && tm.Kind == "Job":
		var o batchv1.Job
		if err := decode(&o); err != nil {
			return err
		}
		template(o.ObjectMeta, &o.Spec.Template)
	case group == "batch" && tm.Kind == "CronJob":
		var o batchv1.CronJob
		if err := decode(&o); err != nil {
			return err
		}
		template(o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template)
	case group == "admissionregistration.k8s.io" && tm.Kind == "MutatingWebhookConfiguration":
		var o admissionregistrationv1.MutatingWebhookConfiguration
		if err := decode(&o); err != nil {
			return err
		}
		l.where[key("", o.Name)] = at
		l.snap.MutatingWebhooks = append(l.snap.MutatingWebhooks, o)
	case group == "admissionregistration.k8s.io" && tm.Kind == "ValidatingWebhookConfiguration":
		var o admissionregistrationv1.ValidatingWebhookConfiguration
		if err := decode(&o); err != nil {
			return err
		}
		l.where[key("", o.Name)] = at
		l.snap.ValidatingWebhooks = append(l.snap.ValidatingWebhooks, o)
	case group == rbac.GMSAGroup && tm.Kind == "GMSACredentialSpec":
		var o rbac.GMSACredentialSpec
		if err := decode(&o); err != nil {
			return err
		}
		l.where[key("", o.Name)] = at
		l.snap.GMSAInstalled = true
		l.snap.GMSACredentialSpecs = append(l.snap.GMSACredentialSpecs, o)
	case group == "apiextensions.k8s.io" && tm.Kind == "CustomResourceDefinition":
		var o struct {
			metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &o); err == nil && o.Name == "gmsacredentialspecs."+rbac.GMSAGroup {
			l.snap.GMSAInstalled = true
		}
	}
	return nil
}

// rawDoc is a List item as sigs.k8s.io/yaml hands it over: JSON.
type rawDoc []byte

func (r *rawDoc) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

func (l *loader) merge(s *rbac.Snapshot) {
	d := l.snap
	d.Namespaces = append(d.Namespaces, s.Namespaces...)
	d.ServiceAccounts = append(d.ServiceAccounts, s.ServiceAccounts...)
	d.Roles = append(d.Roles, s.Roles...)
	d.ClusterRoles = append(d.ClusterRoles, s.ClusterRoles...)
	d.RoleBindings = append(d.RoleBindings, s.RoleBindings...)
	d.ClusterRoleBindings = append(d.ClusterRoleBindings, s.ClusterRoleBindings...)
	d.Gaps = append(d.Gaps, s.Gaps...)
	d.Pods = append(d.Pods, s.Pods...)
	d.Nodes = append(d.Nodes, s.Nodes...)
	d.GMSAInstalled = d.GMSAInstalled || s.GMSAInstalled
	d.GMSACredentialSpecs = append(d.GMSACredentialSpecs, s.GMSACredentialSpecs...)
	d.MutatingWebhooks = append(d.MutatingWebhooks, s.MutatingWebhooks...)
	d.ValidatingWebhooks = append(d.ValidatingWebhooks, s.ValidatingWebhooks...)
	d.Services = append(d.Services, s.Services...)
	if s.Probes != nil {
		d.Probes = s.Probes // a saved snapshot keeps what the live probes found
	}
	if !s.RulesAggregated {
		d.RulesAggregated = false
		l.objects++ // treat as raw objects: compute aggregation
	}
}

// cleanYAMLError drops the library's "error converting YAML to JSON:"
// preamble.
func cleanYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "error converting YAML to JSON: ")
	s = strings.TrimPrefix(s, "error unmarshaling JSON: while decoding JSON: ")
	return s
}
