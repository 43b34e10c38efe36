package audit_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The SARIF 2.1.0 JSON schema (draft-07, the OASIS TC's
// Schemata/sarif-schema-2.1.0.json) is checked in as test data: taken from
// the npm package @datadog/datadog-ci-plugin-sarif@5.11.0,
// package/dist/json-schema/sarif-schema-2.1.0.json, sha256
// 10666d46649b52e262001e70d43e6c52f7c0279ca3dbdfe9a7dc2e4071556454 (the
// package re-indents the file; its content is the TC's). Validation needs
// no network: every $ref is internal and loading anything else fails.
const (
	sarifSchemaFile = "testdata/sarif-schema-2.1.0.json"
	sarifSchemaID   = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
)

type noLoader struct{}

func (noLoader) Load(url string) (any, error) { return nil, fmt.Errorf("refusing to load %s", url) }

func validateSARIF(log []byte) error {
	raw, err := os.ReadFile(sarifSchemaFile)
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.DefaultDraft(jsonschema.Draft7)
	c.AssertFormat()
	if err := c.AddResource(sarifSchemaID, doc); err != nil {
		return err
	}
	sch, err := c.Compile(sarifSchemaID)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// The validator must be able to fail: a log with a level SARIF does not
// know, and one whose result lacks a message, are rejected.
func TestSARIFSchemaRejects(t *testing.T) {
	valid := `{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{"tool":{"driver":{"name":"x"}},` +
		`"results":[{"ruleId":"r","level":"warning","message":{"text":"m"}}]}]}`
	if err := validateSARIF([]byte(valid)); err != nil {
		t.Fatalf("a minimal valid log: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(valid, `"warning"`, `"critical"`, 1),
		strings.Replace(valid, `,"message":{"text":"m"}`, ``, 1),
	} {
		if validateSARIF([]byte(bad)) == nil {
			t.Errorf("accepted an invalid log: %s", bad)
		}
	}
}
