package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/engine"
	"github.com/helpline-it/helpline/config"
)

// A command opens whatever store the configuration names; with driver
// postgres the same call connects to the server, reading the password
// from cdr.password_env or cdr.password_file.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "engine-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	c := config.CDR{Driver: config.DriverSQLite, Path: filepath.Join(dir, "cdr.db")}

	s, err := engine.Open(ctx, c, engine.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	_ = s.Write(ctx, cdrtest.Answered("call-1", cdrtest.T0))
	n, _ := s.Count(ctx, cdr.Filter{})
	fmt.Println(s.Driver, n)

	_, err = engine.Open(ctx, config.CDR{Driver: "oracle"}, engine.Options{})
	fmt.Println(cdr.ErrorCode(err), err)
	// Output:
	// sqlite 1
	// invalid cdr.driver: "oracle" is not a driver (sqlite or postgres)
}
