package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockInfo is the content of .preconv/lock.
type lockInfo struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

func (l lockInfo) String() string {
	return fmt.Sprintf("pid %d on %s since %s", l.PID, l.Host, l.Since.Format(time.RFC3339))
}

// acquireLock takes the writer lock of a store. The lock file is created
// complete (written to a temp file, then hard-linked into place, which fails
// if it exists). A lock held by a dead process on this host is stale: it is
// taken over and a note is returned. A live holder gives ErrLocked naming it.
func acquireLock(meta string) (release func(), note string, err error) {
	path := filepath.Join(meta, "lock")
	host, _ := os.Hostname()
	me := lockInfo{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)}
	b, _ := json.Marshal(me)
	tmp := filepath.Join(meta, fmt.Sprintf(".tmp-lock-%d", me.PID))
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return nil, "", err
	}
	defer os.Remove(tmp)
	for attempt := 0; attempt < 3; attempt++ {
		if err := os.Link(tmp, path); err == nil {
			return func() { os.Remove(path) }, note, nil
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, "", fmt.Errorf("lock %s: %w", path, err)
		}
		held, rerr := os.ReadFile(path)
		if rerr != nil {
			continue // vanished meanwhile; retry
		}
		var li lockInfo
		if json.Unmarshal(held, &li) != nil || li.PID <= 0 {
			return nil, "", fmt.Errorf("lock %s is unreadable (%q); if no preconv process writes this store, delete it: %w", path, held, ErrLocked)
		}
		if li.Host != host || processAlive(li.PID) {
			return nil, "", fmt.Errorf("%s: held by %s (delete the file only if that process is gone): %w", path, li, ErrLocked)
		}
		// Stale: move it aside atomically so only one taker wins.
		stale := filepath.Join(meta, fmt.Sprintf(".stale-lock-%d", me.PID))
		if os.Rename(path, stale) == nil {
			os.Remove(stale)
			note = fmt.Sprintf("took over stale lock of %s (process is gone)", li)
		}
	}
	return nil, "", fmt.Errorf("lock %s: could not acquire: %w", path, ErrLocked)
}

// processAlive reports whether pid exists on this host.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
