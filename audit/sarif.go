package audit

import (
	"encoding/json"
	"fmt"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// SARIF 2.1.0 output, for GitHub code scanning and other SARIF readers.
// Only the properties this report fills are modelled.

// SARIFSchema is the schema the output conforms to.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	// A fleet's runs are told apart by these (GitHub code scanning
	// requires a distinct automation id for each run of one tool).
	AutomationDetails *sarifAutomation  `json:"automationDetails,omitempty"`
	Properties        map[string]string `json:"properties,omitempty"`
	// LogicalLocations hold each object the results name (and, in a
	// fleet, the cluster) once; a result refers to them by index (SARIF
	// 2.1.0 §3.14.17, §3.33.3).
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifAutomation struct {
	ID string `json:"id"`
}

// sarifInvocation says whether the run saw everything: an incomplete view
// is a run that did not succeed, with a notification per gap, so a code
// scanning gate cannot mistake "nothing found" for "nothing there".
type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifText       `json:"help"`
	DefaultConfiguration sarifConfig     `json:"defaultConfiguration"`
	Properties           sarifProperties `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifProperties struct {
	Tags []string `json:"tags"`
	// GitHub reads security-severity (0.0-10.0) to rank security alerts.
	SecuritySeverity string `json:"security-severity"`
}

type sarifResult struct {
	RuleID    string `json:"ruleId"`
	RuleIndex int    `json:"ruleIndex"`
	// Kind is "pass" for a posture check that passed; a finding leaves it
	// out (SARIF's default, "fail").
	Kind                string            `json:"kind,omitempty"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	// Index refers to the run's logicalLocations, where the location is
	// whole; the others are then left out.
	Index              *int   `json:"index,omitempty"`
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName,omitempty"`
	Kind               string `json:"kind,omitempty"`
}

// logicalRef is a reference to the run's logical location i.
func logicalRef(i int) sarifLogical { return sarifLogical{Index: &i} }

// logicalTable keeps each logical location of a run once.
type logicalTable struct {
	at  map[string]int
	all []sarifLogical
}

// ref adds l when new and returns a reference to it.
func (t *logicalTable) ref(l sarifLogical) sarifLogical {
	if t.at == nil {
		t.at = map[string]int{}
	}
	key := l.Kind + "\x00" + l.FullyQualifiedName
	i, ok := t.at[key]
	if !ok {
		i = len(t.all)
		t.at[key] = i
		t.all = append(t.all, l)
	}
	return logicalRef(i)
}

// Locator says in which file and at which line an object was read, for
// offline input; ok is false for live objects.
type Locator func(rbac.ObjectRef) (file string, line int, ok bool)

func sarifLevel(s Severity) string {
	switch s {
	case Critical, High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

var securitySeverity = map[Severity]string{Critical: "9.5", High: "8.0", Medium: "5.5", Low: "3.0", Info: "0.0"}

// SARIF renders the report as a SARIF 2.1.0 log. Each result points at the
// objects of its finding: at file and line when locate knows them, else at
// the object by name.
func (r *Report) SARIF(toolVersion string, locate Locator) ([]byte, error) {
	log := sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{r.sarifRun(toolVersion, locate)}}
	return json.MarshalIndent(log, "", "  ")
}

// sarifRun is the report as one SARIF run.
func (r *Report) sarifRun(toolVersion string, locate Locator) sarifRun {
	driver := sarifDriver{Name: "kubectl-access", InformationURI: "https://github.com/kubectl-access/kubectl-access", Version: toolVersion}
	index := map[string]int{}
	for _, rule := range catalogue {
		index[rule.Name] = len(driver.Rules)
		driver.Rules = append(driver.Rules, sarifRule{
			ID: rule.Name, Name: rule.Name,
			ShortDescription:     sarifText{rule.Title},
			FullDescription:      sarifText{rule.Why},
			Help:                 sarifText{fmt.Sprintf("%s\n\nFix: %s", rule.Why, rule.Fix)},
			DefaultConfiguration: sarifConfig{sarifLevel(rule.Severity)},
			Properties:           sarifProperties{Tags: []string{"security", "kubernetes", string(rule.Category)}, SecuritySeverity: securitySeverity[rule.Severity]},
		})
	}
	results := []sarifResult{}
	var logical logicalTable
	for _, f := range r.Findings {
		res := sarifResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: sarifLevel(f.Severity),
			Message:             sarifText{fmt.Sprintf("[%s] %s", f.Severity, f.Message)},
			PartialFingerprints: map[string]string{"kubectlAccessFindingId/v1": f.ID},
			Locations:           []sarifLocation{},
		}
		for _, o := range f.Objects {
			if locate != nil {
				if file, line, ok := locate(o); ok {
					res.Locations = append(res.Locations, sarifLocation{PhysicalLocation: &sarifPhysical{
						ArtifactLocation: sarifArtifact{URI: file}, Region: &sarifRegion{StartLine: max(line, 1)}}})
					continue
				}
			}
			res.Locations = append(res.Locations, sarifLocation{LogicalLocations: []sarifLogical{logical.ref(sarifLogical{
				Name: o.Name, FullyQualifiedName: o.String(), Kind: "resource"})}})
		}
		results = append(results, res)
	}
	for _, ch := range r.Checks {
		if ch.Status == CheckPassed {
			// A check in force is a result too, so "is it in force?" has
			// its yes in the log (failed and unknown ones are findings).
			results = append(results, sarifResult{RuleID: ch.Rule, RuleIndex: index[ch.Rule], Kind: "pass", Level: "none",
				Message: sarifText{"passed: " + ch.Detail}, PartialFingerprints: map[string]string{"kubectlAccessCheck/v1": ch.Rule}, Locations: []sarifLocation{}})
		}
	}
	inv := sarifInvocation{ExecutionSuccessful: !r.Incomplete}
	for _, g := range r.Gaps {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "error", Message: sarifText{"incomplete: " + g.String()}})
	}
	for _, w := range r.Warnings {
		if w.Code == rbac.WarnAzureRBAC {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "error", Message: sarifText{"incomplete: " + w.Message}})
		}
	}
	if r.Incomplete && len(inv.ToolExecutionNotifications) == 0 {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{Level: "error", Message: sarifText{"incomplete: parts of the cluster could not be read"}})
	}
	return sarifRun{Tool: sarifTool{driver}, Invocations: []sarifInvocation{inv}, Results: results, LogicalLocations: logical.all}
}
