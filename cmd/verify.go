package cmd

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// VerifyFlag is --verify on can, who-can and what-can.
type VerifyFlag struct{ Value string }

// Verify modes.
const (
	verifySample = "sample"
	verifyAll    = "all"
)

// AddVerifyFlag adds --verify[=all] to c.
func AddVerifyFlag(c *cobra.Command) *VerifyFlag {
	v := &VerifyFlag{}
	c.Flags().StringVar(&v.Value, "verify", "", "After answering, ask the cluster's own authorizer (SubjectAccessReviews, as each subject) about the answer and report every disagreement (exit 5); --verify checks a sample of what the answer leaves out, --verify=all all of it")
	c.Flags().Lookup("verify").NoOptDefVal = verifySample
	return v
}

// On says whether --verify was given.
func (v *VerifyFlag) On() bool { return v != nil && v.Value != "" }

// Validate checks the mode.
func (v *VerifyFlag) Validate() error {
	switch v.Value {
	case "", verifySample, verifyAll:
		return nil
	}
	return fmt.Errorf("--verify=%q: write --verify (a sample of what the answer leaves out) or --verify=all", v.Value)
}

// Options are the verification's bounds.
func (v *VerifyFlag) Options() access.VerifyOptions {
	return access.VerifyOptions{All: v.Value == verifyAll}
}

// printVerification writes the server's word on a table's answer: the
// count, what was sampled, every disagreement with the server's reason.
func printVerification(w io.Writer, v *access.Verification) {
	if v == nil {
		return
	}
	fmt.Fprintln(w)
	if v.Agrees() {
		fmt.Fprintf(w, "Verified: the cluster's authorizer agreed on all %d requests asked.\n", v.Checked)
	} else {
		fmt.Fprintf(w, "NOT VERIFIED: the cluster's authorizer decided %d of %d requests asked otherwise:\n", len(v.Disagreements), v.Checked)
		for _, d := range v.Disagreements {
			where := ""
			if d.Request.Namespace != "" {
				where = " in namespace " + d.Request.Namespace
			}
			fmt.Fprintf(w, "  %s %s%s: here %s, the server %s: %s\n", cell(d.Subject.String()), cell(d.Request.String()), cell(where), d.Ours, d.Server, safe.Terminal(d.Reason))
		}
	}
	if v.Sampled != "" {
		fmt.Fprintf(w, "(%s)\n", v.Sampled)
	}
}

// verdict is the exit code a verification adds: 5 on a disagreement.
func verdict(v *access.Verification) error {
	if !v.Agrees() {
		return &ExitCodeError{Code: ExitDisagree}
	}
	return nil
}

// verifiable refuses --verify on files: only a cluster's authorizer can
// confirm an answer.
func (in *InputOptions) verifiable(v *VerifyFlag) error {
	if v.On() && in.Offline() {
		return fmt.Errorf("--verify asks the cluster's own authorizer; it cannot check an answer read from files (-f)")
	}
	return nil
}
