// Package zoo downloads and caches the official torchvision ImageNet
// checkpoints (vgg*, resnet*) that model.Arch builds and model/torch loads.
//
// A checkpoint's file name carries a prefix of its SHA-256 digest
// ("vgg16-397923af.pth"); Fetch verifies it, as torchvision's
// load_state_dict_from_url(check_hash=True) does, writes to a temporary
// file and renames it into the cache only when the digest matches, so the
// cache never holds a partial or corrupt file.
package zoo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrUnknownArch is returned for an architecture without a known checkpoint.
var ErrUnknownArch = errors.New("zoo: no checkpoint for architecture")

// ErrHash is returned when a download's SHA-256 does not start with the
// prefix in its file name; nothing is cached.
var ErrHash = errors.New("zoo: checkpoint hash mismatch")

// ErrDownload is returned (wrapped with the URL) when the server answers
// with an error status or the transfer fails.
var ErrDownload = errors.New("zoo: download failed")

// DefaultBaseURL is where torchvision publishes its checkpoints.
const DefaultBaseURL = "https://download.pytorch.org/models/"

// checkpoints maps architecture names to torchvision's ImageNet checkpoint
// file names (IMAGENET1K_V1 weights).
var checkpoints = map[string]string{
	"vgg11":     "vgg11-8a719046.pth",
	"vgg13":     "vgg13-19584684.pth",
	"vgg16":     "vgg16-397923af.pth",
	"vgg19":     "vgg19-dcbb9e9d.pth",
	"vgg11_bn":  "vgg11_bn-6002323d.pth",
	"vgg13_bn":  "vgg13_bn-abd245e5.pth",
	"vgg16_bn":  "vgg16_bn-6c64b313.pth",
	"vgg19_bn":  "vgg19_bn-c79401a0.pth",
	"resnet18":  "resnet18-f37072fd.pth",
	"resnet34":  "resnet34-b627a593.pth",
	"resnet50":  "resnet50-0676ba61.pth",
	"resnet101": "resnet101-63fe2227.pth",
	"resnet152": "resnet152-394f9c45.pth",
}

// Archs returns the architectures with a known checkpoint, sorted.
func Archs() []string {
	a := make([]string, 0, len(checkpoints))
	for k := range checkpoints {
		a = append(a, k)
	}
	sort.Strings(a)
	return a
}

// FileName returns the checkpoint file name of arch ("vgg16-397923af.pth").
func FileName(arch string) (string, error) {
	f, ok := checkpoints[arch]
	if !ok {
		return "", fmt.Errorf("%q (known: %s): %w", arch, strings.Join(Archs(), ", "), ErrUnknownArch)
	}
	return f, nil
}

// HashPrefix returns the hex SHA-256 prefix encoded in a checkpoint file
// name: the characters between the last '-' and the extension.
func HashPrefix(file string) (string, error) {
	base := strings.TrimSuffix(file, filepath.Ext(file))
	i := strings.LastIndexByte(base, '-')
	if i < 0 || len(base)-i-1 < 6 {
		return "", fmt.Errorf("file name %q has no hash prefix: %w", file, ErrHash)
	}
	p := base[i+1:]
	if _, err := hex.DecodeString(p + strings.Repeat("0", len(p)%2)); err != nil {
		return "", fmt.Errorf("file name %q: hash prefix %q is not hex: %w", file, p, ErrHash)
	}
	return p, nil
}

// DefaultCacheDir returns $PRECONV_CACHE if set, else ~/.cache/preconv.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("PRECONV_CACHE"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("zoo: no cache dir: set PRECONV_CACHE: %w", err)
	}
	return filepath.Join(home, ".cache", "preconv"), nil
}

// Fetcher downloads checkpoints into a cache directory. The zero value
// uses DefaultBaseURL, DefaultCacheDir and http.DefaultClient.
type Fetcher struct {
	// BaseURL is the URL prefix the file name is appended to.
	BaseURL string
	// CacheDir holds checkpoints under CacheDir/torchvision/.
	CacheDir string
	// Client performs the requests.
	Client *http.Client
	// MaxBytes bounds a download (default 4 GiB).
	MaxBytes int64
}

// Result describes one fetched checkpoint.
type Result struct {
	Arch   string `json:"arch"`
	Path   string `json:"path"`
	URL    string `json:"url"`
	Bytes  int64  `json:"bytes"`
	Cached bool   `json:"cached"` // already in the cache, nothing downloaded
}

// Fetch returns the cached checkpoint of arch, downloading and verifying
// it first if it is not cached yet.
func (f *Fetcher) Fetch(ctx context.Context, arch string) (Result, error) {
	file, err := FileName(arch)
	if err != nil {
		return Result{}, err
	}
	return f.fetchFile(ctx, arch, file)
}

// fetchFile fetches the checkpoint called file for arch.
func (f *Fetcher) fetchFile(ctx context.Context, arch, file string) (Result, error) {
	var err error
	base := f.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	cache := f.CacheDir
	if cache == "" {
		if cache, err = DefaultCacheDir(); err != nil {
			return Result{}, err
		}
	}
	dir := filepath.Join(cache, "torchvision")
	res := Result{Arch: arch, Path: filepath.Join(dir, file), URL: base + file}
	if st, err := os.Stat(res.Path); err == nil && st.Mode().IsRegular() {
		res.Bytes, res.Cached = st.Size(), true
		return res, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, fmt.Errorf("zoo: %w", err)
	}
	n, err := f.download(ctx, res.URL, res.Path, file)
	if err != nil {
		return Result{}, err
	}
	res.Bytes = n
	return res, nil
}

func (f *Fetcher) download(ctx context.Context, url, dst, file string) (int64, error) {
	prefix, err := HashPrefix(file)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %v", url, ErrDownload, err)
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %v", url, ErrDownload, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %w: HTTP %s", url, ErrDownload, resp.Status)
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = 4 << 30
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+file+".part-*")
	if err != nil {
		return 0, fmt.Errorf("zoo: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %v", url, ErrDownload, err)
	}
	if n > limit {
		return 0, fmt.Errorf("%s: %w: larger than %d bytes", url, ErrDownload, limit)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); !strings.HasPrefix(sum, prefix) {
		return 0, fmt.Errorf("%s: sha256 %s does not start with %s: %w", url, sum, prefix, ErrHash)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("zoo: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("zoo: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return 0, fmt.Errorf("zoo: %w", err)
	}
	ok = true
	return n, nil
}
