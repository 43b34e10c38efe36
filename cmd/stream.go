package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/internal/document"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// writeFleetDoc writes a FleetAuditReport: for JSON byte for byte as
// printDoc would, for YAML the same document; each cluster's report is
// streamed (writeDoc) rather than encoded whole, so a fleet of large
// clusters is never held twice in memory. Every write goes through one
// bufio.Writer, whose first error sticks: its Flush returns it.
func writeFleetDoc(w io.Writer, format string, rep *audit.FleetReport) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	write := writeFleetJSON
	if format == FormatYAML {
		write = writeFleetYAML
	}
	if err := write(bw, rep); err != nil {
		return err
	}
	return bw.Flush()
}

// writeReport streams one cluster's report into a fleet's document.
func writeReport(w io.Writer, format string, r *audit.Report) error {
	return document.Write(w, format, r)
}

func writeFleetJSON(w *bufio.Writer, rep *audit.FleetReport) error {
	w.WriteString("{\n")
	for _, kv := range []struct {
		key string
		v   any
	}{{"apiVersion", rep.APIVersion}, {"kind", rep.Kind}, {"summary", rep.Summary}} {
		b, err := json.MarshalIndent(kv.v, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %q: %s,\n", kv.key, safe.JSON(b))
	}
	if len(rep.Clusters) == 0 {
		w.WriteString("  \"clusters\": []")
	} else {
		w.WriteString("  \"clusters\": [\n")
		for i, c := range rep.Clusters {
			report := c.Report
			c.Report = nil
			b, err := json.MarshalIndent(c, "    ", "  ")
			if err != nil {
				return err
			}
			b = safe.JSON(b)
			w.WriteString("    ")
			if report == nil {
				w.Write(b)
			} else {
				// The report is the object's last field: reopen it.
				w.Write(bytes.TrimSuffix(b, []byte("\n    }")))
				w.WriteString(",\n      \"report\": ")
				in := &document.Indenter{W: w, Prefix: "      "}
				if err := writeReport(in, FormatJSON, report); err != nil {
					return err
				}
				w.WriteString("\n    }")
			}
			if i < len(rep.Clusters)-1 {
				w.WriteString(",")
			}
			w.WriteString("\n")
		}
		w.WriteString("  ]")
	}
	if rep.Groups != nil {
		b, err := json.MarshalIndent(rep.Groups, "  ", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, ",\n  \"groups\": %s", safe.JSON(b))
	}
	_, err := w.WriteString("\n}\n")
	return err
}

func writeFleetYAML(w *bufio.Writer, rep *audit.FleetReport) error {
	top := func(key string, v any) error {
		b, err := safe.YAML(map[string]any{key: v})
		if err == nil {
			_, err = w.Write(b)
		}
		return err
	}
	if err := top("apiVersion", rep.APIVersion); err != nil {
		return err
	}
	if len(rep.Clusters) == 0 {
		w.WriteString("clusters: []\n")
	} else {
		w.WriteString("clusters:\n")
	}
	for _, c := range rep.Clusters {
		report := c.Report
		c.Report = nil
		b, err := safe.YAML(c)
		if err != nil {
			return err
		}
		in := &document.Indenter{W: w, Prefix: "  "}
		w.WriteString("- ")
		if _, err := in.Write(bytes.TrimSuffix(b, []byte("\n"))); err != nil {
			return err
		}
		w.WriteString("\n")
		if report != nil {
			w.WriteString("  report:\n    ")
			in := &document.Indenter{W: w, Prefix: "    "}
			if err := writeReport(in, FormatYAML, report); err != nil {
				return err
			}
			w.WriteString("\n")
		}
	}
	if rep.Groups != nil {
		if err := top("groups", rep.Groups); err != nil {
			return err
		}
	}
	if err := top("kind", rep.Kind); err != nil {
		return err
	}
	return top("summary", rep.Summary)
}
