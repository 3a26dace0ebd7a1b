package storesync

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
)

// hashReader hashes what passes through it. It is deliberately not an
// io.Seeker, so a client that retries cannot rewind it behind our back; a
// retried upload would fail rather than send a different hash.
type hashReader struct {
	r io.Reader
	h hash.Hash
}

func newHashReader(r io.Reader) *hashReader { return &hashReader{r: r, h: sha256.New()} }

func (h *hashReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	return n, err
}

func (h *hashReader) sum() string { return hex.EncodeToString(h.h.Sum(nil)) }
