//go:build (linux || darwin) && (amd64 || arm64)

package openblas

import (
	"errors"
	"fmt"

	"github.com/ebitengine/purego"
)

// Open loads OpenBLAS from path, or from the first of DefaultPaths that
// loads when path is "". A library loaded once stays loaded.
func Open(path string) (*Lib, error) {
	paths := DefaultPaths
	if path != "" {
		paths = []string{path}
	}
	var errs []error
	for _, p := range paths {
		h, err := purego.Dlopen(p, purego.RTLD_NOW|purego.RTLD_GLOBAL)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", p, err))
			continue
		}
		l := &Lib{path: p}
		if err := l.bind(h); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", p, err))
			continue
		}
		return l, nil
	}
	return nil, fmt.Errorf("%w: %w", ErrNotFound, errors.Join(errs...))
}

func (l *Lib) bind(h uintptr) error {
	for _, s := range []string{"cblas_sgemm", "openblas_set_num_threads"} {
		if _, err := purego.Dlsym(h, s); err != nil {
			return fmt.Errorf("missing symbol %s", s)
		}
	}
	purego.RegisterLibFunc(&l.sgemm, h, "cblas_sgemm")
	purego.RegisterLibFunc(&l.setThreads, h, "openblas_set_num_threads")
	if _, err := purego.Dlsym(h, "openblas_get_config"); err == nil {
		purego.RegisterLibFunc(&l.config, h, "openblas_get_config")
	}
	return nil
}
