//go:build unix

package server

import (
	"os"
	"syscall"
)

// linkCount returns the hard link count of a file.
func linkCount(fi os.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Nlink), true
}
