package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// The caps of the side files, each far above any real one: a larger file
// is refused, not read in part.
const (
	MaxNames      = 64 << 20  // a names file: id -> display name of every group of a large tenant
	MaxBaseline   = 512 << 20 // an earlier audit -o json report, of a fleet too
	MaxKubeconfig = 64 << 20  // a kubeconfig, certificates embedded
	MaxConfig     = 1 << 20   // the program's config.json
)

// Input names a side file for Read: what it is to the user (the flag or
// setting, "--baseline"), its path, and its cap. Stdin, when set, is what
// the path "-" reads; otherwise "-" is a file of that name.
type Input struct {
	What  string
	Path  string
	Max   int64
	Stdin io.Reader
}

// Read reads a side file whole. It opens only regular files, with
// O_NONBLOCK so that a FIFO cannot hang the open (deaf to Ctrl-C), and
// refuses anything else (a FIFO, a device such as /dev/zero, a socket, a
// directory) with the path and what it is; a file over the cap is refused
// with the cap; and it gives up when ctx ends.
func Read(ctx context.Context, in Input) ([]byte, error) {
	if in.Path == "-" && in.Stdin != nil {
		return readAll(ctx, in, in.Stdin)
	}
	f, err := os.OpenFile(in.Path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.What, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", in.What, in.Path, err)
	}
	if err := Regular(in.What, in.Path, fi); err != nil {
		return nil, err
	}
	if fi.Size() > in.Max {
		return nil, tooLarge(in, fi.Size())
	}
	return readAll(ctx, in, f)
}

// Check opens path as Read does and reads nothing: for a file another
// library reads (client-go's kubeconfig), so that it reads a regular file
// within the cap or nothing. A file that does not exist passes: whether
// that matters is the library's to say.
func Check(in Input) error {
	f, err := os.OpenFile(in.Path, os.O_RDONLY|nonBlock, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", in.What, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%s %s: %w", in.What, in.Path, err)
	}
	if err := Regular(in.What, in.Path, fi); err != nil {
		return err
	}
	if fi.Size() > in.Max {
		return tooLarge(in, fi.Size())
	}
	return nil
}

// Regular refuses what is not a regular file, saying what it is.
func Regular(what, path string, fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "a FIFO (named pipe)"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		kind = "a device"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m.IsDir():
		kind = "a directory"
	}
	return fmt.Errorf("%s %s: %s, not a regular file: give a file", what, path, kind)
}

func tooLarge(in Input, size int64) error {
	what := "more than"
	if size > 0 {
		what = fmt.Sprintf("%d MiB, more than", size>>20)
	}
	return fmt.Errorf("%s %s: %s the limit of %d MiB for it: is it the right file?", in.What, in.Path, what, in.Max>>20)
}

// readAll reads r up to in.Max bytes, giving up when ctx ends (the read
// goes on in the background until the file is closed).
func readAll(ctx context.Context, in Input, r io.Reader) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var buf bytes.Buffer
		_, err := buf.ReadFrom(io.LimitReader(r, in.Max+1))
		ch <- result{buf.Bytes(), err}
	}()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("%s %s: %w", in.What, in.Path, ctx.Err())
	case res := <-ch:
		if res.err != nil {
			return nil, fmt.Errorf("%s %s: %w", in.What, in.Path, res.err)
		}
		if int64(len(res.b)) > in.Max {
			return nil, tooLarge(in, 0)
		}
		return res.b, nil
	}
}
