package aritest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ari/aritest"
)

// A test starts the emulator on a fake clock, lets the app under test
// connect (here the example plays the app by hand, with plain HTTP and a
// WebSocket), places a call and checks what the caller went through.
func Example() {
	ctx := context.Background()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := aritest.NewServer(aritest.Config{Clock: clock})
	defer srv.Close()

	// The app connects its event WebSocket.
	auth := http.Header{"Authorization": {srv.BasicAuth()}}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ari/events?app=helpline",
		&websocket.DialOptions{HTTPHeader: auth})
	if err != nil {
		panic(err)
	}
	defer ws.CloseNow()
	_ = srv.AwaitApp(ctx, "helpline")

	// A caller dials the helpline: the channel enters Stasis(helpline,inbound).
	call, _ := srv.Call(ctx, "+393331234567", "1522", aritest.CallOptions{CallerName: "Mario Rossi"})
	for {
		_, msg, _ := ws.Read(ctx)
		var ev struct {
			Type string   `json:"type"`
			Args []string `json:"args"`
		}
		_ = json.Unmarshal(msg, &ev)
		if ev.Type == "StasisStart" {
			fmt.Println(ev.Type, ev.Args)
			break
		}
	}

	// The app answers and plays a prompt; 650 ms later it has played out.
	post := func(path string) int {
		req, _ := http.NewRequest("POST", srv.URL+"/ari"+path, nil)
		req.Header = auth.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(post("/channels/"+call.ChannelID()+"/answer"), post("/channels/"+call.ChannelID()+"/play?media=sound:hello-world"))
	clock.Advance(time.Second)
	srv.Flush()

	// The caller hangs up; the test asks how the call went.
	_ = call.Hangup()
	h, _ := call.AwaitHangup(ctx)
	fmt.Println("ended by", h.By, "cause", h.Cause, h.CauseTxt)
	for _, x := range call.Heard() {
		fmt.Println("heard", x.Kind, x.Media, x.State, x.End.Sub(x.Start))
	}
	fmt.Println("emulator gaps:", len(srv.Gaps()))
	// Output:
	// StasisStart [inbound]
	// 204 201
	// ended by caller cause 16 Normal Clearing
	// heard playback sound:hello-world done 650ms
	// emulator gaps: 0
}
