// Package ari is the helpline's client for the Asterisk REST Interface.
//
// (Draft package comment; completed with the REST and event layers.)
package ari

//go:generate go run ./internal/gen
