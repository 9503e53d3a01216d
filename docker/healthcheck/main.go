// Command healthcheck is the container health probe of the helpline
// image. The image is distroless (no shell, no curl), so the probe is a
// tiny static Go program: it GETs a URL (default helpline's
// http://127.0.0.1:9522/readyz) and exits 0 on 200, 1 otherwise, printing
// one line docker shows in `docker inspect`.
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

// run probes the URL in args (or the default) and returns the exit status.
func run(args []string, out io.Writer) int {
	url := "http://127.0.0.1:9522/readyz"
	if len(args) > 1 {
		fmt.Fprintln(out, "usage: healthcheck [URL]")
		return 2
	}
	if len(args) == 1 {
		url = args[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(out, "unhealthy: %v\n", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(out, "unhealthy: %v\n", err)
		return 1
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(out, "unhealthy: %s: %s\n", resp.Status, body)
		return 1
	}
	fmt.Fprintln(out, "healthy")
	return 0
}
