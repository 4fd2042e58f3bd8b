// Package stripemeter is the Go client of the stripemeter usage-metering service.
//
// It records billable usage events and reads usage back: events are stamped and given the
// server's own idempotency key on the client, so a retry (the client's or yours) is never
// counted twice; quantities travel as exact decimal strings; failed calls are retried with
// exponential backoff and jitter and fail over across several base URLs; errors are typed
// from the server's RFC 9457 problem bodies.
//
// The module path ends in "go", so import it under its package name:
//
//	import stripemeter "github.com/stripemeter/stripemeter/sdk/go"
//
// The package uses the standard library only.
package stripemeter
