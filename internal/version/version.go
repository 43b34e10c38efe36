// Package version holds the build's identity, stamped by the linker
// (see the Makefile's LDFLAGS).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// These are set with -ldflags "-X ...". The defaults describe a build made
// without the Makefile (go install, go run).
var (
	Version = "v0.0.0-dev"
	Commit  = ""
	Date    = ""
)

// Info is the version document printed by `kubectl access version -o json`.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the stamped version, filling the commit from the Go build
// info when the linker did not stamp one.
func Get() Info {
	i := Info{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version(),
		Platform: fmt.Sprintf("%s/%s", runtime.GOOS, runtime.GOARCH)}
	if i.Commit == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					i.Commit = s.Value
				}
			}
		}
	}
	return i
}
