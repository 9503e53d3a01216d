package ari_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/ari"
)

func TestConfigNeverPrintsThePassword(t *testing.T) {
	cfg := ari.Config{URL: "http://127.0.0.1:8088/ari", Username: "helpline", Password: testPassword, Application: "helpline"}
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg, cfg), fmt.Sprintf("%v", &cfg), string(j)} {
		if strings.Contains(s, testPassword) {
			t.Errorf("password printed: %s", s)
		}
	}
	if !strings.Contains(cfg.String(), "[redacted]") || !strings.Contains(cfg.String(), "helpline") {
		t.Errorf("String() = %s, want the user and a redaction marker", cfg)
	}
}

func TestNewClientRejectsBadConfig(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"", "URL is empty"},
		{"ftp://x/ari", "scheme"},
		{"http:///ari", "no host"},
		{"http://u:p@host/ari", "credentials"},
		{"http://host/ari?x=1", "query"},
		{"http://[::1/ari", "URL"},
	} {
		_, err := ari.NewClient(ari.Config{URL: tt.url})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewClient(%q) error = %v, want one mentioning %q", tt.url, err, tt.want)
		}
	}
}

func TestPathEscapesEachSegment(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"recordings", "stored", "folder/vm-1", "file"}, "/recordings/stored/folder%2Fvm-1/file"},
		{[]string{"channels", "1795446033.2"}, "/channels/1795446033.2"},
		{[]string{"channels", "a b?#"}, "/channels/a%20b%3F%23"},
	} {
		if got := ari.Path(tt.in...); got != tt.want {
			t.Errorf("Path(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSlashInRecordingNameReachesServerEncoded(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.RequestURI
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	c, err := ari.NewClient(ari.Config{URL: srv.URL + "/ari/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Recordings().DeleteStored(context.Background(), "folder/vm test"); err != nil {
		t.Fatal(err)
	}
	if want := "/ari/recordings/stored/folder%2Fvm%20test"; got != want {
		t.Fatalf("request URI %q, want %q", got, want)
	}
}

func TestTransportFailuresAreNotRefusals(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c, err := ari.NewClient(ari.Config{URL: url + "/ari", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Channels().Originate(context.Background(), ari.OriginateParams{Endpoint: "PJSIP/op1001", App: "helpline", CallerID: "+393331234567"})
	var te *ari.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("got %T %v, want *ari.TransportError", err, err)
	}
	var ae *ari.Error
	if errors.As(err, &ae) || errors.Is(err, ari.ErrServer) {
		t.Fatalf("a dead server must not look like a refusal: %v", err)
	}
	if te.Method != http.MethodPost || te.Path != "/channels" {
		t.Errorf("TransportError %+v", te)
	}
	// The query may hold a caller's number: it must not be in the message.
	if strings.Contains(err.Error(), "393331234567") || strings.Contains(err.Error(), testPassword) {
		t.Errorf("error leaks the query: %v", err)
	}
}

func TestCancelledContextEndsTheCall(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	c, err := ari.NewClient(ari.Config{URL: srv.URL + "/ari"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Channels().Answer(ctx, "1.1") }()
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	var te *ari.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("got %T, want *ari.TransportError", err)
	}
}

func TestErrorBodies(t *testing.T) {
	for _, tt := range []struct {
		status      int
		body, want  string
		contentType string
		sentinel    error
	}{
		{500, `{"error":"Allocation failed"}`, "Allocation failed", "application/json", ari.ErrServer},
		{404, `{"message":"Channel not found"}`, "Channel not found", "application/json", ari.ErrNotFound},
		{412, `{"message":"Channel in invalid state"}`, "Channel in invalid state", "application/json", ari.ErrPreconditionFailed},
		{403, `{"message":"The recording file could not be opened"}`, "The recording file could not be opened", "application/json", ari.ErrForbidden},
		{502, "<html>bad gateway</html>", "<html>bad gateway</html>", "text/html", ari.ErrServer},
		{503, "", "", "", ari.ErrServer},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tt.contentType != "" {
				w.Header().Set("Content-Type", tt.contentType)
			}
			w.WriteHeader(tt.status)
			_, _ = w.Write([]byte(tt.body))
		}))
		c, err := ari.NewClient(ari.Config{URL: srv.URL + "/ari"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Channels().Get(context.Background(), "x")
		srv.Close()
		var ae *ari.Error
		if !errors.As(err, &ae) || ae.Status != tt.status || ae.Message != tt.want || !errors.Is(err, tt.sentinel) {
			t.Errorf("%d %q: got %v, want status %d message %q matching %v", tt.status, tt.body, err, tt.status, tt.want, tt.sentinel)
		}
	}
}

func TestSuccessWithGarbageBodyIsTransportError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": 12`))
	}))
	t.Cleanup(srv.Close)
	c, err := ari.NewClient(ari.Config{URL: srv.URL + "/ari"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Channels().Get(context.Background(), "x")
	var te *ari.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("got %T %v, want *ari.TransportError", err, err)
	}
}
