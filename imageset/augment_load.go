package imageset

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// View is one row of an augmented extraction: view K of items[Item], whose
// content key (ViewKey) is Key and seeds its random draws. View 0 is the
// un-augmented preprocessing.
type View struct {
	Item int
	K    int
	Key  string
}

// LoadViews is Load for augmented views: each view's image is decoded,
// augmented with a (views with K > 0; view 0 is the plain preprocessing,
// byte-identical to Load) and preprocessed. Batch.Index holds positions in
// views. Batches come in order and are identical for any worker count and
// any batch size (each view's pixels depend only on its image, a and its
// key). Errors and cancellation behave as in Load.
func LoadViews(ctx context.Context, items []Item, views []View, pre Preprocess, a Augment, opts LoadOptions) iter.Seq2[*Batch, error] {
	for _, v := range views {
		if v.Item < 0 || v.Item >= len(items) || v.K < 0 {
			panic(fmt.Sprintf("imageset: LoadViews: view %+v outside %d items", v, len(items)))
		}
	}
	// Rows report their view's image: its label and path.
	vitems := make([]Item, len(views))
	for i, v := range views {
		vitems[i] = items[v.Item]
	}
	return pipeline(ctx, vitems, pre, opts, func(pos int, dst []float32, s *scratch) error {
		v := views[pos]
		return loadView(items[v.Item].Path, v, pre, a, opts.MaxPixels, dst, s)
	})
}

// loadView decodes, augments (K > 0) and preprocesses one view into dst.
// Errors are *ItemError.
func loadView(path string, v View, pre Preprocess, a Augment, maxPixels int64, dst []float32, s *scratch) (err error) {
	if v.K == 0 || a.IsZero() {
		return loadOne(path, pre, maxPixels, dst, s)
	}
	defer func() {
		if p := recover(); p != nil {
			err = &ItemError{Path: path, Err: fmt.Errorf("%w: panic: %v", ErrCorrupt, p)}
		}
	}()
	img, err := s.decodePath(path, maxPixels)
	if err != nil {
		return &ItemError{Path: path, Err: err}
	}
	img, err = AugmentImage(img, a, v.Key)
	if err != nil {
		return &ItemError{Path: path, Err: err}
	}
	if err := pre.apply(img, dst, s); err != nil {
		var ie *ItemError
		if errors.As(err, &ie) {
			return ie
		}
		return &ItemError{Path: path, Err: err}
	}
	return nil
}
