package ari

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Config says where Asterisk's ARI is and how to log in. Package config
// fills it from the YAML file and the environment; this package only uses it.
type Config struct {
	// URL is the ARI root, e.g. "http://127.0.0.1:8088/ari". REST paths are
	// appended to it; the event WebSocket is URL+"/events" with ws(s).
	URL string
	// Username and Password are sent with HTTP basic auth on every request
	// and on the WebSocket upgrade (never in a URL).
	Username string
	// Password is never printed: String and GoString redact it and JSON skips it.
	Password string `json:"-"`
	// Application is the Stasis application the event stream subscribes to.
	Application string
}

// String describes c with the password redacted.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("ari.Config{URL:%q Username:%q Password:%q Application:%q}", c.URL, c.Username, pw, c.Application)
}

// GoString is String, so %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

func (c Config) root() (*url.URL, error) {
	if c.URL == "" {
		return nil, errors.New("ari: config: URL is empty (want e.g. http://127.0.0.1:8088/ari)")
	}
	u, err := url.Parse(strings.TrimRight(c.URL, "/"))
	if err != nil {
		return nil, fmt.Errorf("ari: config: URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("ari: config: URL scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("ari: config: URL %q has no host", c.URL)
	}
	if u.User != nil {
		return nil, errors.New("ari: config: URL must not carry credentials; use Username and Password")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("ari: config: URL must not carry a query or fragment")
	}
	return u, nil
}

// Client makes ARI REST calls. It is safe for concurrent use. Every call
// takes a context, which bounds the whole exchange; a call returns nil, an
// *Error (Asterisk refused), or a *TransportError (no usable answer).
type Client struct {
	cfg  Config
	root *url.URL
	http *http.Client
	log  zerolog.Logger
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithHTTPClient makes the Client use hc (timeouts, TLS, transport). The
// default is a client on NewTransport whose only timeout is the callers'
// contexts.
func WithHTTPClient(hc *http.Client) ClientOption { return func(c *Client) { c.http = hc } }

// WithLogger logs each call at debug level (method, path, status, duration;
// never the query, the body or credentials).
func WithLogger(l zerolog.Logger) ClientOption { return func(c *Client) { c.log = l } }

// NewClient checks cfg and returns a Client. It makes no request.
func NewClient(cfg Config, opts ...ClientOption) (*Client, error) {
	root, err := cfg.root()
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, root: root, http: &http.Client{Transport: NewTransport()}, log: zerolog.Nop()}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Transport sizes of NewTransport.
const (
	// TransportIdlePerHost: every call in progress may have a request in
	// flight; with net/http's default of two idle connections per host a
	// busy switchboard closes and re-dials its REST connections all the
	// time (8 % of the CPU at 100 calls/s in `helpline bench`).
	TransportIdlePerHost = 256
	// TransportMaxPerHost bounds the connections: an overloaded node
	// queues its requests rather than open one each (`helpline bench` at
	// 500 calls/s on a starved machine ran out of file descriptors).
	TransportMaxPerHost = 512
)

// NewTransport returns the HTTP transport a Client uses by default:
// net/http's default transport sized for one Asterisk serving many calls
// at once. Callers that wrap or instrument the transport start from it.
func NewTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = TransportIdlePerHost
	t.MaxConnsPerHost = TransportMaxPerHost
	return t
}

// Config returns the configuration the client was built with.
func (c *Client) Config() Config { return c.cfg }

// Request is one REST call, for routes without a typed method.
type Request struct {
	// Method is the HTTP method.
	Method string
	// Path is below the ARI root with each segment already escaped, e.g.
	// "/channels/1795446033.2/answer". Build it with Path.
	Path string
	// Query holds the query parameters; nil for none.
	Query url.Values
	// Body, when not nil, is sent as JSON (e.g. {"variables": {...}}).
	Body any
}

// Path joins escaped segments into a request path: each segment is
// percent-encoded whole, so a recording name "folder/vm-1" becomes
// "folder%2Fvm-1", the only form Asterisk routes (a raw "/" gives 404).
func Path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// Do sends req and decodes a 2xx JSON body into out (when out is not nil
// and the body is not empty). Like http.Client.Do it returns when the
// answer has arrived or ctx is done, whichever is first.
func (c *Client) Do(ctx context.Context, req *Request, out any) error {
	resp, err := c.send(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJSONBody+1))
	if err != nil {
		return &TransportError{Method: req.Method, Path: req.Path, Err: fmt.Errorf("read body: %w", err)}
	}
	if len(body) > maxJSONBody {
		return &TransportError{Method: req.Method, Path: req.Path, Err: fmt.Errorf("body larger than %d bytes", maxJSONBody)}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &TransportError{Method: req.Method, Path: req.Path, Err: fmt.Errorf("decode %d response: %w", resp.StatusCode, err)}
	}
	return nil
}

const maxJSONBody = 32 << 20

// send performs the exchange and turns non-2xx answers into *Error. On
// success the caller owns resp.Body.
func (c *Client) send(ctx context.Context, req *Request) (*http.Response, error) {
	u := *c.root
	rawPath := strings.TrimRight(c.root.EscapedPath(), "/") + req.Path
	p, err := url.PathUnescape(rawPath)
	if err != nil {
		return nil, &TransportError{Method: req.Method, Path: req.Path, Err: fmt.Errorf("bad path: %w", err)}
	}
	u.Path, u.RawPath = p, rawPath
	if len(req.Query) > 0 {
		u.RawQuery = req.Query.Encode()
	}
	var body io.Reader
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return nil, &TransportError{Method: req.Method, Path: req.Path, Err: fmt.Errorf("encode body: %w", err)}
		}
		body = bytes.NewReader(b)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return nil, &TransportError{Method: req.Method, Path: req.Path, Err: err}
	}
	if req.Body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	hreq.Header.Set("Accept", "application/json")
	hreq.SetBasicAuth(c.cfg.Username, c.cfg.Password)
	start := time.Now()
	resp, err := c.http.Do(hreq)
	if err != nil {
		// *url.Error repeats the full URL, query included (callerId may
		// hold a caller's number): keep only its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		c.log.Debug().Str("method", req.Method).Str("path", req.Path).Err(err).Msg("ari request failed")
		return nil, &TransportError{Method: req.Method, Path: req.Path, Err: err}
	}
	c.log.Debug().Str("method", req.Method).Str("path", req.Path).Int("status", resp.StatusCode).
		Dur("took", time.Since(start)).Msg("ari request")
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return nil, &Error{Status: resp.StatusCode, Message: errorMessage(raw), Method: req.Method, Path: req.Path}
}

// errorMessage extracts Asterisk's explanation: {"message": ...} almost
// always, {"error": ...} for originate's allocation failure.
func errorMessage(raw []byte) string {
	var body struct {
		Message *string `json:"message"`
		Error   *string `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil {
		switch {
		case body.Message != nil:
			return *body.Message
		case body.Error != nil:
			return *body.Error
		}
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// query builds url.Values, skipping empty values so Asterisk applies its
// defaults.
type query url.Values

func (q query) str(k, v string) query {
	if v != "" {
		url.Values(q).Set(k, v)
	}
	return q
}

func (q query) list(k string, v []string) query {
	if len(v) > 0 {
		url.Values(q).Set(k, strings.Join(v, ","))
	}
	return q
}

func (q query) num(k string, v int) query {
	if v != 0 {
		url.Values(q).Set(k, strconv.Itoa(v))
	}
	return q
}

func (q query) boolean(k string, v bool) query {
	if v {
		url.Values(q).Set(k, "true")
	}
	return q
}

func (c *Client) call(ctx context.Context, method, path string, q query, body, out any) error {
	return c.Do(ctx, &Request{Method: method, Path: path, Query: url.Values(q), Body: body}, out)
}
