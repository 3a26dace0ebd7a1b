package storesync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/preconv/preconv/objstore"
	"github.com/preconv/preconv/remote"
)

// Push uploads the committed store at dir to prefix in b (see the package
// doc for what is sent and in which order). Stats.Files counts the store's
// files, Transferred and Bytes what was uploaded, Skipped what the remote
// already had; Version is the sha256 of the pushed .zattrs.
func Push(ctx context.Context, dir string, b objstore.Bucket, prefix string) (remote.Stats, error) {
	return PushWith(ctx, dir, b, prefix, Options{})
}

// upload is one unit of work: a file, or a chunk with its sidecar.
type upload struct {
	f *localFile
	// replace: the remote has one of the keys; the upload changes the
	// remote's committed version, so it waits until .zattrs is gone.
	replace bool
}

// PushWith is Push with options.
func PushWith(ctx context.Context, dir string, b objstore.Bucket, prefix string, o Options) (remote.Stats, error) {
	rb, err := objstore.Sub(b, prefix)
	if err != nil {
		return remote.Stats{}, err
	}
	local, zattrs, err := scanLocal(ctx, dir)
	if err != nil {
		return remote.Stats{}, err
	}
	st := remote.Stats{Files: len(local), Version: hexSHA(zattrs)}
	newMan := manifest{}
	for rel, f := range local {
		newMan[rel] = entry{Size: f.size, SHA256: f.sha}
	}

	// What the remote has.
	list, err := rb.List(ctx, "")
	if err != nil {
		return st, wrapErr(err)
	}
	have := map[string]objstore.Info{}
	for _, in := range list {
		if isStoreFile(in.Key) || in.Key == manifestKey {
			have[in.Key] = in
		}
	}
	var oldZattrs []byte
	var oldMan manifest
	if _, ok := have[zattrsKey]; ok {
		if oldZattrs, err = objstore.ReadAll(ctx, rb, zattrsKey, maxMetaBytes); err != nil && !errors.Is(err, objstore.ErrNotExist) {
			return st, wrapErr(err)
		}
	}
	if _, ok := have[manifestKey]; ok && oldZattrs != nil {
		mb, err := objstore.ReadAll(ctx, rb, manifestKey, maxManifest)
		if err != nil && !errors.Is(err, objstore.ErrNotExist) {
			return st, wrapErr(err)
		}
		if m, perr := parseManifest(mb, rb.String()+"/"+manifestKey); err == nil && perr == nil && m[zattrsKey].SHA256 == hexSHA(oldZattrs) {
			oldMan = m // the remote is in a committed state described by m
		}
	}

	// Decide what to send.
	var uploads []upload
	covered := map[string]bool{} // sidecars that travel with (or were vouched by) their chunk
	var toSend int64
	rels := newMan.keys()
	for _, rel := range rels {
		f := local[rel]
		if f.sidecar == "" {
			continue
		}
		covered[f.sidecar] = true
		in, ok := have[rel]
		if ok && in.Size == f.size {
			if e, ok := oldMan[rel]; ok && e == newMan[rel] && oldMan[f.sidecar] == newMan[f.sidecar] {
				continue
			}
			if _, ok := have[f.sidecar]; ok {
				rs, err := objstore.ReadAll(ctx, rb, f.sidecar, maxMetaBytes)
				if err == nil && bytes.Equal(rs, f.sidecarBytes) {
					continue
				}
				if err != nil && !errors.Is(err, objstore.ErrNotExist) {
					return st, wrapErr(err)
				}
			}
		}
		_, hasSide := have[f.sidecar]
		uploads = append(uploads, upload{f: f, replace: ok || hasSide})
		toSend += f.size + int64(len(f.sidecarBytes))
	}
	for _, rel := range rels {
		f := local[rel]
		if f.sidecar != "" || covered[rel] || rel == zattrsKey {
			continue
		}
		in, ok := have[rel]
		if ok && in.Size == f.size {
			if e, ok := oldMan[rel]; ok && e == newMan[rel] {
				continue
			}
		}
		uploads = append(uploads, upload{f: f, replace: ok})
		toSend += f.size
	}
	var stale []string
	for k := range have {
		if _, keep := local[k]; !keep && k != manifestKey {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	sameZattrs := oldZattrs != nil && bytes.Equal(oldZattrs, zattrs)
	if len(uploads) == 0 && len(stale) == 0 && sameZattrs && oldMan != nil && manifestsEqual(oldMan, newMan) {
		st.Skipped = st.Files
		return st, nil
	}

	m := &meter{o: &o, total: toSend + int64(len(zattrs))}
	run := func(replace bool) error {
		var these []upload
		for _, u := range uploads {
			if u.replace == replace {
				these = append(these, u)
			}
		}
		return forEach(ctx, o.workers(), these, func(ctx context.Context, u upload) error {
			return pushOne(ctx, dir, rb, u.f, m)
		})
	}
	// Phase 1: new keys only; the remote's committed version stays readable.
	if err := run(false); err != nil {
		return stats(st, m), wrapErr(err)
	}
	// Phase 2: take the commit point away, replace keys.
	if oldZattrs != nil {
		cur, err := objstore.ReadAll(ctx, rb, zattrsKey, maxMetaBytes)
		if err != nil && !errors.Is(err, objstore.ErrNotExist) {
			return stats(st, m), wrapErr(err)
		}
		if !bytes.Equal(cur, oldZattrs) {
			return stats(st, m), fmt.Errorf("%s: another push committed while this one ran; push again: %w", rb, remote.ErrConflict)
		}
	}
	if err := rb.Delete(ctx, zattrsKey); err != nil {
		return stats(st, m), wrapErr(err)
	}
	if err := rb.Delete(ctx, manifestKey); err != nil {
		return stats(st, m), wrapErr(err)
	}
	if err := run(true); err != nil {
		return stats(st, m), wrapErr(err)
	}
	// The local store must not have changed meanwhile.
	now, err := readLimited(filepath.Join(dir, zattrsKey), maxMetaBytes)
	if err != nil || !bytes.Equal(now, zattrs) {
		return stats(st, m), fmt.Errorf("%s: the store changed during the push (an extraction ran?); push again", dir)
	}
	mb, _ := json.MarshalIndent(newMan, "", " ")
	if err := rb.Put(ctx, manifestKey, bytes.NewReader(mb), int64(len(mb))); err != nil {
		return stats(st, m), wrapErr(err)
	}
	if err := ctx.Err(); err != nil {
		return stats(st, m), err
	}
	if err := rb.Put(ctx, zattrsKey, bytes.NewReader(zattrs), int64(len(zattrs))); err != nil {
		return stats(st, m), wrapErr(err)
	}
	m.moved(zattrsKey, int64(len(zattrs)))
	// After the commit: remove what the new version no longer has.
	for _, k := range stale {
		if err := rb.Delete(ctx, k); err != nil {
			return stats(st, m), wrapErr(err)
		}
	}
	return stats(st, m), nil
}

func stats(st remote.Stats, m *meter) remote.Stats {
	st.Transferred = int(m.files.Load())
	st.Bytes = m.bytes.Load()
	st.Skipped = st.Files - st.Transferred
	return st
}

func manifestsEqual(a, b manifest) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// pushOne uploads a file; a chunk goes as: delete remote sidecar, put chunk
// (hash checked against the sidecar while reading), put sidecar.
func pushOne(ctx context.Context, dir string, rb objstore.Bucket, f *localFile, m *meter) error {
	if f.sidecar != "" {
		if err := rb.Delete(ctx, f.sidecar); err != nil {
			return err
		}
	}
	p := filepath.Join(dir, filepath.FromSlash(f.rel))
	fh, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	defer fh.Close()
	hr := newHashReader(fh)
	if err := rb.Put(ctx, f.rel, hr, f.size); err != nil {
		return err
	}
	if got := hr.sum(); got != f.sha {
		// The file changed or is damaged: do not leave it behind.
		rb.Delete(context.WithoutCancel(ctx), f.rel)
		return fmt.Errorf("%s: %s: content does not match its recorded sha256 (run 'preconv store verify'): %w", dir, f.rel, remote.ErrCorrupt)
	}
	m.moved(f.rel, f.size)
	if f.sidecar != "" {
		if err := rb.Put(ctx, f.sidecar, bytes.NewReader(f.sidecarBytes), int64(len(f.sidecarBytes))); err != nil {
			return err
		}
		m.moved(f.sidecar, int64(len(f.sidecarBytes)))
	}
	return nil
}

// wrapErr adds remote's sentinels to objstore's.
func wrapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, objstore.ErrAuth) && !errors.Is(err, remote.ErrAuth):
		return fmt.Errorf("%w (%w)", err, remote.ErrAuth)
	}
	return err
}
