package cmd

import (
	"strings"
	"testing"
)

// TestExplorerRefusesStdin: the explorer reads keys from the terminal, so
// neither -f - nor --azure-rbac-from - may take stdin from it.
func TestExplorerRefusesStdin(t *testing.T) {
	for flag, set := range map[string]func(*InputOptions){
		"-f":                func(in *InputOptions) { in.Filenames = []string{"-"} },
		"--azure-rbac-from": func(in *InputOptions) { in.AzureFrom = []string{"x.json", "-"} },
	} {
		o := NewExploreOptions(&RootOptions{})
		set(&o.Input)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "reads keys from the terminal: "+flag+" - cannot be used") {
			t.Errorf("explorer with %s -: %v", flag, err)
		}
	}
	if err := NewExploreOptions(&RootOptions{}).Validate(); err != nil {
		t.Errorf("explorer without stdin input: %v", err)
	}
}
