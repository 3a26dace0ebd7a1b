// Package buildinfo holds the preconv version recorded in caches and run
// bundles.
package buildinfo

// Version is the preconv release; it is written into every store's and run's
// provenance.
const Version = "0.1.0-dev"
