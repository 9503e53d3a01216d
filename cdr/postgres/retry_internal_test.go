package postgres

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{io.ErrUnexpectedEOF, true},
		{fmt.Errorf("write: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}), true},
		{&pgconn.PgError{Severity: "ERROR", Code: "08006"}, true},
		{&pgconn.PgError{Severity: "ERROR", Code: "57P03"}, true},
		{&pgconn.PgError{Severity: "ERROR", Code: "57014"}, false}, // statement timeout
		{&pgconn.PgError{Severity: "ERROR", Code: "23514"}, false}, // check_violation
		{&pgconn.PgError{Severity: "ERROR", Code: "22021"}, false}, // bad encoding
		{&pgconn.PgError{Severity: "ERROR", Code: "42P01"}, false}, // no such table
		{errors.Join(errors.New("x"), &pgconn.PgError{Severity: "ERROR", Code: "25P02"}), false},
	}
	for _, tt := range tests {
		if got := retryable(tt.err); got != tt.want {
			t.Errorf("retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
