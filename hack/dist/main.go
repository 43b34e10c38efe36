// Command dist is `make dist`: the release archives, checksums and krew
// manifest for every krew platform, in dist/.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/internal/dist"
)

func main() {
	out := flag.String("out", "dist", "output directory")
	ver := flag.String("version", "", "release version (vMAJOR.MINOR.PATCH[-PRE])")
	commit := flag.String("commit", "", "commit stamped into the binary")
	only := flag.String("platforms", "", "only these, e.g. linux/amd64,windows/arm64 (default: every krew platform)")
	flag.Parse()
	var platforms []dist.Platform
	for _, p := range strings.Split(*only, ",") {
		if os, arch, ok := strings.Cut(p, "/"); ok {
			platforms = append(platforms, dist.Platform{OS: os, Arch: arch})
		}
	}
	// SOURCE_DATE_EPOCH (the reproducible-builds convention) dates every
	// archived file; the Makefile sets it to the commit's time.
	t := time.Unix(0, 0)
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "SOURCE_DATE_EPOCH:", err)
			os.Exit(2)
		}
		t = time.Unix(sec, 0)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, _ := os.Getwd()
	res, err := dist.Build(ctx, dist.Options{Root: root, Out: *out, Version: *ver, Commit: *commit, Time: t, Platforms: platforms, Log: os.Stdout})
	if err == nil && res.Manifest != "" {
		var manifest []byte
		if manifest, err = os.ReadFile(res.Manifest); err == nil {
			_, err = dist.Validate(manifest, *out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	for _, a := range res.Archives {
		fmt.Printf("%s  %s\n", a.SHA256, filepath.Base(a.Path))
	}
	if res.Manifest != "" {
		fmt.Printf("krew manifest (validated): %s\n", res.Manifest)
	}
}
