package chaos

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/redis/go-redis/v9"
)

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// helplineBin is the `helpline` binary built once for the whole suite.
var helplineBin string

// TestMain builds cmd/helpline once into a temporary directory: the suite
// runs the real binary, as a deployment does, so that SIGKILL kills a
// real process. HELPLINE_CHAOS_RACE=1 builds it with the race detector
// (slower; for a hunt, not for CI); HELPLINE_CHAOS_BIN=path runs a binary
// built elsewhere instead.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	// The supervisor's client retries while Redis is down on purpose;
	// go-redis would print every failed dial.
	redis.SetLogger(quietRedis{})
	if testing.Short() {
		return m.Run() // the suite skips itself; no binary needed
	}
	if bin := os.Getenv("HELPLINE_CHAOS_BIN"); bin != "" {
		helplineBin = bin // a binary built elsewhere (another commit, -race)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "helpline-chaos-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaos: temp dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	helplineBin = filepath.Join(dir, "helpline")
	args := []string{"build", "-o", helplineBin}
	if os.Getenv("HELPLINE_CHAOS_RACE") == "1" {
		args = append(args, "-race")
	}
	args = append(args, "github.com/helpline-it/helpline/cmd/helpline")
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "chaos: building the helpline binary (go %v): %v\n", args, err)
		return 1
	}
	return m.Run()
}
