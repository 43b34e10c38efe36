package dist

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestDist builds the release twice from this checkout, as `make dist`
// does: the archives must be byte for byte the same, their manifest must
// pass krew's rules and cover every platform once, and the binaries must
// carry the version.
func TestDist(t *testing.T) {
	root, _ := filepath.Abs("../..")
	// make dist's own command, compiled without the race detector (which
	// makes archiving 35 MB binaries ten times slower): every platform once,
	// then one tar.gz and one zip again for the bytes to compare.
	build := func(platforms string) *Result {
		t.Helper()
		out := t.TempDir()
		cmd := exec.CommandContext(t.Context(), "go", "run", "./hack/dist", "-out", out, "-version", "v1.2.3", "-commit", "0123abc", "-platforms", platforms)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1796083200", "GOFLAGS=")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hack/dist: %v\n%s", err, b)
		}
		res := &Result{Checksums: filepath.Join(out, "checksums.txt"), Manifest: filepath.Join(out, "access.yaml")}
		for _, p := range Platforms {
			path := filepath.Join(out, ArchiveName("v1.2.3", p))
			b, err := os.ReadFile(path)
			if err != nil {
				continue
			}
			sum := sha256.Sum256(b)
			res.Archives = append(res.Archives, Archive{Platform: p, Path: path, SHA256: hex.EncodeToString(sum[:])})
		}
		return res
	}
	a, b := build(""), build("linux/amd64,windows/arm64")
	if len(a.Archives) != len(Platforms) || len(b.Archives) != 2 {
		t.Fatalf("%d and %d archives, want one per platform (%d), then 2", len(a.Archives), len(b.Archives), len(Platforms))
	}
	for _, bb := range b.Archives {
		i := slices.IndexFunc(a.Archives, func(x Archive) bool { return x.Platform == bb.Platform })
		if a.Archives[i].SHA256 != bb.SHA256 {
			t.Errorf("%s: two builds differ (%s vs %s): the archive is not reproducible", bb.Platform, a.Archives[i].SHA256, bb.SHA256)
		}
	}
	dir := filepath.Dir(a.Manifest)
	manifest, err := os.ReadFile(a.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Validate(manifest, dir)
	if err != nil {
		t.Fatalf("the rendered manifest does not validate: %v\n%s", err, manifest)
	}
	if p.Spec.Version != "v1.2.3" || !strings.Contains(p.Spec.Caveats, "kubelogin") {
		t.Errorf("manifest version %q, caveats %q", p.Spec.Version, p.Spec.Caveats)
	}
	sums, _ := os.ReadFile(a.Checksums)
	for _, ar := range a.Archives {
		if !strings.Contains(string(sums), ar.SHA256+"  "+filepath.Base(ar.Path)+"\n") {
			t.Errorf("checksums.txt lacks %s", filepath.Base(ar.Path))
		}
	}
	// The binary for this machine runs and says its version.
	host := Platform{runtime.GOOS, runtime.GOARCH}
	for _, ar := range a.Archives {
		if ar.Platform != host || host.OS == "windows" {
			continue
		}
		bin := extract(t, ar.Path, "kubectl-access")
		out, err := exec.Command(bin, "version", "-o", "json").Output()
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Version, Commit string }
		if err := json.Unmarshal(out, &v); err != nil || v.Version != "v1.2.3" || v.Commit != "0123abc" {
			t.Errorf("version of the archived binary = %s (%v), want v1.2.3 at 0123abc", out, err)
		}
	}

	// The checks can fail: each broken manifest is refused.
	for _, tc := range []struct{ name, from, to string }{
		{"not semver", "version: v1.2.3", "version: 1.2.3"},
		{"a bad sha256", p.Spec.Platforms[0].Sha256, strings.Repeat("0", 64)},
		{"a short sha256", p.Spec.Platforms[0].Sha256, "abc"},
		{"overlapping selectors", "os: darwin\n        arch: arm64", "os: darwin\n        arch: amd64"},
		{"a file not in the archive", "- from: LICENSE", "- from: LICENSE.txt"},
		{"a bin not installed", "bin: kubectl-access.exe", "bin: kubectl-access"},
		{"an unknown selector key", "arch: amd64", "cpu: amd64"},
		{"another name", "name: access", "name: rbac-access"},
	} {
		broken := strings.Replace(string(manifest), tc.from, tc.to, 1)
		if broken == string(manifest) {
			t.Fatalf("%s: %q is not in the manifest", tc.name, tc.from)
		}
		if _, err := Validate([]byte(broken), dir); err == nil {
			t.Errorf("a manifest with %s validates", tc.name)
		}
	}
}

func extract(t *testing.T, archive, name string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only: its close loses nothing
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no %s: %v", archive, name, err)
		}
		if h.Name != name {
			continue
		}
		out := filepath.Join(t.TempDir(), name)
		w, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, tr); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return out
	}
}
