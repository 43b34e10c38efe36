package livebench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/charmbracelet/x/ansi"
	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/cluster"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/tui"
)

// explorerEnv runs this executable as the explorer's benchmark: what the
// explorer does up to its first screen (the same application layer, load
// and model, rendered once at 160x50; the audit runs after the first
// screen, as in the explorer), then, with --filter, the
// filter typed into the Subjects page one key at a time, rendering after
// each, as the program would. It prints the subjects on screen as JSON.
// It lives here, not in the product binary, which carries no bench mode.
const explorerEnv = "KUBECTL_ACCESS_BENCH_EXPLORER"

func serveExplorer(args []string) int {
	fs := flag.NewFlagSet("explorer-bench", flag.ContinueOnError)
	kubeconfig := fs.String("kubeconfig", "", "")
	filter := fs.String("filter", "", "")
	fs.String("o", "json", "")
	klog.InitFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := explore(context.Background(), *kubeconfig, *filter); err != nil {
		fmt.Fprintln(os.Stderr, "explorer bench:", err)
		return 2
	}
	return 0
}

func explore(ctx context.Context, kubeconfig, filter string) error {
	start := time.Now()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	client, err := cluster.New(cfg)
	if err != nil {
		return err
	}
	cat, warns, err := cluster.Discover(client.CS.Discovery())
	if err != nil {
		return err
	}
	app := &access.App{Cluster: client, Catalog: cat, Resolver: cluster.NewResolver(cat), Warnings: warns,
		Namespace: "default", Origin: access.Origin{Context: "bench", Server: cfg.Host}}
	sess, err := app.Open(ctx, loading.Full)
	if err != nil {
		return err
	}
	// The first screen: the Subjects page, drawn before the audit, which
	// the explorer runs after it (Init's command; not measured here).
	m := tui.New(ctx, tui.Options{App: app, Initial: sess})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	screen := m.View().Content
	first := time.Since(start)
	if filter != "" {
		m.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
		for _, r := range filter {
			m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
			screen = m.View().Content
		}
	}
	fmt.Fprintf(os.Stderr, "first screen %s, filtered %s\n", first, time.Since(start))
	// The answer is what the screen says: "subjects 1/12,300" in the
	// status line is how many subjects the page lists.
	m2 := statusCount.FindStringSubmatch(ansi.Strip(screen))
	if m2 == nil {
		return fmt.Errorf("the screen has no subjects count:\n%s", ansi.Strip(screen))
	}
	n, _ := strconv.Atoi(strings.ReplaceAll(m2[1], ",", ""))
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"subjects": make([]struct{}, n)})
}

var statusCount = regexp.MustCompile(`subjects \d[\d,]*/(\d[\d,]*)`)
