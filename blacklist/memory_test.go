package blacklist_test

import (
	"testing"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/blacklist/blacklisttest"
)

func TestMemoryContract(t *testing.T) {
	blacklisttest.RunStoreSuite(t, func(t *testing.T) blacklist.Store {
		m, err := blacklist.NewMemory(blacklisttest.Policy)
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}
