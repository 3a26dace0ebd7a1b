package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config locates a bucket prefix on an S3-compatible server. Zero values
// take the defaults documented on each field.
type S3Config struct {
	// Endpoint is the server URL, "http://127.0.0.1:7070" or
	// "https://host" (default https://s3.amazonaws.com).
	Endpoint string
	// AccessKey and SecretKey (and SessionToken for temporary credentials)
	// sign requests; when AccessKey is empty the AWS environment variables
	// and then the shared credentials file are tried.
	AccessKey, SecretKey, SessionToken string
	// Region (default us-east-1).
	Region string
	// Bucket is the bucket name (required).
	Bucket string
	// Prefix is the folder inside the bucket that keys are relative to (no
	// leading or trailing slash; "" for the bucket root).
	Prefix string
	// MaxRetries per request (default 3).
	MaxRetries int
}

// S3ConfigFromEnv reads Endpoint, credentials and Region from the
// environment (see the package doc); Bucket and Prefix are left empty.
func S3ConfigFromEnv() S3Config {
	c := S3Config{
		Endpoint:     os.Getenv("AWS_ENDPOINT_URL"),
		AccessKey:    os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretKey:    os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN"),
		Region:       os.Getenv("AWS_REGION"),
	}
	if e := os.Getenv("PRECONV_S3_ENDPOINT"); e != "" {
		c.Endpoint = e
	}
	if c.Region == "" {
		c.Region = os.Getenv("AWS_DEFAULT_REGION")
	}
	return c
}

// S3 is a Bucket over an S3 bucket prefix.
type S3 struct {
	cl     *minio.Client
	bucket string
	prefix string // "" or "dir/" (with the slash)
	name   string
}

// NewS3 checks cfg and makes the client; it does not contact the server.
func NewS3(cfg S3Config) (Bucket, error) {
	if cfg.Bucket == "" {
		return nil, fmt.Errorf("s3: no bucket name: %w", ErrBadRef)
	}
	name := "s3://" + cfg.Bucket
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := ValidKey(prefix); err != nil {
			return nil, fmt.Errorf("%s/%s: prefix: %v: %w", name, prefix, err, ErrBadRef)
		}
		name += "/" + prefix
		prefix += "/"
	}
	ep := cfg.Endpoint
	if ep == "" {
		ep = "https://s3.amazonaws.com"
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("%s: endpoint %q: want http(s)://host[:port]: %w", name, ep, ErrBadRef)
	}
	var creds *credentials.Credentials
	if cfg.AccessKey != "" {
		creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken)
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.FileAWSCredentials{},
		})
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	retries := cfg.MaxRetries
	if retries <= 0 {
		retries = 3
	}
	tr, err := minio.DefaultTransport(u.Scheme == "https")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	cl, err := minio.New(u.Host, &minio.Options{
		Creds: creds, Secure: u.Scheme == "https", Region: region,
		BucketLookup: minio.BucketLookupPath, MaxRetries: retries,
		Transport: http.RoundTripper(tr),
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", name, err, ErrBadRef)
	}
	return &S3{cl: cl, bucket: cfg.Bucket, prefix: prefix, name: name}, nil
}

// String is "s3://bucket/prefix".
func (s *S3) String() string { return s.name }

func (s *S3) full(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", fmt.Errorf("%s: %w", s.name, err)
	}
	return s.prefix + key, nil
}

// wrap maps S3 error codes to the package's sentinels.
func (s *S3) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %s %q: %w", s.name, op, key, err)
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey", "NotFound":
		return fmt.Errorf("%s: %s %q: %w", s.name, op, key, ErrNotExist)
	case "NoSuchBucket":
		return fmt.Errorf("%s: %s %q: bucket %q does not exist: %w", s.name, op, key, s.bucket, ErrNotExist)
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
		return fmt.Errorf("%s: %s %q: %s: %w", s.name, op, key, resp.Code, ErrAuth)
	}
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%s: %s %q: %w", s.name, op, key, ErrNotExist)
	}
	if resp.StatusCode == http.StatusForbidden {
		return fmt.Errorf("%s: %s %q: %w", s.name, op, key, ErrAuth)
	}
	return fmt.Errorf("%s: %s %q: %w", s.name, op, key, err)
}

// Get fetches the object; the first response is awaited so an absent key is
// reported here rather than on the first Read.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	k, err := s.full(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.cl.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap("get", key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, s.wrap("get", key, err)
	}
	return &s3Reader{obj: obj, s: s, key: key, size: st.Size}, nil
}

// s3Reader maps errors of later reads (the object may be deleted or
// replaced after the first response) to the package's sentinels.
type s3Reader struct {
	obj       *minio.Object
	s         *S3
	key       string
	size, pos int64
}

func (r *s3Reader) Read(p []byte) (int, error) {
	n, err := r.obj.Read(p)
	r.pos += int64(n)
	if err != nil && err != io.EOF {
		err = r.s.wrap("read", r.key, err)
	}
	return n, err
}

// Seek moves the read offset; the next Read fetches from there with a
// ranged GET (minio-go's Object), so readers such as http.ServeContent
// serving a Range request do not download the object's start.
func (r *s3Reader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += r.pos
	case io.SeekEnd:
		off += r.size
	case io.SeekStart:
	default:
		return r.pos, fmt.Errorf("%s: seek %q: invalid whence %d", r.s, r.key, whence)
	}
	if off < 0 {
		return r.pos, fmt.Errorf("%s: seek %q: negative offset %d", r.s, r.key, off)
	}
	if _, err := r.obj.Seek(off, io.SeekStart); err != nil {
		return r.pos, r.s.wrap("seek", r.key, err)
	}
	r.pos = off
	return off, nil
}

func (r *s3Reader) Close() error { return r.obj.Close() }

// Put uploads the object (multipart above 16 MiB or when size is -1); S3
// makes it visible only once complete.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	k, err := s.full(key)
	if err != nil {
		return err
	}
	src := r
	if size >= 0 {
		// minio-go reads exactly size bytes; check the reader has no more.
		src = &exactReader{r: r, left: size}
	}
	_, err = s.cl.PutObject(ctx, s.bucket, k, src, size, minio.PutObjectOptions{
		ContentType: "application/octet-stream", PartSize: 16 << 20,
		// Keep the aws-chunked streaming signature (plain http) and add
		// Content-MD5: both let the server refuse a truncated body. Without
		// them versitygw v1.8.0 was seen to publish the received prefix of
		// a PUT whose client was canceled mid-body (objstoretest Canceled).
		SendContentMd5: true,
	})
	if err != nil {
		var short *shortError
		if errors.As(err, &short) {
			return fmt.Errorf("%s: put %q: %v: %w", s.name, key, short, ErrShort)
		}
		if resp := minio.ToErrorResponse(err); resp.Code == "UnexpectedEOF" || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s: put %q: reader ended before %d bytes: %w", s.name, key, size, ErrShort)
		}
		return s.wrap("put", key, err)
	}
	return nil
}

// exactReader yields left bytes and fails if the underlying reader ends
// early or has more.
type exactReader struct {
	r    io.Reader
	left int64
}

type shortError struct{ msg string }

func (e *shortError) Error() string { return e.msg }

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(e.r, one[:]); n > 0 {
			return 0, &shortError{"reader has more bytes than size"}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, &shortError{"reader ended before size bytes"}
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// Stat is a HEAD request.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	k, err := s.full(key)
	if err != nil {
		return Info{}, err
	}
	oi, err := s.cl.StatObject(ctx, s.bucket, k, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.wrap("stat", key, err)
	}
	return Info{Key: key, Size: oi.Size, ETag: oi.ETag, Modified: oi.LastModified.UTC()}, nil
}

// List pages through ListObjectsV2 under prefix+prefix.
func (s *S3) List(ctx context.Context, prefix string) ([]Info, error) {
	if err := validPrefix(prefix); err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	var out []Info
	for oi := range s.cl.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, s.wrap("list", prefix, oi.Err)
		}
		key := strings.TrimPrefix(oi.Key, s.prefix)
		if ValidKey(key) != nil { // e.g. a "folder/" marker object
			continue
		}
		out = append(out, Info{Key: key, Size: oi.Size, ETag: oi.ETag, Modified: oi.LastModified.UTC()})
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: list %q: %w", s.name, prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete removes the object (S3 answers success for an absent key).
func (s *S3) Delete(ctx context.Context, key string) error {
	k, err := s.full(key)
	if err != nil {
		return err
	}
	err = s.cl.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{})
	if err != nil && errors.Is(s.wrap("delete", key, err), ErrNotExist) && minio.ToErrorResponse(err).Code != "NoSuchBucket" {
		return nil
	}
	return s.wrap("delete", key, err)
}
