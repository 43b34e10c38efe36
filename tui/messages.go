package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// deps are what the pages that do I/O need: the application layer, the
// context every call runs under, and where fixes are written.
type deps struct {
	ctx context.Context
	app *access.App
	// writeDir is where `w` writes fixes; overwrite lets it replace one.
	writeDir  string
	overwrite bool
	// allowLockout: --allow-lockout, for the fix flow.
	allowLockout bool
	// signIn returns the command that signs in again on the real terminal,
	// or nil when there is none.
	signIn func(context.Context) tea.ExecCommand
}

// Messages: every result of I/O reaches the model as one of these.
type (
	progressMsg string
	loadedMsg   struct {
		sess *access.Session
		err  error
	}
	// auditedMsg says sess's audit has finished.
	auditedMsg  struct{ sess *access.Session }
	signedInMsg struct{ err error }
	// noticeMsg is one line from Options.Notices.
	noticeMsg string
	// screenMsg records the screen as it is in lastScreen (the View of a
	// model that quits is empty, so tests ask for the screen before they
	// quit).
	screenMsg struct{}
	// reloadMsg asks the root model to load again (after an apply).
	reloadMsg struct{}
	// jumpMsg asks the root model to show an object on its page: a
	// subject on Subjects, a role or binding on Roles & bindings; esc
	// there comes back.
	jumpMsg struct {
		subject *rbac.Subject
		ref     *rbac.ObjectRef
	}
	// objectMsg is one object's YAML (v), or why it could not be read.
	objectMsg struct {
		ref          rbac.ObjectRef
		text, origin string
		err          error
	}
	// whoCanVerifiedMsg is the cluster's word on a Who can answer.
	whoCanVerifiedMsg struct {
		sess  *access.Session
		query string
		ans   *access.WhoCanAnswer
		err   error
	}
	// whoCanMembersMsg is who is in the groups of a Who can answer (e).
	whoCanMembersMsg struct {
		sess  *access.Session
		query string
		ans   *access.WhoCanAnswer
	}
	// subjectGroupsMsg is a user's Entra groups, as the directory said.
	subjectGroupsMsg struct {
		sess    *access.Session
		key     string
		subject rbac.Subject // with the groups found
		found   *access.Memberships
		warns   []rbac.Warning
		failed  bool
	}
	// subjectVerifiedMsg is the cluster's word on a subject's rules.
	subjectVerifiedMsg struct {
		sess    *access.Session
		subject rbac.Subject
		ans     *access.WhatCanAnswer
		err     error
	}
)
