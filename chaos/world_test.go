package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

// The switchboard's timing, scaled down so that a few hundred calls take
// about a minute: every wait of the flow is real time in a subprocess.
const (
	helplineNumber = "800123456"
	hmacKey        = "chaos-suite-hmac-key-0123456789abcdef0123"
	ariPassword    = "chaos-ari-secret"

	welcomeLen   = 400 * time.Millisecond // the welcome prompt
	promptLen    = 120 * time.Millisecond // every other prompt
	digitTimeout = 400 * time.Millisecond
	maxWait      = 8 * time.Second
	ringTimeout  = 1200 * time.Millisecond
	wrapUp       = 100 * time.Millisecond
	voicemailMax = 3 * time.Second
	drain        = 3 * time.Second
)

// Languages of the run: it and en are served by the talking operators;
// fr's only operator stays paused, so that what fr callers get is decided
// by them alone (abandon, voicemail, or max wait).
var langDigit = map[string]string{"it": "1", "en": "2", "fr": "3"}

// operators of the run: ids, languages, and whether the supervisor keeps
// them available.
type opSpec struct {
	id    string
	langs []string
	// parked operators log in and pause at once and are never unpaused.
	parked bool
	// missEvery lets every n-th ring go unanswered (0: never).
	missEvery int
}

func opSpecs() []opSpec {
	specs := []opSpec{}
	for i := 1; i <= 8; i++ {
		s := opSpec{id: fmt.Sprintf("op20%02d", i), langs: []string{"it", "en"}}
		if i%3 == 0 {
			s.missEvery = 7
		}
		specs = append(specs, s)
	}
	return append(specs, opSpec{id: "op2090", langs: []string{"fr"}, parked: true})
}

// world is one run: Asterisk (aritest), Redis, the serve process and the
// files they leave.
type world struct {
	t     *testing.T
	ctx   context.Context
	dir   string // everything at rest lives below it
	srv   *aritest.Server
	redis *testenv.Redis
	rdb   *redis.Client
	q     *queue.Redis // the supervisor's read-only view of operators

	cfgFile, dbPath, spoolDir, recDir, logDir string
	httpAddr                                  string

	mu      sync.Mutex
	node    *node
	nodes   int // processes started
	callers []*caller
	ops     []*operator
	rings   []*aritest.Call // every call to an operator's phone
	faults  []string
	leaked  int // callers whose number the privacy scan found

	asteriskRestarts int
}

// freezeCDRFiles makes the SQLite database and its WAL immutable (chattr
// +i): every write the node makes fails with EPERM, as on a disk gone
// read-only, even for root. The returned func undoes it (also at cleanup).
func (w *world) freezeCDRFiles(t *testing.T) (undo func()) {
	t.Helper()
	files := []string{w.dbPath, w.dbPath + "-wal"}
	var frozen []string
	var once sync.Once
	undo = func() {
		once.Do(func() {
			for _, f := range frozen {
				if out, err := exec.Command("chattr", "-i", f).CombinedOutput(); err != nil {
					t.Errorf("chattr -i %s: %v: %s", f, err, out)
				}
			}
		})
	}
	t.Cleanup(undo)
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			continue
		}
		out, err := exec.Command("chattr", "+i", f).CombinedOutput()
		if err != nil {
			t.Fatalf("the disk fault needs chattr +i (root, on ext4/xfs/btrfs) on %s: %v: %s", f, err, out)
		}
		frozen = append(frozen, f)
	}
	if len(frozen) == 0 {
		t.Fatal("no CDR file to freeze")
	}
	return undo
}

// awaitLog waits (bounded) until some serve log has a line with msg.
func (w *world) awaitLog(t *testing.T, msg, otherwise string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		paths, _ := filepath.Glob(filepath.Join(w.logDir, "serve-*.log"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), `"message":"`+msg) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Errorf("no %q in the logs: %s", msg, otherwise)
			return
		}
		time.Sleep(100 * time.Millisecond) // the log is a file; poll it
	}
}

func newWorld(t *testing.T, ctx context.Context) *world {
	t.Helper()
	w := &world{t: t, ctx: ctx, dir: t.TempDir()}
	if keep := os.Getenv("HELPLINE_CHAOS_KEEP"); keep != "" {
		// Keep the run's files (logs, CDRs, spool) for a post-mortem.
		w.dir = filepath.Join(keep, time.Now().UTC().Format("20060102T150405"))
		if err := os.MkdirAll(w.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("keeping the run's files in %s", w.dir)
	}
	w.redis = testenv.StartRedis(t)
	w.rdb = w.redis.Client(t)
	var err error
	if w.q, err = queue.NewRedis(w.rdb, queue.RedisOptions{Prefix: "helpline", Service: "1522"}); err != nil {
		t.Fatal(err)
	}

	sounds := map[string]time.Duration{"helpline/it/welcome": welcomeLen, "beep": 250 * time.Millisecond}
	endpoints := []aritest.Endpoint{{Resource: "sipp", Context: "from-sip"}}
	for _, s := range opSpecs() {
		endpoints = append(endpoints, aritest.Endpoint{Resource: s.id, Context: "from-operators", Phone: aritest.Phone{Answer: aritest.Manual}})
	}
	w.srv = testenv.StartAritest(t, testenv.AritestConfig(func(c *aritest.Config) {
		c.Password = ariPassword
		c.Endpoints = endpoints
		c.Sounds = sounds
		c.DefaultSoundLength = promptLen
		// The world log names caller numbers: keep it off disk and out of
		// the test output (a few hundred calls would flood it).
		c.Logf = func(string, ...any) {}
	}))

	w.dbPath = filepath.Join(w.dir, "data", "cdr.db")
	w.spoolDir = filepath.Join(w.dir, "data", "spool")
	w.recDir = filepath.Join(w.dir, "data", "recordings")
	w.logDir = filepath.Join(w.dir, "logs")
	for _, d := range []string{filepath.Dir(w.dbPath), w.spoolDir, w.recDir, w.logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	w.httpAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	w.cfgFile = filepath.Join(w.dir, "helpline.yaml")
	if err := os.WriteFile(w.cfgFile, []byte(w.configYAML()), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// configYAML is the node's configuration: the seed's shape with the
// timing scaled down and every language open always (the suite runs at
// any hour).
func (w *world) configYAML() string {
	var ops strings.Builder
	for _, s := range opSpecs() {
		fmt.Fprintf(&ops, "  - id: %s\n    endpoint: PJSIP/%s\n    languages: [%s]\n", s.id, s.id, strings.Join(s.langs, ", "))
	}
	return fmt.Sprintf(`service: "1522"
timezone: Europe/Rome
node_id: chaos
ari:
  url: %s
  app: helpline
  username: asterisk
  password_env: HELPLINE_ARI_PASSWORD
redis:
  addr: %s
cdr:
  driver: sqlite
  path: %s
  spool_dir: %s
privacy:
  hmac_key_env: HELPLINE_HMAC_KEY
http:
  listen: %s
languages:
  it: {digit: 1, hours: always}
  en: {digit: 2, hours: always}
  fr: {digit: 3, hours: always}
ivr:
  default_language: it
  menu_tries: 2
  digit_timeout: %s
  max_wait: %s
  announce_interval: 2s
  voicemail_digit: "9"
  voicemail_max_length: %s
  recordings_dir: %s
queue:
  ring_timeout: %s
  wrap_up: %s
  flagged_wrap_up: %s
operators:
%s`, w.srv.URL, w.redis.Addr, w.dbPath, w.spoolDir, w.httpAddr,
		digitTimeout, maxWait, voicemailMax, w.recDir, ringTimeout, wrapUp, wrapUp, ops.String())
}

// ---- the serve process ----

// node is one `helpline serve` process.
type node struct {
	n    int
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
}

// startNode starts a serve process and waits until /readyz says ready.
// Its stdout and stderr go to logs/serve-N.log (scanned for numbers at
// the end, like every file at rest).
func (w *world) startNode() *node {
	w.t.Helper()
	w.mu.Lock()
	w.nodes++
	n := &node{n: w.nodes, done: make(chan struct{})}
	w.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(w.logDir, fmt.Sprintf("serve-%d.log", n.n)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		w.t.Fatal(err)
	}
	n.log = f
	n.cmd = exec.Command(helplineBin, "serve", "--config", w.cfgFile, "--drain", drain.String(), "--log-level", "debug")
	n.cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir, "TZ=UTC",
		"HELPLINE_ARI_PASSWORD=" + ariPassword, "HELPLINE_HMAC_KEY=" + hmacKey,
	}
	n.cmd.Stdout, n.cmd.Stderr = f, f
	if err := n.cmd.Start(); err != nil {
		w.t.Fatalf("starting helpline serve: %v", err)
	}
	go func() {
		n.err = n.cmd.Wait()
		_ = f.Close()
		close(n.done)
	}()
	w.t.Cleanup(func() { n.kill() })
	w.mu.Lock()
	w.node = n
	w.mu.Unlock()

	deadline := time.Now().Add(30 * time.Second)
	for !w.ready() {
		select {
		case <-n.done:
			w.t.Fatalf("helpline serve #%d exited before it was ready (%v):\n%s", n.n, n.err, tail(f.Name(), 30))
		default:
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("helpline serve #%d not ready after 30s:\n%s", n.n, tail(f.Name(), 30))
		}
		time.Sleep(20 * time.Millisecond) // polling /readyz is the readiness check itself
	}
	if err := w.srv.AwaitApp(w.ctx, "helpline"); err != nil {
		w.t.Fatalf("the app never connected its event socket: %v", err)
	}
	return n
}

// ready reports whether the current node's /readyz answers 200.
func (w *world) ready() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + w.httpAddr + "/readyz")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// kill sends SIGKILL (no goodbye, as a crash or the OOM killer) and waits
// for the process to be gone.
func (n *node) kill() {
	if n.cmd.Process == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// stop sends SIGTERM and waits for the node to drain and exit.
func (n *node) stop(t *testing.T) {
	t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
		var ee *exec.ExitError
		if n.err != nil && !errors.As(n.err, &ee) {
			t.Errorf("serve #%d: %v", n.n, n.err)
		} else if n.err != nil {
			t.Errorf("serve #%d exited with %v after SIGTERM:\n%s", n.n, n.err, tail(n.log.Name(), 20))
		}
	case <-time.After(drain + 20*time.Second):
		t.Errorf("serve #%d did not stop within its drain after SIGTERM", n.n)
		n.kill()
	}
}

func (w *world) current() *node {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.node
}

func (w *world) noteFault(what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = append(w.faults, what)
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
