package access

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// FixOptions are how a fix is built (fix.Options): --keep, --narrow,
// --allow-lockout.
type FixOptions = fix.Options

// FixLineKind says what a line of a fix's summary is, for a front end to
// style it.
type FixLineKind int

const (
	FixChecked    FixLineKind = iota // checked on a copy: the finding is gone, nobody gains
	FixIncomplete                    // the view is incomplete
	FixLockout                       // the lockout guard was overridden (--allow-lockout)
	FixGranted                       // the missing grant a fix adds
	FixNoLoss                        // nobody loses anything
	FixLost                          // one permission someone loses
	FixOthers                        // others the change takes access from
)

// FixLine is one line of a fix's summary, printable on a terminal.
type FixLine struct {
	Kind FixLineKind
	Text string
}

// Summary is what the fix does, checked on a copy of the snapshot, in the
// words both front ends print: every line escaped for the terminal, group
// ids annotated with their names.
func (p *FixPlan) Summary(names identity.Names) []FixLine {
	v := p.Fix.Verification
	out := []FixLine{{FixChecked, "Checked on a copy of the snapshot: the finding is gone; nobody gains access."}}
	if v.Incomplete {
		out = append(out, FixLine{FixIncomplete, "INCOMPLETE VIEW: who else gains or loses access in what could not be read is unknown"})
	}
	if v.Lockout != nil {
		out = append(out, FixLine{FixLockout, "WARNING (--allow-lockout): " + safe.Terminal(v.Lockout.String())})
	}
	for _, g := range v.Granted {
		out = append(out, FixLine{FixGranted, "grants (the missing grant): " + safe.Terminal(names.Annotate(g.String()))})
	}
	if len(v.Lost) == 0 {
		out = append(out, FixLine{FixNoLoss, "nobody loses any permission"})
	}
	for _, d := range v.DoorsLost {
		out = append(out, FixLine{FixLost, "loses a way in through Azure: " + safe.Terminal(d)})
	}
	for _, l := range v.Lost {
		out = append(out, FixLine{FixLost, "loses " + safe.Terminal(names.Annotate(l.String()))})
	}
	if len(v.Others) > 0 {
		others := make([]string, len(v.Others))
		for i, s := range v.Others {
			others[i] = names.Subject(s)
		}
		out = append(out, FixLine{FixOthers, "also removes access from " + safe.Terminal(strings.Join(others, ", "))})
	}
	return out
}

// Commands are the fix as shell commands (kubectl, and az for Azure role
// assignments), guarded so a concurrent change makes them fail: printable
// and paste-safe shell text (names quoted by safe.Shell), for a terminal,
// a clipboard or a file alike.
func (p *FixPlan) Commands() string { return fix.Kubectl(p.Fix) }

// Azure says whether the fix changes Azure role assignments or the
// managed cluster's settings (applied through Azure Resource Manager,
// which has no dry run).
func (p *FixPlan) Azure() bool {
	return slices.ContainsFunc(p.Fix.Operations, func(op fix.Operation) bool { return op.IsAzure() || op.IsAKS() })
}

// WriteFix writes fx as a Fix document to DIR/ID.fix.yaml, mode 0600,
// headed by the commands that apply it (as comments, each line escaped so
// no name can end the comment). As files.Write does, it never writes
// through a link and replaces an existing file only with overwrite.
func WriteFix(dir string, fx *fix.Fix, overwrite bool) (string, error) {
	doc, err := safe.YAML(fx)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("# Written by kubectl access. Apply with:\n")
	for _, l := range strings.Split(strings.TrimSuffix(fix.Kubectl(fx), "\n"), "\n") {
		b.WriteString("#   " + safe.ShellComment(l) + "\n")
	}
	b.WriteString("# or: kubectl access fix " + safe.ShellComment(fx.Finding) + " --apply\n")
	b.Write(doc)
	path := filepath.Join(dir, fx.Finding+".fix.yaml")
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	err = files.Write(path, overwrite, func(w io.Writer) error {
		_, writeErr := io.WriteString(w, b.String())
		return writeErr
	})
	if errors.Is(err, fs.ErrExist) {
		return path, fmt.Errorf("%w; move it away first, or run with --overwrite", err)
	}
	return path, err
}
