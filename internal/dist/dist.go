// Package dist builds the release: the plugin cross-compiled for every
// krew platform with CGO_ENABLED=0, reproducible archives (tar.gz, zip on
// Windows) holding the binary, LICENSE, README.md and the kubectl plugin
// completion helper, their checksums, and the krew manifest rendered from
// .krew.yaml the way krew-release-bot renders it.
package dist

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"
)

// Platform is one GOOS/GOARCH the release is built for.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// Platforms are krew's: Linux, macOS and Windows on amd64 and arm64.
var Platforms = []Platform{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// Options say what to build and where.
type Options struct {
	Root      string // the repository
	Out       string // where archives, checksums.txt and access.yaml go
	Version   string // a semantic version with a leading v (krew requires it)
	Commit    string
	Time      time.Time // the modification time of every archived file
	Platforms []Platform
	Log       io.Writer
}

// Archive is one platform's archive.
type Archive struct {
	Platform
	Path   string
	SHA256 string
}

// Result is what Build wrote.
type Result struct {
	Archives  []Archive
	Checksums string // path of checksums.txt
	Manifest  string // path of the rendered krew manifest ("" for a subset of the platforms)
}

const pkg = "github.com/kubectl-access/kubectl-access"

// ArchiveName is the file name of a platform's archive.
func ArchiveName(version string, p Platform) string {
	ext := ".tar.gz"
	if p.OS == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("kubectl-access_%s_%s_%s%s", version, p.OS, p.Arch, ext)
}

// Build cross-compiles, archives, sums and renders the manifest.
func Build(ctx context.Context, o Options) (*Result, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if len(o.Platforms) == 0 {
		o.Platforms = Platforms
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "kubectl-access-dist-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(work) }() // a temporary directory: best effort
	shared := map[string]string{}
	for _, name := range []string{"LICENSE", "README.md", "completion/kubectl_complete-access"} {
		if _, err := os.Stat(filepath.Join(o.Root, name)); err != nil {
			return nil, fmt.Errorf("the archives need %s: %w", name, err)
		}
		shared[filepath.Base(name)] = filepath.Join(o.Root, name)
	}
	res := &Result{}
	for _, p := range o.Platforms {
		fmt.Fprintf(o.Log, "  %s\n", p)
		bin := "kubectl-access"
		if p.OS == "windows" {
			bin += ".exe"
		}
		binPath := filepath.Join(work, p.OS+"-"+p.Arch, bin)
		if err := goBuild(ctx, o, p, binPath); err != nil {
			return nil, err
		}
		entries := []entry{{name: bin, path: binPath, mode: 0o755}, {name: "LICENSE", path: shared["LICENSE"], mode: 0o644}, {name: "README.md", path: shared["README.md"], mode: 0o644}}
		if p.OS != "windows" { // kubectl's plugin completion runs a script; Windows has none
			entries = append(entries, entry{name: "kubectl_complete-access", path: shared["kubectl_complete-access"], mode: 0o755})
		}
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
		path := filepath.Join(o.Out, ArchiveName(o.Version, p))
		var data []byte
		if p.OS == "windows" {
			data, err = zipArchive(entries, o.Time)
		} else {
			data, err = tarGz(entries, o.Time)
		}
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		res.Archives = append(res.Archives, Archive{Platform: p, Path: path, SHA256: hex.EncodeToString(sum[:])})
	}
	var sums strings.Builder
	for _, a := range res.Archives {
		fmt.Fprintf(&sums, "%s  %s\n", a.SHA256, filepath.Base(a.Path))
	}
	res.Checksums = filepath.Join(o.Out, "checksums.txt")
	if err := os.WriteFile(res.Checksums, []byte(sums.String()), 0o644); err != nil {
		return nil, err
	}
	if len(o.Platforms) != len(Platforms) {
		return res, nil // the manifest names every platform's archive
	}
	tmpl, err := os.ReadFile(filepath.Join(o.Root, ".krew.yaml"))
	if err != nil {
		return nil, err
	}
	bySHA := map[string]string{}
	for _, a := range res.Archives {
		bySHA[filepath.Base(a.Path)] = a.SHA256
	}
	manifest, err := RenderKrew(tmpl, o.Version, func(uri string) (string, error) {
		s, ok := bySHA[uri[strings.LastIndex(uri, "/")+1:]]
		if !ok {
			return "", fmt.Errorf("%s: no such archive was built", uri)
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	res.Manifest = filepath.Join(o.Out, "access.yaml")
	return res, os.WriteFile(res.Manifest, manifest, 0o644)
}

func goBuild(ctx context.Context, o Options, p Platform, out string) error {
	ldflags := fmt.Sprintf("-s -w -X %s/internal/version.Version=%s -X %s/internal/version.Commit=%s", pkg, o.Version, pkg, o.Commit)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, "./cmd/kubectl-access")
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", p, err, b)
	}
	return nil
}

type entry struct {
	name, path string
	mode       os.FileMode
}

// tarGz writes entries in order with fixed times, owners and a gzip header
// without name or time: the same inputs give the same bytes.
func tarGz(entries []entry, t time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		data, err := os.ReadFile(e.path)
		if err != nil {
			return nil, err
		}
		h := &tar.Header{Name: e.name, Mode: int64(e.mode), Size: int64(len(data)), ModTime: t.UTC(), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func zipArchive(entries []entry, t time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		data, err := os.ReadFile(e.path)
		if err != nil {
			return nil, err
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: t.UTC()}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RenderKrew renders a krew-release-bot template: {{ .TagName }} is the
// version, and {{ addURIAndSha "URL" .TagName }} (URL itself a template of
// the tag) becomes the archive's uri and sha256 lines, as the bot writes
// them.
func RenderKrew(tmpl []byte, tag string, sha func(uri string) (string, error)) ([]byte, error) {
	data := map[string]string{"TagName": tag}
	funcs := template.FuncMap{
		"addURIAndSha": func(url, tag string) (string, error) {
			t, err := template.New("url").Parse(url)
			if err != nil {
				return "", err
			}
			var b strings.Builder
			if err := t.Execute(&b, map[string]string{"TagName": tag}); err != nil {
				return "", err
			}
			s, err := sha(b.String())
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("uri: %s\n    sha256: %s", b.String(), s), nil
		},
	}
	t, err := template.New(".krew.yaml").Funcs(funcs).Parse(string(tmpl))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := t.Execute(&out, data); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
