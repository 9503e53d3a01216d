package memory_test

import (
	"testing"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/memory"
)

func TestStoreContract(t *testing.T) {
	cdrtest.RunStoreSuite(t, func(t *testing.T) cdr.Store { return memory.New() })
}
