package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Names inside a store directory.
const (
	featuresDir  = "features"
	labelsDir    = "labels"
	keysDir      = "keys"
	recordsFile  = "records.jsonl"
	metaDir      = ".preconv"
	chunkInfoDir = ".preconv/chunks"
	stashDir     = ".preconv/old"
	formatVer    = 1
	auxChunkRows = 1 << 14
)

// Record describes one item of a store, in store order.
type Record struct {
	Index int    `json:"i"`
	Path  string `json:"path"`
	Key   string `json:"key"`
	Label int    `json:"label"`
	Split string `json:"split"`
	// Failed is the reason the item's features could not be computed (its
	// image did not decode); such items are excluded from reading.
	Failed string `json:"failed,omitempty"`
	// View and Image are set for rows of an augmented extraction: the view
	// index (0 = un-augmented) and the content key of the row's image (Key
	// is the view's own key). Absent in stores without views.
	View  int    `json:"view,omitempty"`
	Image string `json:"image,omitempty"`
}

// Provenance is what the store's group attributes (.zattrs, key "preconv")
// record about how the features were made.
type Provenance struct {
	Format      int            `json:"format"`
	Version     string         `json:"preconv_version"`
	Created     time.Time      `json:"created"`
	Spec        Spec           `json:"spec"`
	SpecDigest  string         `json:"spec_digest"`
	Classes     []string       `json:"classes"`
	Count       int            `json:"count"`
	Failed      int            `json:"failed"`
	Splits      map[string]int `json:"splits"`
	ChunkRows   int            `json:"chunk_rows"`
	Chunks      int            `json:"chunks"`
	Level       int            `json:"zstd_level"`
	LayoutHash  string         `json:"layout_digest"`
	ArrayDType  string         `json:"array_dtype"`
	RecordsFile string         `json:"records"`
}

// zattrs is the root .zattrs document.
type zattrs struct {
	Preconv *Provenance `json:"preconv"`
	Classes []string    `json:"classes"`
}

// chunkInfo is the sidecar written (atomically, after the chunk) for every
// features chunk: .preconv/chunks/<c>.json, or .preconv/old/<sha>.json for a
// chunk kept aside for reuse while the layout changes.
type chunkInfo struct {
	File     string         `json:"file"` // relative to the store dir, slash-separated
	Spec     string         `json:"spec"`
	DType    string         `json:"dtype"`
	RowElems int            `json:"row_elems"`
	Rows     int            `json:"rows"` // rows in a full chunk
	Keys     []string       `json:"keys"` // keys of the rows holding items
	Failed   map[int]string `json:"failed,omitempty"`
	SHA256   string         `json:"sha256"`
	Size     int64          `json:"size"`
}

func arrayDType(specDType string) string {
	if specDType == "f16" {
		return "<f2"
	}
	return "<f4"
}

// readChunkInfo parses a sidecar with limits.
func readChunkInfo(path string) (*chunkInfo, error) {
	b, err := readLimited(path, 64<<20)
	if err != nil {
		return nil, err
	}
	var ci chunkInfo
	if err := json.Unmarshal(b, &ci); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", path, err, ErrFormat)
	}
	if ci.Rows <= 0 || ci.RowElems <= 0 || len(ci.Keys) > ci.Rows || ci.File == "" ||
		strings.Contains(ci.File, "..") || int64(ci.Rows)*int64(ci.RowElems) > maxChunkBytes/2 {
		return nil, fmt.Errorf("%s: inconsistent chunk info: %w", path, ErrFormat)
	}
	if _, err := itemSize(ci.DType); err != nil || (ci.DType != "<f4" && ci.DType != "<f2") {
		return nil, fmt.Errorf("%s: dtype %q: %w", path, ci.DType, ErrFormat)
	}
	return &ci, nil
}

// checkChunk reads the chunk file named by ci (relative to dir) and verifies
// size and checksum. It returns the compressed bytes.
func checkChunk(dir string, ci *chunkInfo) ([]byte, error) {
	return checkChunkInto(dir, ci, nil, true)
}

// checkChunkInto is checkChunk reading into buf when it is large enough;
// hash=false checks the size only.
func checkChunkInto(dir string, ci *chunkInfo, buf []byte, hash bool) ([]byte, error) {
	p := filepath.Join(dir, filepath.FromSlash(ci.File))
	b, err := readFileInto(p, ci.Size, buf)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("chunk %s: %w", ci.File, ErrMissing)
		}
		return nil, fmt.Errorf("chunk %s: %v: %w", ci.File, err, ErrDamaged)
	}
	if int64(len(b)) != ci.Size {
		return nil, fmt.Errorf("chunk %s: %d bytes, index says %d: %w", ci.File, len(b), ci.Size, ErrDamaged)
	}
	if !hash {
		return b, nil
	}
	h := sha256.Sum256(b)
	if hex.EncodeToString(h[:]) != ci.SHA256 {
		return nil, fmt.Errorf("chunk %s: checksum mismatch: %w", ci.File, ErrDamaged)
	}
	return b, nil
}

func chunkInfoPath(dir string, c int) string {
	return filepath.Join(dir, filepath.FromSlash(chunkInfoDir), strconv.Itoa(c)+".json")
}

// layoutHash digests the item keys in order (and failures), tying the
// committed metadata to the chunks.
func layoutHash(recs []Record) string {
	h := sha256.New()
	for _, r := range recs {
		h.Write([]byte(r.Key))
		if r.Failed != "" {
			h.Write([]byte{'!'})
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
