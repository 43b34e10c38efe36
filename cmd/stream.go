package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
)

// writeListJSON writes doc exactly as printDoc's json.MarshalIndent(doc,
// "", "  ") would, where doc's top-level field key holds items: the items
// are marshalled in parallel batches and streamed, so a report of tens of
// thousands of findings is neither built as one buffer nor encoded on one
// core. doc must render that field as an empty list.
func writeListJSON[T any](w io.Writer, doc any, key string, items []T) error {
	head, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	marker := []byte("\n  \"" + key + "\": []")
	at := bytes.Index(head, marker)
	if at < 0 || bytes.Count(head, marker) != 1 {
		return fmt.Errorf("internal error: %q is not a top-level empty list in the document", key)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	tail := head[at+len(marker)-1:] // "]" and what follows
	bw.Write(head[:at+len(marker)-1])
	if len(items) > 0 {
		bw.WriteString("\n")
		if err := writeItems(bw, items); err != nil {
			return err
		}
		bw.WriteString("\n  ")
	}
	bw.Write(tail)
	bw.WriteString("\n")
	return bw.Flush()
}

// writeItems writes each item indented as the element of a top-level list,
// separated by ",\n", batches encoded concurrently and written in order.
func writeItems[T any](w io.Writer, items []T) error {
	const batch = 256
	type result struct {
		b   []byte
		err error
	}
	workers := runtime.GOMAXPROCS(0)
	// One slot per batch in flight, consumed in order; at most 2*workers
	// batches are encoded ahead of the writer.
	slots := make(chan chan result, 2*workers)
	go func() {
		defer close(slots)
		for lo := 0; lo < len(items); lo += batch {
			hi := min(lo+batch, len(items))
			slot := make(chan result, 1)
			slots <- slot
			go func() {
				var buf bytes.Buffer
				for i := lo; i < hi; i++ {
					b, err := json.MarshalIndent(items[i], "    ", "  ")
					if err != nil {
						slot <- result{err: err}
						return
					}
					buf.WriteString("    ")
					buf.Write(b)
					if i < len(items)-1 {
						buf.WriteString(",\n")
					}
				}
				slot <- result{b: buf.Bytes()}
			}()
		}
	}()
	var first error
	for slot := range slots {
		r := <-slot
		if first == nil {
			if first = r.err; first == nil {
				_, first = w.Write(r.b)
			}
		}
	}
	return first
}
