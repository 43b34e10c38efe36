package source

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// TestReadAllDecodes: readAll skips the UTF-8 decoder for text that is
// already plain UTF-8, and gives, for any bytes, from a file or a stream,
// exactly what the decoder gives (UTF-16 with its byte-order mark decoded,
// a UTF-8 byte-order mark dropped, bytes that are not UTF-8 replaced).
func TestReadAllDecodes(t *testing.T) {
	want := func(b []byte) []byte {
		out, err := io.ReadAll(transform.NewReader(bytes.NewReader(b), unicode.BOMOverride(unicode.UTF8.NewDecoder())))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	utf16le, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte("kind: Namespace # é\n"))
	utf16be, _ := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().Bytes([]byte("kind: Namespace # é\n"))
	inputs := [][]byte{nil, []byte("kind: Namespace\n"), []byte("\xef\xbb\xbfkind: Namespace\n"), utf16le, utf16be,
		[]byte("name: \xff\xfe bad \xc3"), []byte("é ü 日本 🙂"), bytes.Repeat([]byte("{\"a\":\"é\"}\n"), 50000)}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(64))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		inputs = append(inputs, b)
	}
	dir := t.TempDir()
	for i, in := range inputs {
		got, err := readAll(t.Context(), bytes.NewReader(in), "-", 1<<20)
		if err != nil || !bytes.Equal(got, want(in)) {
			t.Fatalf("input %d %q from a stream: %q, %v; want %q", i, in, got, err, want(in))
		}
		p := filepath.Join(dir, "in")
		if err := os.WriteFile(p, in, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := readFile(t.Context(), p, p, 1<<20); err != nil || !bytes.Equal(got, want(in)) {
			t.Fatalf("input %d %q from a file: %q, %v", i, in, got, err)
		}
	}
	// One byte over the limit is refused, from a stream as from a file;
	// so is UTF-16 over it, although it would fit decoded.
	big, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(bytes.Repeat([]byte("a"), 80))
	for _, in := range [][]byte{make([]byte, 101), big} {
		if _, err := readAll(t.Context(), bytes.NewReader(in), "-", 100); err == nil || !strings.Contains(err.Error(), "larger") && !strings.Contains(err.Error(), "MiB") {
			t.Errorf("a stream of %d bytes over the limit of 100: %v", len(in), err)
		}
	}
}
