package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Up starts a detached cluster in dir unless one is already running there
// and answering; it returns the kubeconfig path and whether it started one.
func Up(ctx context.Context, o Options) (kubeconfig string, started bool, err error) {
	o.Detach = true
	kubeconfig = filepath.Join(o.Dir, "kubeconfig")
	if running(o.Dir) && (o.Helper == "" || helperServes(o.Dir, o.Helper, o.HelperKey)) && answers(ctx, kubeconfig) {
		return kubeconfig, false, nil
	}
	// Whatever is left (a crashed or half-stopped cluster) goes first.
	if err := Down(o.Dir); err != nil {
		return "", false, err
	}
	if err := os.RemoveAll(o.Dir); err != nil {
		return "", false, err
	}
	if o.BeforeStart != nil {
		if err := os.MkdirAll(o.Dir, 0o700); err != nil {
			return "", false, err
		}
		if err := o.BeforeStart(ctx, &o); err != nil {
			return "", false, errors.Join(err, Down(o.Dir))
		}
	}
	c, err := Start(ctx, o)
	if err != nil {
		return "", false, errors.Join(err, Down(o.Dir))
	}
	return c.Kubeconfig, true, nil
}

// Down stops a detached cluster started by Up in dir, and its helpers
// (StartHelper), and waits until none of its processes is left.
func Down(dir string) error {
	var errs []error
	stop := func(pidFile string, pid int, name string) {
		if alive(pid, name) {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			deadline := time.Now().Add(15 * time.Second)
			for alive(pid, name) && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
			}
			if alive(pid, name) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				time.Sleep(200 * time.Millisecond)
			}
			if alive(pid, name) {
				errs = append(errs, fmt.Errorf("%s (pid %d) did not stop", name, pid))
				return
			}
		}
		_ = os.Remove(pidFile)
	}
	for i := len(binaries) - 1; i >= 0; i-- {
		pidFile := filepath.Join(dir, binaries[i]+".pid")
		if pid, ok := readPid(pidFile); ok {
			stop(pidFile, pid, binaries[i])
		}
	}
	for _, h := range helpers(dir) {
		stop(h.file, h.pid, h.comm)
	}
	return errors.Join(errs...)
}

// busy returns a process of an earlier cluster in dir that is still alive:
// a second cluster on the same etcd data would hang waiting for its lock.
func busy(dir string) (name string, pid int, ok bool) {
	for _, b := range binaries {
		if pid, ok := readPid(filepath.Join(dir, b+".pid")); ok && alive(pid, b) {
			return b, pid, true
		}
	}
	return "", 0, false
}

// running reports whether every process of a detached cluster is alive.
func running(dir string) bool {
	for _, b := range binaries {
		pid, ok := readPid(filepath.Join(dir, b+".pid"))
		if !ok || !alive(pid, b) {
			return false
		}
	}
	return true
}

func answers(ctx context.Context, kubeconfig string) bool {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return false
	}
	cfg.Timeout = 5 * time.Second
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return false
	}
	_, err = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	return err == nil
}

func readPid(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

// alive reports whether pid is a live process running binary name (a pid
// file from an earlier boot may name some unrelated process now).
func alive(pid int, name string) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return true // no /proc: trust the signal
	}
	c := strings.TrimSpace(string(comm))
	if c == "" || strings.HasPrefix(c, "<") {
		return false
	}
	// comm is cut at 15 characters ("kube-controller").
	if !strings.HasPrefix(name, c) {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	// A zombie (state Z) has exited.
	return err != nil || !strings.Contains(string(stat), ") Z ")
}
