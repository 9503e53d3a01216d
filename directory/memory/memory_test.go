package memory_test

import (
	"testing"

	"github.com/helpline-it/helpline/directory"
	"github.com/helpline-it/helpline/directory/directorytest"
	"github.com/helpline-it/helpline/directory/memory"
)

func TestStoreContract(t *testing.T) {
	directorytest.RunStoreSuite(t, func(t *testing.T) directory.Store { return memory.New() })
}
