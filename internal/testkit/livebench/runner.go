package livebench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// The commands are measured through a runner: this same executable,
// started with runnerEnv set before the benchmark has grown, which runs
// each command and reports its wall time and peak RSS.
//
// Why: Linux carries a process's memory high-water mark into the maxrss of
// whatever it execs (signal->maxrss is raised to the old mm's hiwater at
// exec, and os/exec's child shares the parent's memory until then). A
// command started by the benchmark itself would report at least the
// benchmark's own peak (which holds the LARGE answers it parsed); started
// by the small runner, it reports at least the runner's few MiB.
//
// The floor runs the same way, as a process of its own (this executable
// with floorEnv set to a kubeconfig): like the commands, it pays for its
// start, its TLS handshake and a heap that starts empty, and its figure
// does not depend on what the benchmark process has been holding.
const (
	runnerEnv = "KUBECTL_ACCESS_BENCH_RUNNER"
	floorEnv  = "KUBECTL_ACCESS_BENCH_FLOOR"
)

func init() {
	if os.Getenv(runnerEnv) == "1" {
		os.Exit(serveRunner(os.Stdin, os.Stdout))
	}
	if kubeconfig := os.Getenv(floorEnv); kubeconfig != "" {
		os.Exit(serveFloor(kubeconfig))
	}
	if os.Getenv(explorerEnv) == "1" {
		os.Exit(serveExplorer(os.Args[1:]))
	}
}

// serveFloor runs the floor once and prints its counts as JSON.
func serveFloor(kubeconfig string) int {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err == nil {
		var st floorStats
		if _, st, err = Floor(context.Background(), cfg); err == nil {
			err = json.NewEncoder(os.Stdout).Encode(map[string]int{"objects": st.objects, "requests": st.requests})
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

type runRequest struct {
	Args           []string
	Env            []string // added to the runner's environment
	Stdout, Stderr string   // files the command's output goes to
}

type runReply struct {
	Wall      time.Duration
	MaxRSSKiB int64
	Err       string
}

func serveRunner(in io.Reader, out io.Writer) int {
	dec, enc := json.NewDecoder(in), json.NewEncoder(out)
	for {
		var req runRequest
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			fmt.Fprintln(os.Stderr, "bench runner:", err)
			return 2
		}
		if err := enc.Encode(runOne(req)); err != nil {
			return 2
		}
	}
}

func runOne(req runRequest) runReply {
	stdout, err := os.Create(req.Stdout)
	if err != nil {
		return runReply{Err: err.Error()}
	}
	defer func() { _ = stdout.Close() }() // the child writes it through its own descriptor
	stderr, err := os.Create(req.Stderr)
	if err != nil {
		return runReply{Err: err.Error()}
	}
	defer func() { _ = stderr.Close() }() // as stdout
	cmd := exec.Command(req.Args[0], req.Args[1:]...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(e string) bool {
		return strings.HasPrefix(e, runnerEnv+"=") || strings.HasPrefix(e, explorerEnv+"=")
	}), req.Env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr // files: no copying goroutines in the runner
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return runReply{Err: err.Error()}
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return runReply{Err: "no resource usage for the child process on this platform"}
	}
	return runReply{Wall: wall, MaxRSSKiB: int64(ru.Maxrss)} // Linux reports KiB
}

// runner is the client side: one runner process for a benchmark run.
type runner struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	dec *json.Decoder
	dir string
}

func startRunner(ctx context.Context) (*runner, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubectl-access-bench-")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self)
	cmd.Env = append(os.Environ(), runnerEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &runner{cmd: cmd, in: in, dec: json.NewDecoder(out), dir: dir}, nil
}

// run runs one command line; it returns its stdout and stderr.
func (r *runner) run(args []string, env ...string) (runReply, []byte, []byte, error) {
	req := runRequest{Args: args, Env: env, Stdout: filepath.Join(r.dir, "stdout"), Stderr: filepath.Join(r.dir, "stderr")}
	if err := json.NewEncoder(r.in).Encode(req); err != nil {
		return runReply{}, nil, nil, fmt.Errorf("bench runner: %w", err)
	}
	var rep runReply
	if err := r.dec.Decode(&rep); err != nil {
		return runReply{}, nil, nil, fmt.Errorf("bench runner: %w", err)
	}
	stdout, _ := os.ReadFile(req.Stdout)
	stderr, _ := os.ReadFile(req.Stderr)
	return rep, stdout, stderr, nil
}

func (r *runner) close() {
	// Best effort, at the end of a bench: closing its input ends the runner.
	_ = r.in.Close()
	_ = r.cmd.Wait()
	_ = os.RemoveAll(r.dir)
}

// floor runs the floor in a process of its own.
func (r *runner) floor(kubeconfig string) (time.Duration, floorStats, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, floorStats{}, err
	}
	rep, out, stderr, err := r.run([]string{self}, floorEnv+"="+kubeconfig)
	if err != nil {
		return 0, floorStats{}, err
	}
	if rep.Err != "" {
		return 0, floorStats{}, fmt.Errorf("floor: %s: %s", rep.Err, stderr)
	}
	var st map[string]int
	if err := json.Unmarshal(out, &st); err != nil {
		return 0, floorStats{}, fmt.Errorf("floor: %w", err)
	}
	return rep.Wall, floorStats{objects: st["objects"], requests: st["requests"]}, nil
}
