"""pyarrow's S3FileSystem and datasets follow every change by themselves (the AWS C++ SDK reads
the C-level environment on every request): kept tested, in this process, with IAM auth on.

Role A reads only bucket-a, role B only bucket-b, the kernel's own user only bucket-c.
"""

from __future__ import annotations

import os

import pytest

from readers_support import check_every_change, identity, seed_identities

pafs = pytest.importorskip("pyarrow.fs")
pads = pytest.importorskip("pyarrow.dataset")


def test_a_kept_filesystem_and_dataset_reads_follow_every_change(aws):
    seed_identities(aws)
    # pyarrow's S3FileSystem() does not read AWS_ENDPOINT_URL: point it at the local S3 as for MinIO.
    fs = pafs.S3FileSystem(endpoint_override=os.environ["AWS_ENDPOINT_URL"])

    def both(bucket):
        raw = fs.open_input_file(f"{bucket}/data.csv").read()
        rows = pads.dataset(f"{bucket}/data.csv", format="csv", filesystem=fs).to_table().num_rows
        return raw.startswith(b"owner") and rows == 1

    def reads():
        return identity(lambda bucket: _quiet(both, bucket))

    check_every_change(reads)


def _quiet(read, bucket) -> bool:
    try:
        return read(bucket)
    except OSError:  # pyarrow's ACCESS_DENIED
        return False
