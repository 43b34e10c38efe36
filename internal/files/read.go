package files

import (
	"bytes"
	"cmp"
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
	// NotFile and TooLarge, when set, say what to do instead of the
	// default advice ("give a file", "is it the right file?").
	NotFile, TooLarge string
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
	f, _, err := Open(in)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: its close loses nothing
	return readAll(ctx, in, f)
}

// Open opens in.Path as Read does (without blocking, a regular file within
// the cap, else an error saying what it is) and returns it with its
// information, for a reader of its own (the manifest reader decodes as it
// reads); the caller closes it.
func Open(in Input) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(in.Path, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", in.What, err)
	}
	fi, err := f.Stat()
	if err != nil {
		err = fmt.Errorf("%s %s: %w", in.What, in.Path, err)
	} else {
		err = in.Regular(fi)
	}
	if err == nil && fi.Size() > in.Max {
		err = tooLarge(in, fi.Size())
	}
	if err != nil {
		_ = f.Close() // not handed out; the error returned says why
		return nil, nil, err
	}
	return f, fi, nil
}

// Check opens path as Read does and reads nothing: for a file another
// library reads (client-go's kubeconfig), so that it reads a regular file
// within the cap or nothing. A file that does not exist passes: whether
// that matters is the library's to say.
func Check(in Input) error {
	f, _, err := Open(in)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Regular refuses what is not a regular file, saying what it is.
func (in Input) Regular(fi fs.FileInfo) error {
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
	return fmt.Errorf("%s %s: %s, not a regular file: %s", in.What, in.Path, kind, cmp.Or(in.NotFile, "give a file"))
}

func tooLarge(in Input, size int64) error {
	what := "more than"
	if size > 0 {
		what = fmt.Sprintf("%d MiB, more than", size>>20)
	}
	return fmt.Errorf("%s %s: %s the limit of %d MiB for it: %s", in.What, in.Path, what, in.Max>>20, cmp.Or(in.TooLarge, "is it the right file?"))
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
