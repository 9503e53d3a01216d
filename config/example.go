package config

import (
	_ "embed"
	"slices"
)

//go:embed example.yaml
var exampleYAML []byte

// ExampleYAML returns the commented example configuration that
// `helpline config example` prints. It documents every key with its
// default and passes Parse; tests keep it so.
func ExampleYAML() []byte { return slices.Clone(exampleYAML) }
