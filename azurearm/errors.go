package azurearm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// SignInError is a failure to get a token for ARM: every call would fail
// the same way, so it ends the load, and the way out is to sign in.
type SignInError struct {
	Err error
}

func (e *SignInError) Error() string {
	return "sign in to Azure (run `az login`, or provide what the --login mode needs): " + e.Err.Error()
}

func (e *SignInError) Unwrap() error { return e.Err }

// signInCredential marks the credential's failures as SignInErrors, so that
// they can be told apart from ARM's answers whatever credential is used
// (azidentity's error types differ from one credential to the next).
type signInCredential struct {
	cred azcore.TokenCredential
}

func (c signInCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.cred.GetToken(ctx, o)
	if err != nil && ctx.Err() == nil {
		return tok, &SignInError{Err: err}
	}
	return tok, err
}

var _ azcore.TokenCredential = signInCredential{}

// What a 403 on each kind of read means the identity lacks.
const (
	assignmentsHint = "the Azure identity needs Microsoft.Authorization/roleAssignments/read there, e.g. the Reader role"
	deniesHint      = "the Azure identity needs Microsoft.Authorization/denyAssignments/read there, e.g. the Reader role"
	rolesHint       = "the Azure identity needs Microsoft.Authorization/roleDefinitions/read, e.g. the Reader role"
	eligibleHint    = "the Azure identity needs Microsoft.Authorization/roleEligibilityScheduleInstances/read there, e.g. the Reader role; eligible access is not listed, active access is"
)

// classify says what a failed ARM call means for a load: a gap (what could
// not be read and why) when ARM answered for this call alone, or a fatal
// error when every call would fail alike.
func classify(ctx context.Context, what, hint string, err error) (gap string, fatal error) {
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	var signIn *SignInError
	if errors.As(err, &signIn) {
		return "", signIn
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		// No answer from ARM (DNS, TLS, connection refused, after azcore's
		// retries): the next call would fare no better, and hundreds of gaps
		// saying so would hide the cause.
		return "", fmt.Errorf("reach Azure Resource Manager for %s: %w", what, err)
	}
	switch re.StatusCode {
	case http.StatusUnauthorized:
		return "", &armError{msg: fmt.Sprintf("Azure Resource Manager refused the token for %s (%s): sign in to the tenant the cluster is in (az login --tenant TENANT_ID) and retry", what, describe(re)), err: re}
	case http.StatusForbidden:
		return fmt.Sprintf("%s: forbidden (%s)", what, hint), nil
	}
	return fmt.Sprintf("%s: %s", what, describe(re)), nil
}

// armError is an ARM answer told in a sentence: azcore's own text is a
// multi-line dump of the request and the response, too much for a user, and
// the *azcore.ResponseError stays reachable with errors.As.
type armError struct {
	msg string
	err error
}

func (e *armError) Error() string { return e.msg }
func (e *armError) Unwrap() error { return e.err }

// describe is an ARM error as a user reads it: the status, ARM's error
// code and message (never the request, whose headers carry the token).
func describe(re *azcore.ResponseError) string {
	s := fmt.Sprintf("HTTP %d", re.StatusCode)
	if t := http.StatusText(re.StatusCode); t != "" {
		s += " " + t
	}
	code, msg := re.ErrorCode, ""
	if re.RawResponse != nil {
		if body, err := runtime.Payload(re.RawResponse); err == nil {
			var e struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if json.Unmarshal(body, &e) == nil {
				if code == "" {
					code = e.Error.Code
				}
				msg = e.Error.Message
			}
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300]) + "…"
	}
	switch {
	case code != "" && msg != "":
		s += fmt.Sprintf(" (%s: %s)", code, msg)
	case code != "":
		s += " (" + code + ")"
	case msg != "":
		s += " (" + msg + ")"
	}
	return s
}
