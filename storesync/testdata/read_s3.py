"""Read a store pushed by preconv from an S3 server with Python zarr.

Usage: read_s3.py ENDPOINT ACCESS SECRET BUCKET PREFIX
Prints JSON: features shape, labels, keys, the float64 sum of the features
and the first row. Uses s3fs when installed, else a small boto3 mapping
(wrapped in zarr.storage.KVStore).
"""
import collections.abc
import json
import sys

import numpy as np
import zarr

endpoint, access, secret, bucket, prefix = sys.argv[1:6]
try:
    import s3fs

    fs = s3fs.S3FileSystem(key=access, secret=secret, client_kwargs={"endpoint_url": endpoint})
    store = s3fs.S3Map(f"{bucket}/{prefix}", s3=fs)
    via = "s3fs"
except ImportError:
    import boto3
    import botocore.exceptions

    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access,
                      aws_secret_access_key=secret, region_name="us-east-1")

    class S3Map(collections.abc.Mapping):
        def __getitem__(self, key):
            try:
                return s3.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()
            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] in ("NoSuchKey", "404"):
                    raise KeyError(key)
                raise

        def __iter__(self):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
                for o in page.get("Contents", []):
                    yield o["Key"][len(prefix) + 1:]

        def __len__(self):
            return sum(1 for _ in self)

    store = zarr.storage.KVStore(S3Map())
    via = "boto3"

g = zarr.open_group(store, mode="r")
x = g["features"][:]
print(json.dumps({
    "via": via,
    "shape": list(x.shape),
    "dtype": str(x.dtype),
    "labels": g["labels"][:].tolist(),
    "keys": [k.decode() for k in g["keys"][:]],
    "sum": float(x.astype(np.float64).sum()),
    "first": x[0].tolist(),
    "classes": g.attrs["classes"],
}))
