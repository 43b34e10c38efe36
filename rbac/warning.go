package rbac

import (
	"encoding/json"
	"fmt"
)

// WarningCode says what a warning is about, so a caller can act on it (or
// test for it) without reading its text.
type WarningCode string

// The engine's warning codes; the application layer adds its own.
const (
	// WarnGap: part of the cluster could not be read (a forbidden LIST, a
	// role missing from offline input).
	WarnGap WarningCode = "gap"
	// WarnAggregation: aggregated ClusterRoles were computed offline.
	WarnAggregation WarningCode = "aggregation"
	// WarnUnmatchable: matching bindings name subjects that match nobody.
	WarnUnmatchable WarningCode = "unmatchable-subjects"
	// WarnNamedOnly: some rules grant the request only on named objects.
	WarnNamedOnly WarningCode = "named-only"
	// WarnAzureRBAC: Azure RBAC decides after RBAC and its role
	// assignments were not read.
	WarnAzureRBAC WarningCode = "azure-rbac"
)

// Warning is one thing an answer wants its reader to know. In documents it
// is written as its message, a plain string (the JSON contract).
type Warning struct {
	Code    WarningCode
	Message string
}

// Warnf makes a warning.
func Warnf(code WarningCode, format string, args ...any) Warning {
	return Warning{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (w Warning) String() string { return w.Message }

// MarshalJSON writes the message.
func (w Warning) MarshalJSON() ([]byte, error) { return json.Marshal(w.Message) }

// UnmarshalJSON reads a message written by MarshalJSON (a saved report).
func (w *Warning) UnmarshalJSON(b []byte) error {
	w.Code = ""
	return json.Unmarshal(b, &w.Message)
}

// HasWarning says whether ws holds a warning of code.
func HasWarning(ws []Warning, code WarningCode) bool {
	for _, w := range ws {
		if w.Code == code {
			return true
		}
	}
	return false
}

// IncompleteCause says in a few words why an answer with these warnings is
// incomplete: parts of the cluster not read, what Azure RBAC could change
// (assignments not read, conditions, deny assignments naming principals),
// or both. Warnings read back from a document carry no code: the cause is
// then said generally.
func IncompleteCause(ws []Warning) string {
	gap, azure := HasWarning(ws, WarnGap), HasWarning(ws, WarnAzureRBAC)
	switch {
	case gap && azure:
		return "parts of the cluster could not be read, and Azure RBAC could change it"
	case azure:
		return "Azure RBAC could change it"
	}
	return "parts of the cluster could not be read"
}
