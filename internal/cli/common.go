package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// writeJSON prints v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// progress renders a one-line progress bar on w (a terminal's stderr),
// at most a few times a second.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	last  time.Time
	quiet bool
	drawn bool
}

func newProgress(w io.Writer, label string, quiet bool) *progress {
	return &progress{w: w, label: label, quiet: quiet}
}

// update draws done/total with a rate (items/s) and ETA.
func (p *progress) update(done, total int, rate float64, eta time.Duration) {
	if p == nil || p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if done < total && now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	const width = 30
	frac := 0.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d  %.1f img/s  ETA %s   ", p.label, bar, done, total, rate, eta.Round(time.Second))
	p.drawn = true
	if done >= total {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// done ends the progress line.
func (p *progress) done() {
	if p == nil || p.quiet || !p.drawn {
		return
	}
	fmt.Fprintln(p.w)
	p.drawn = false
}

// intList parses "1,2,4".
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		var v int
		if _, err := fmt.Sscanf(f, "%d", &v); err != nil {
			return nil, fmt.Errorf("%q is not an integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// positiveList parses a comma-separated list of positive integers given to
// --flag (thread and worker counts); errors are usage errors naming it.
func positiveList(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 1 {
			return nil, usageError("--%s: %q is not a positive integer", flag, f)
		}
		out = append(out, v)
	}
	return out, nil
}

// humanBytes formats a byte count in decimal units (as disk sizes are sold).
func humanBytes(n int64) string {
	f := float64(n)
	for _, u := range []string{"B", "KB", "MB", "GB", "TB"} {
		if f < 1000 || u == "TB" {
			if u == "B" {
				return fmt.Sprintf("%d B", n)
			}
			return fmt.Sprintf("%.1f %s", f, u)
		}
		f /= 1000
	}
	return ""
}

// humanDur formats seconds as s, min or h.
func humanDur(s float64) string {
	switch {
	case s < 120:
		return fmt.Sprintf("%.0fs", s)
	case s < 7200:
		return fmt.Sprintf("%.1f min", s/60)
	default:
		return fmt.Sprintf("%.1f h", s/3600)
	}
}
