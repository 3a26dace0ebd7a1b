package imageset

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Item is one image of a dataset.
type Item struct {
	Path   string `json:"path"`   // file path: the root joined with Rel, or as given in a manifest
	Rel    string `json:"rel"`    // relative to the dataset root (or manifest directory), slash-separated
	Label  int    `json:"label"`  // index into Dataset.Classes
	Class  string `json:"class"`  // Classes[Label]
	Split  string `json:"split"`  // "train", "valid" or "" (unsplit)
	SHA256 string `json:"sha256"` // hex SHA-256 of the file bytes; filled by Hash
}

// Dataset is a list of labelled images.
type Dataset struct {
	Root    string   `json:"root"`
	Classes []string `json:"classes"`
	Items   []Item   `json:"items"`
}

// IMGExtensions are torchvision's IMG_EXTENSIONS (datasets/folder.py),
// matched case-insensitively; Scan's default. .ppm, .pgm, .tif and .tiff are
// listed (as torchvision lists them) but cannot be decoded: they become
// per-item errors when loaded.
var IMGExtensions = []string{".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}

// ScanOptions configures Scan. The zero value is torchvision's behaviour.
type ScanOptions struct {
	// Extensions to keep (lower case, with the dot); nil means IMGExtensions.
	Extensions []string
	// NoFollow disables following symlinked directories (symlinked files
	// are always listed).
	NoFollow bool
}

func (o ScanOptions) keep(name string) bool {
	exts := o.Extensions
	if exts == nil {
		exts = IMGExtensions
	}
	l := strings.ToLower(name)
	for _, e := range exts {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	return false
}

// Scan lists an ImageFolder tree root/<class>/.../<image>. Classes are the
// sorted names of root's subdirectories (symlinks to directories count), as
// torchvision's find_classes. Within a class, files are listed in
// torchvision's make_dataset order: directories sorted by path (walking
// nested folders and, unless NoFollow, symlinked ones; a directory already
// visited through another link is skipped, so loops end), and the file names
// of each directory sorted. Files whose extension is not kept are ignored;
// directories named like images ("x.jpg/") are walked, not listed. Symlinks
// to files are listed even when broken (they fail at load time, as in
// torchvision). Files directly in root are ignored.
//
// Scan fails with ErrNoClasses when root has no class directory or no image.
// Empty classes keep their label (torchvision raises instead).
func Scan(root string, opts ScanOptions) (*Dataset, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	var classes []string
	for _, e := range ents {
		if isDir(filepath.Join(root, e.Name()), e) {
			classes = append(classes, e.Name())
		}
	}
	sort.Strings(classes)
	if len(classes) == 0 {
		return nil, fmt.Errorf("scan %s: no class subdirectories: %w", root, ErrNoClasses)
	}
	ds := &Dataset{Root: root, Classes: classes}
	for label, c := range classes {
		var files []string
		seen := map[string]bool{}
		if err := walk(filepath.Join(root, c), c, opts, seen, &files); err != nil {
			return nil, fmt.Errorf("scan %s: %w", root, err)
		}
		for _, rel := range files {
			ds.Items = append(ds.Items, Item{Path: filepath.Join(root, filepath.FromSlash(rel)), Rel: rel, Label: label, Class: c})
		}
	}
	if len(ds.Items) == 0 {
		return nil, fmt.Errorf("scan %s: no image files (extensions %v) in %d class folders: %w",
			root, opts.Extensions, len(classes), ErrNoClasses)
	}
	return ds, nil
}

func isDir(p string, e fs.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink != 0 {
		st, err := os.Stat(p)
		return err == nil && st.IsDir()
	}
	return false
}

// walk lists dir (relative name rel) in torchvision's order: sorted(os.walk)
// yields directories in path order and each directory's files sorted.
func walk(dir, rel string, opts ScanOptions, seen map[string]bool, out *[]string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil // a broken directory link: nothing to list
	}
	if seen[real] {
		return nil // loop or second link to the same directory
	}
	seen[real] = true
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type sub struct{ dir, rel string }
	var subs []sub
	var names []string
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() || (e.Type()&fs.ModeSymlink != 0 && isDir(p, e)) {
			if e.Type()&fs.ModeSymlink != 0 && opts.NoFollow {
				continue
			}
			subs = append(subs, sub{p, rel + "/" + e.Name()})
			continue
		}
		if opts.keep(e.Name()) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		*out = append(*out, rel+"/"+n)
	}
	// sorted(os.walk(...)) orders directories by their full path string.
	sort.Slice(subs, func(i, j int) bool { return subs[i].rel < subs[j].rel })
	for _, s := range subs {
		if err := walk(s.dir, s.rel, opts, seen, out); err != nil {
			return err
		}
	}
	return nil
}

// ScanWithValid scans a training tree and a separate validation tree. The
// classes are the training tree's; a validation class missing from it is an
// error. Items get Split "train" and "valid"; Rel of valid items is relative
// to validRoot.
func ScanWithValid(trainRoot, validRoot string, opts ScanOptions) (*Dataset, error) {
	tr, err := Scan(trainRoot, opts)
	if err != nil {
		return nil, err
	}
	va, err := Scan(validRoot, opts)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	for i, c := range tr.Classes {
		idx[c] = i
	}
	for i := range tr.Items {
		tr.Items[i].Split = "train"
	}
	for _, it := range va.Items {
		l, ok := idx[it.Class]
		if !ok {
			return nil, fmt.Errorf("scan %s: class %q is not in the training tree %s: %w", validRoot, it.Class, trainRoot, ErrNoClasses)
		}
		it.Label, it.Split = l, "valid"
		tr.Items = append(tr.Items, it)
	}
	return tr, nil
}

// MaxManifestBytes bounds the manifest size ReadManifest accepts (1 GiB).
const MaxManifestBytes = 1 << 30

// ReadManifest reads a CSV (path,label[,split], header optional) or JSONL
// ({"path":...,"label":...[,"split":...]} per line) manifest; the format is
// chosen by the extension (.csv, .jsonl/.ndjson). Relative paths are
// relative to the manifest's directory. Labels are either all integers
// (classes are then "0".."max", or classNames if given) or all class names
// (classes sorted, labels their indexes). Items keep the manifest's order.
// Errors wrap ErrManifest and name the file and line.
func ReadManifest(file string, classNames []string) (*Dataset, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > MaxManifestBytes {
		return nil, fmt.Errorf("%s: %d bytes, limit %d: %w", file, st.Size(), MaxManifestBytes, ErrManifest)
	}
	type row struct {
		path, label, split string
		line               int
	}
	var rows []row
	bad := func(line int, f string, a ...any) error {
		return fmt.Errorf("%s:%d: %s: %w", file, line, fmt.Sprintf(f, a...), ErrManifest)
	}
	switch ext := strings.ToLower(filepath.Ext(file)); ext {
	case ".csv":
		r := csv.NewReader(bufio.NewReader(f))
		r.FieldsPerRecord = -1
		r.ReuseRecord = true
		for line := 1; ; line++ {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, bad(line, "%v", err)
			}
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue
			}
			if len(rec) < 2 || len(rec) > 3 {
				return nil, bad(line, "%d fields, want path,label[,split]", len(rec))
			}
			if line == 1 && strings.EqualFold(strings.TrimSpace(rec[0]), "path") {
				continue // header
			}
			rw := row{path: strings.TrimSpace(rec[0]), label: strings.TrimSpace(rec[1]), line: line}
			if len(rec) == 3 {
				rw.split = strings.TrimSpace(rec[2])
			}
			rows = append(rows, rw)
		}
	case ".jsonl", ".ndjson":
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			var v struct {
				Path  *string         `json:"path"`
				Label json.RawMessage `json:"label"`
				Split string          `json:"split"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				return nil, bad(line, "%v", err)
			}
			if v.Path == nil || len(v.Label) == 0 {
				return nil, bad(line, `want {"path":..., "label":...}`)
			}
			lab := string(v.Label)
			if lab[0] == '"' {
				if err := json.Unmarshal(v.Label, &lab); err != nil {
					return nil, bad(line, "label: %v", err)
				}
			}
			rows = append(rows, row{path: *v.Path, label: lab, split: v.Split, line: line})
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %v: %w", file, err, ErrManifest)
		}
	default:
		return nil, fmt.Errorf("%s: extension %q (want .csv or .jsonl): %w", file, ext, ErrManifest)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no items: %w", file, ErrManifest)
	}
	// Integer labels or class names?
	numeric := true
	for _, r := range rows {
		if _, err := strconv.Atoi(r.label); err != nil {
			numeric = false
			break
		}
	}
	ds := &Dataset{Root: filepath.Dir(file)}
	idx := map[string]int{}
	if numeric {
		hi := -1
		for _, r := range rows {
			n, _ := strconv.Atoi(r.label)
			if n < 0 || n >= 1<<20 {
				return nil, bad(r.line, "label %d out of range [0, 2^20)", n)
			}
			hi = max(hi, n)
		}
		if classNames != nil {
			if hi >= len(classNames) {
				return nil, fmt.Errorf("%s: label %d but only %d class names: %w", file, hi, len(classNames), ErrManifest)
			}
			ds.Classes = append([]string(nil), classNames...)
		} else {
			for i := 0; i <= hi; i++ {
				ds.Classes = append(ds.Classes, strconv.Itoa(i))
			}
		}
	} else {
		if classNames != nil {
			ds.Classes = append([]string(nil), classNames...)
		} else {
			set := map[string]bool{}
			for _, r := range rows {
				set[r.label] = true
			}
			for c := range set {
				ds.Classes = append(ds.Classes, c)
			}
			sort.Strings(ds.Classes)
		}
		for i, c := range ds.Classes {
			idx[c] = i
		}
	}
	for _, r := range rows {
		if r.path == "" {
			return nil, bad(r.line, "empty path")
		}
		if r.split != "" && r.split != "train" && r.split != "valid" {
			return nil, bad(r.line, "split %q (train, valid or empty)", r.split)
		}
		it := Item{Rel: path.Clean(filepath.ToSlash(r.path)), Split: r.split}
		if filepath.IsAbs(r.path) {
			it.Path = r.path
		} else {
			it.Path = filepath.Join(ds.Root, filepath.FromSlash(r.path))
		}
		if numeric {
			it.Label, _ = strconv.Atoi(r.label)
		} else {
			l, ok := idx[r.label]
			if !ok {
				return nil, bad(r.line, "class %q not in the class names", r.label)
			}
			it.Label = l
		}
		it.Class = ds.Classes[it.Label]
		ds.Items = append(ds.Items, it)
	}
	return ds, nil
}

// Hash fills items[i].SHA256 with the hex SHA-256 of each file's bytes, using
// workers goroutines (<= 0: runtime.NumCPU()). Unreadable items keep an empty
// SHA256; their failures are returned joined (errors.Join of *ItemError), so
// errors.As finds each. Cancelling ctx stops early with ctx.Err().
func Hash(ctx context.Context, items []Item, workers int) error {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	jobs := make(chan int)
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				sum, err := hashFile(items[i].Path)
				if err != nil {
					errs[i] = &ItemError{Path: items[i].Path, Err: stripPath(err)}
					continue
				}
				items[i].SHA256 = sum
			}
		}()
	}
	var ctxErr error
loop:
	for i := range items {
		select {
		case jobs <- i:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	if ctxErr != nil {
		return ctxErr
	}
	return errors.Join(errs...)
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%w (%s)", ErrNotFile, st.Mode().Type())
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// stripPath removes the *fs.PathError wrapper so an ItemError does not name
// the path twice.
func stripPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// SplitByHash sets Split to "valid" for about validFraction of the items and
// "train" for the rest, deterministically from the content hash: an item is
// valid when the first 64 bits of its SHA-256 (big-endian) are below
// validFraction·2^64. Adding, removing or renaming other files never moves
// an item, and duplicate files land in the same split. Items without a hash
// (Hash not run, or unreadable) use the SHA-256 of Rel instead.
func SplitByHash(items []Item, validFraction float64) {
	validFraction = min(max(validFraction, 0), 1)
	for i := range items {
		h := items[i].SHA256
		if len(h) < 16 {
			s := sha256.Sum256([]byte(items[i].Rel))
			h = hex.EncodeToString(s[:8])
		}
		u, err := strconv.ParseUint(h[:16], 16, 64)
		if err != nil {
			s := sha256.Sum256([]byte(h))
			u = uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
				uint64(s[4])<<24 | uint64(s[5])<<16 | uint64(s[6])<<8 | uint64(s[7])
		}
		if float64(u) < validFraction*(1<<64) && validFraction > 0 {
			items[i].Split = "valid"
		} else {
			items[i].Split = "train"
		}
	}
}

// Counts returns the number of items per class (indexed like Classes).
func (d *Dataset) Counts() []int {
	n := make([]int, len(d.Classes))
	for _, it := range d.Items {
		if it.Label >= 0 && it.Label < len(n) {
			n[it.Label]++
		}
	}
	return n
}
