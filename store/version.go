package store

import (
	"time"

	"github.com/preconv/preconv/internal/buildinfo"
)

func version() string { return buildinfo.Version }

func now() time.Time { return time.Now().UTC().Truncate(time.Second) }
