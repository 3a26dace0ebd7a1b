#!/bin/sh
# fetch-nsfwjs.sh [DEST] — fetch npm nsfwjs@4.4.0 with `npm pack` (tarball
# cached in $PRECONV_CACHE/npm, default ~/.cache/preconv/npm) and extract its
# TF.js layers-models package/dist/models/{mobilenet_v2,inception_v3} into
# DEST (default $PRECONV_CACHE/nsfwjs-4.4.0, i.e. where model/tfjs tests
# look). The files stay as the package ships them (model.min.js and
# group1-shardNofM.min.js JS modules); model/tfjs unwraps them in Go.
set -eu
VERSION=4.4.0
CACHE=${PRECONV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/preconv}
DEST=${1:-$CACHE/nsfwjs-$VERSION}
command -v npm >/dev/null 2>&1 || { echo "fetch-nsfwjs: npm not found: install Node.js/npm (Debian: apt-get install npm)" >&2; exit 1; }
mkdir -p "$CACHE/npm"
TGZ="$CACHE/npm/nsfwjs-$VERSION.tgz"
if [ ! -s "$TGZ" ]; then
	TMP=$(mktemp -d "$CACHE/npm/.pack-XXXXXX")
	(cd "$TMP" && npm pack --silent "nsfwjs@$VERSION" >/dev/null)
	mv "$TMP"/nsfwjs-$VERSION.tgz "$TGZ"
	rmdir "$TMP"
fi
mkdir -p "$DEST"
TMP=$(mktemp -d "$DEST/.x-XXXXXX")
tar -xzf "$TGZ" -C "$TMP" package/dist/models/mobilenet_v2 package/dist/models/inception_v3
for m in mobilenet_v2 inception_v3; do
	rm -rf "$DEST/$m"
	mv "$TMP/package/dist/models/$m" "$DEST/$m"
done
rm -rf "$TMP"
echo "$DEST"
