// Package testenv holds what the launchers of real test servers share
// (kafkatest for Apache Kafka, s3test for MinIO) and what tests that need a
// tool from a Debian package use: the skip-or-fail rule for a missing
// dependency, the module root, free ports on 127.0.0.1, running a launcher
// script, and a TestMain runner that several launchers can wrap.
package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Unavailable ends a test that needs something the machine lacks: a skip
// that says so, or, under CI=true, a failure, since CI must run every
// test. who names the helper that needs it (kafkatest, s3test, ...).
func Unavailable(tb testing.TB, who, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s: %s (CI=true: a missing test dependency is a failure; run `make deps`)", who, msg)
	}
	tb.Skipf("%s: SKIPPED, %s (run `make deps`; with CI=true this is a failure)", who, msg)
}

// Tool returns the path of a program from the Debian package pkg, or ends
// the test as Unavailable says.
func Tool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(tb, "testenv", "%s not found (apt-get install %s)", name, pkg)
	}
	return p
}

// RepoRoot finds the module root by walking up from the working directory
// to go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory: cannot find the scripts/ folder")
		}
		dir = parent
	}
}

// FreePorts returns n distinct ports on 127.0.0.1 that were free a moment
// ago.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// RunScript runs a launcher script with bash and extra environment, and
// returns its combined output. The script's background processes (the
// server and its watchdog) write to files, so they do not hold the output
// pipe open.
func RunScript(timeout time.Duration, script string, env []string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return bytes.TrimSpace(out.Bytes()), err
}

// Runner is what a launcher's Main runs: a *testing.M, or a RunFunc that
// wraps another launcher's Main, for a binary that uses both.
type Runner interface{ Run() int }

// RunFunc adapts a function to Runner.
type RunFunc func() int

// Run calls f.
func (f RunFunc) Run() int { return f() }
