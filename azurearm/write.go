package azurearm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/authorization/armauthorization/v2"
)

// The writes a fix makes (kubectl access fix --apply): one role assignment
// created or deleted by its resource id. ARM has no dry run and no
// conditional delete: the caller reads the assignment first (Assignment)
// and checks it against the fix's guard.

// AssignmentProperties are what a created assignment says.
type AssignmentProperties struct {
	Scope, RoleDefinitionID, PrincipalID, PrincipalType string
}

func assignmentsClient(id string, o Options) (*armauthorization.RoleAssignmentsClient, error) {
	sub := "00000000-0000-0000-0000-000000000000" // the ById calls do not use it
	if r, err := arm.ParseResourceID(id); err == nil && r.SubscriptionID != "" {
		sub = r.SubscriptionID
	}
	return armauthorization.NewRoleAssignmentsClient(sub, signInCredential{cred: o.Credential}, o.armOptions())
}

// Assignment reads a role assignment as ARM's REST API writes it
// ({"id", "name", "type", "properties": {...}}); nil when there is none.
func Assignment(ctx context.Context, id string, o Options) (map[string]any, error) {
	c, err := assignmentsClient(id, o)
	if err != nil {
		return nil, err
	}
	res, err := c.GetByID(ctx, id, nil)
	return readObject(res.RoleAssignment, err, func(err error) error { return writeError("read role assignment "+id, err) })
}

// readObject is an object ARM gave as the fixes keep it: a map, what a
// guard compares and a restore writes back; nil when ARM has none (404),
// and refused's error for any other failure of the read.
func readObject(v any, err error, refused func(error) error) (map[string]any, error) {
	if err != nil {
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
			return nil, nil
		}
		return nil, refused(err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

// DeleteAssignment deletes a role assignment by id.
func DeleteAssignment(ctx context.Context, id string, o Options) error {
	c, err := assignmentsClient(id, o)
	if err != nil {
		return err
	}
	if _, err := c.DeleteByID(ctx, id, nil); err != nil {
		return writeError("delete role assignment "+id, err)
	}
	return nil
}

// CreateAssignment creates the role assignment id (its scope and name in
// the id) with p.
func CreateAssignment(ctx context.Context, id string, p AssignmentProperties, o Options) error {
	c, err := assignmentsClient(id, o)
	if err != nil {
		return err
	}
	params := armauthorization.RoleAssignmentCreateParameters{Properties: &armauthorization.RoleAssignmentProperties{
		PrincipalID: to.Ptr(p.PrincipalID), RoleDefinitionID: to.Ptr(p.RoleDefinitionID),
	}}
	if p.PrincipalType != "" {
		params.Properties.PrincipalType = to.Ptr(armauthorization.PrincipalType(p.PrincipalType))
	}
	if _, err := c.CreateByID(ctx, id, params, nil); err != nil {
		return writeError("create role assignment "+id, err)
	}
	return nil
}

// assignmentsNeeds is what a 403 on a role assignment's write lacks.
const assignmentsNeeds = "Microsoft.Authorization/roleAssignments/write and delete there, e.g. Role Based Access Control Administrator"

// writeError says what ARM refused a role assignment's read or write.
func writeError(what string, err error) error { return armWriteError(what, err, assignmentsNeeds) }

// armWriteError says what ARM refused, naming needs, the permission a 403
// lacks; a failed sign-in is said as it is.
func armWriteError(what string, err error, needs string) error {
	var signIn *SignInError
	if errors.As(err, &signIn) {
		return err
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("%s: %s", what, describe(re))
		if re.StatusCode == http.StatusForbidden {
			msg += " (the Azure identity needs " + needs + ")"
		}
		return &armError{msg: msg, err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}
