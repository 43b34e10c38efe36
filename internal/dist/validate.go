package dist

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"
)

// Plugin is krew's plugin manifest (sigs.k8s.io/krew/pkg/index, v1alpha2).
type Plugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version          string         `json:"version"`
		ShortDescription string         `json:"shortDescription"`
		Description      string         `json:"description"`
		Caveats          string         `json:"caveats"`
		Homepage         string         `json:"homepage"`
		Platforms        []PluginTarget `json:"platforms"`
	} `json:"spec"`
}

// PluginTarget is one platform of a manifest.
type PluginTarget struct {
	Selector *metav1.LabelSelector `json:"selector"`
	URI      string                `json:"uri"`
	Sha256   string                `json:"sha256"`
	Bin      string                `json:"bin"`
	Files    []FileOperation       `json:"files"`
}

// FileOperation copies From (a glob in the archive) to To.
type FileOperation struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// The rules below are krew's own, ported from sigs.k8s.io/krew v0.4.3
// internal/index/validation/validate.go (Apache-2.0), which is internal to
// its module and so cannot be imported.
var (
	safePluginRegexp = regexp.MustCompile(`^[\w-]+$`)
	validSHA256      = regexp.MustCompile(`^[a-f0-9]{64}$`)
	windowsForbidden = []string{"CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
		"COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9"}
)

// ValidatePlugin checks p as krew's ValidatePlugin does.
func ValidatePlugin(name string, p *Plugin) error {
	if p.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" {
		return fmt.Errorf("plugin manifest has apiVersion=%q, not supported", p.APIVersion)
	}
	if p.Kind != "Plugin" {
		return fmt.Errorf("plugin manifest has kind=%q, but only %q is supported", p.Kind, "Plugin")
	}
	if !safePluginRegexp.MatchString(name) || slicesContainsFold(windowsForbidden, name) {
		return fmt.Errorf("the plugin name %q is not allowed, must match %q", name, safePluginRegexp)
	}
	if p.Metadata.Name != name {
		return fmt.Errorf("plugin should be named %q, not %q", name, p.Metadata.Name)
	}
	if p.Spec.ShortDescription == "" {
		return errors.New("should have a short description")
	}
	if strings.ContainsAny(p.Spec.ShortDescription, "\r\n") {
		return errors.New("should not have line breaks in short description")
	}
	if len(p.Spec.Platforms) == 0 {
		return errors.New("should have a platform specified")
	}
	if p.Spec.Version == "" {
		return errors.New("should have a version specified")
	}
	// krew's semver.Parse: a leading v, then a semantic version.
	if !strings.HasPrefix(p.Spec.Version, "v") {
		return fmt.Errorf("failed to parse plugin version: %q does not start with v", p.Spec.Version)
	}
	if _, err := version.ParseSemantic(strings.TrimPrefix(p.Spec.Version, "v")); err != nil {
		return fmt.Errorf("failed to parse plugin version: %w", err)
	}
	for _, pl := range p.Spec.Platforms {
		if err := validatePlatform(pl); err != nil {
			return fmt.Errorf("platform (%+v) is badly constructed: %w", pl, err)
		}
	}
	return nil
}

func slicesContainsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

func validatePlatform(p PluginTarget) error {
	switch {
	case p.URI == "":
		return errors.New("`uri` has to be set")
	case p.Sha256 == "":
		return errors.New("`sha256` sum has to be set")
	case !validSHA256.MatchString(p.Sha256):
		return fmt.Errorf("`sha256` value %s is not valid, must match pattern %s", p.Sha256, validSHA256)
	case p.Bin == "":
		return errors.New("`bin` has to be set")
	}
	if p.Files != nil {
		if len(p.Files) == 0 {
			return errors.New("`files` is invalid: `files` has to be unspecified or non-empty")
		}
		for _, op := range p.Files {
			if op.From == "" {
				return errors.New("`files` is invalid: `from` field has to be set")
			} else if op.To == "" {
				return errors.New("`files` is invalid: `to` field has to be set")
			}
		}
	}
	sel := p.Selector
	if sel == nil {
		return errors.New("invalid platform selector: nil selector is not supported")
	}
	if sel.MatchLabels == nil && len(sel.MatchExpressions) == 0 {
		return errors.New("invalid platform selector: empty selector is not supported")
	}
	for k := range sel.MatchLabels {
		if k != "os" && k != "arch" {
			return fmt.Errorf("invalid platform selector: key %q not supported", k)
		}
	}
	for _, e := range sel.MatchExpressions {
		if e.Key != "os" && e.Key != "arch" {
			return fmt.Errorf("invalid platform selector: key %q not supported", e.Key)
		}
	}
	if sel.MatchLabels != nil && len(sel.MatchLabels) == 0 {
		return errors.New("invalid platform selector: `matchLabels` specified but empty")
	}
	if sel.MatchExpressions != nil && len(sel.MatchExpressions) == 0 {
		return errors.New("invalid platform selector: `matchExpressions` specified but empty")
	}
	return nil
}

// Validate parses a rendered manifest and checks it as krew-index's CI
// would: krew's rules; every platform of Platforms matched by exactly one
// selector (krew installs the first match, so an overlap would hide one);
// and each archive, found in dir by its URI's file name, has the manifest's
// sha256 and holds every `from` and the `bin`.
func Validate(manifest []byte, dir string) (*Plugin, error) {
	var p Plugin
	if err := yaml.UnmarshalStrict(manifest, &p); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := ValidatePlugin("access", &p); err != nil {
		return nil, err
	}
	for _, pl := range Platforms {
		set := labels.Set{"os": pl.OS, "arch": pl.Arch}
		var matched []int
		for i, t := range p.Spec.Platforms {
			sel, err := metav1.LabelSelectorAsSelector(t.Selector)
			if err != nil {
				return nil, fmt.Errorf("platform %d: %w", i, err)
			}
			if sel.Matches(set) {
				matched = append(matched, i)
			}
		}
		if len(matched) != 1 {
			return nil, fmt.Errorf("%s is matched by %d platform selectors (%v), want exactly 1", pl, len(matched), matched)
		}
	}
	for _, t := range p.Spec.Platforms {
		file := filepath.Join(dir, path.Base(t.URI))
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("archive of %s: %w", t.URI, err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != t.Sha256 {
			return nil, fmt.Errorf("%s: sha256 %x, the manifest says %s", file, sum, t.Sha256)
		}
		names, err := archiveNames(file)
		if err != nil {
			return nil, err
		}
		var installed []string
		for _, f := range t.Files {
			n := 0
			for _, name := range names {
				if ok, _ := path.Match(f.From, name); ok {
					n++
					installed = append(installed, path.Join(f.To, path.Base(name)))
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("%s: no file matches `from: %s` (it holds %v)", file, f.From, names)
			}
		}
		if t.Files == nil {
			installed = names
		}
		if !slices.Contains(installed, t.Bin) {
			return nil, fmt.Errorf("%s: bin %q is not among the installed files %v", file, t.Bin, installed)
		}
	}
	return &p, nil
}

// archiveNames lists the files of a .tar.gz or .zip.
func archiveNames(file string) ([]string, error) {
	if strings.HasSuffix(file, ".zip") {
		r, err := zip.OpenReader(file)
		if err != nil {
			return nil, err
		}
		defer func() { _ = r.Close() }() // read only: its close loses nothing
		var out []string
		for _, f := range r.File {
			out = append(out, f.Name)
		}
		return out, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: its close loses nothing
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, h.Name)
	}
}
