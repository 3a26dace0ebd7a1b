// Package imageset turns folders of photos into batches of normalized
// float32 tensors: dataset listing (ImageFolder trees, CSV/JSONL manifests,
// content-hash splits), safe decoding (JPEG, PNG, GIF, BMP, WebP with EXIF
// orientation and decompression-bomb limits), torchvision/PIL-exact
// preprocessing, and a parallel, deterministic, cancellable loader.
//
// # Datasets
//
// Scan lists an ImageFolder tree (root/<class>/<image>) the way torchvision's
// ImageFolder does: classes are the sorted names of root's subdirectories,
// files are kept when their extension is one of torchvision's
// IMG_EXTENSIONS, nested folders under a class are included, symlinks to files
// and directories are followed (loops are detected and skipped), and the items
// are sorted by class and then by slash-separated relative path. ReadManifest
// reads CSV (path,label) or JSONL ({"path":...,"label":...}) lists. Hash fills
// each item's SHA-256 in parallel and SplitByHash assigns "train"/"valid" from
// the content hash, so the split is stable when files are added or renamed.
//
// # Preprocessing
//
// A Preprocess is a plain value whose canonical JSON form (json.Marshal)
// names every choice that changes the output pixels; it is meant to be part
// of a feature cache key. Named("torchvision") reproduces
// Resize(256) → CenterCrop(224) → ToTensor → Normalize(ImageNet) of
// torchvision 0.14 with PIL 9.4: the resampler is a re-implementation of
// PIL's ImagingResample (separable filters whose support is scaled by the
// downscale factor, 22-bit fixed-point coefficients, an 8-bit intermediate
// after the horizontal pass), evaluated only for the rows and columns that
// survive the crop. JPEGs are decoded by internal/jpegdec (baseline and
// progressive, libjpeg's islow IDCT), their chroma upsampled with libjpeg's
// "fancy" triangle filters and converted with libjpeg's fixed-point YCbCr
// tables, so decoded pixels equal PIL's exactly and the torchvision tensor
// matches to float rounding. Output is CHW float32, also for models that
// came from TF.js or Keras: preconv's engine is NCHW.
//
// # Speed
//
// On amd64 the color conversion and both resampling passes run planar in
// assembly (resample_amd64.s): 16 pixels per vector with AVX-512 (F, BW;
// VPERMB where VBMI is present), 8 with AVX2 (gathers). They use the same
// integer arithmetic as the Go passes, which remain the portable path and
// the reference every kernel family is tested against byte for byte. Loader workers reuse their file buffer and the
// decoded planes between images. `preconv bench preprocess` measures
// images/s per core beside PIL + torchvision.
//
// # Loading
//
// Load decodes and preprocesses items with N workers and yields batches in
// item order whatever N is; at most Prefetch batches are in flight, so memory
// is bounded. A file that cannot be read, decoded or is too large becomes an
// *ItemError in its batch's Errors; the loader keeps going. Batches are
// byte-for-byte identical for any worker count.
//
// # Known deviations from PIL/torchvision
//
//   - JPEGs that jpegdec declines (CMYK/YCCK, RGB-coded, unusual sampling)
//     are decoded by image/jpeg, whose IDCT differs from libjpeg's by a few
//     8-bit levels; arithmetic-coded JPEGs are refused (image/jpeg lacks
//     them too).
//   - EXIF orientation is applied (torchvision ignores it).
//   - 16-bit grayscale PNGs keep the high byte (PIL clips them to 255).
//   - A GIF's first frame is used at its own bounds; PIL composites frames
//     smaller than the logical screen onto it.
//   - Empty class folders keep their label (torchvision raises).
//
// # Tests and fixtures
//
// testdata/gen_preprocess_ref.py writes the committed parity summary
// (preprocess_ref.json.gz) and, in the heavy tier (PRECONV_HEAVY=1), full
// reference tensors at test time. testdata/gen_corpus.py writes the bad-file
// corpus (testdata/bad) and corpus_ref.json. testdata/bench_preprocess.sh
// runs the decode+preprocess benchmark beside PIL + torchvision.
package imageset
