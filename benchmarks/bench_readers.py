"""Issue 14's targets: what following every change costs the readers, side by side in one run.

1. An S3 GetObject through a kept boto3 client whose credentials follow the kernel
   (KernelCredentials) against a client given the same keys as fixed credentials, interleaved
   ABAB (target: <= 2% slower). The credentials lookup alone is timed too, per request.
2. ``pl.read_csv("s3://...")`` with the product's credential provider against polars with the
   same keys in ``storage_options`` (target: <= 1 ms added). For scale, polars' provider hook
   itself with a provider whose keys never expire (what polars costs for any Python provider).
3. The time from a switch (the environment written, followers called) until a followed DuckDB
   connection holds the new identity (target: <= 5 ms); checked by a read as the new role.

The local S3 (moto's server) runs in the parent process (run.py), reached over HTTP.
"""

from __future__ import annotations

import os
import sys
import time
import timeit
import warnings

import common
from common import OTHER, READER

BUCKET = "bench-readers"


def main(repetitions: int) -> None:
    os.environ.setdefault("HOME", "/tmp")  # polars needs one
    shell = common.ipython_shell()
    shell.run_line_magic("load_ext", "ipy_tempcreds")
    from ipy_tempcreds import _kernel, api
    from ipy_tempcreds.followers import duckdb as duckdb_module

    manager = api.get_manager()  # the readers' followers are subscribed when it is created
    followers = _kernel.followers()  # the kernel's (attached by %load_ext above)
    import boto3

    seeder = boto3.client("s3")
    seeder.create_bucket(Bucket=BUCKET)
    seeder.put_object(Bucket=BUCKET, Key="data.csv", Body=b"owner,n\nx,1\n")
    grant = api.assume_role(READER, session_name="bench")
    held = grant.credentials

    # -- 1. boto3 ---------------------------------------------------------------------------------
    following = boto3.client("s3")
    fixed = boto3.client("s3", aws_access_key_id=held.access_key_id, aws_secret_access_key=held.secret_access_key,
                         aws_session_token=held.session_token)
    assert type(following._request_signer._credentials).__name__ == "KernelCredentials"

    def get(client):
        return lambda: client.get_object(Bucket=BUCKET, Key="data.csv")["Body"].read()

    cpu: dict = {}
    follow_times, fixed_times = common.interleaved(get(following), get(fixed), repetitions, warmup=20, cpu=cpu)
    number = 200_000
    lookup_following = timeit.Timer(following._request_signer._credentials.get_frozen_credentials).timeit(number) / number
    lookup_fixed = timeit.Timer(fixed._request_signer._credentials.get_frozen_credentials).timeit(number) / number

    # -- 2. polars --------------------------------------------------------------------------------
    import polars as pl

    url = f"s3://{BUCKET}/data.csv"
    options = {"aws_access_key_id": held.access_key_id, "aws_secret_access_key": held.secret_access_key,
               "aws_session_token": held.session_token}

    def hook_with_fixed_keys():
        return dict(options), None  # polars' provider hook itself, credentials that never expire

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        polars_ours, polars_fixed = common.interleaved(lambda: pl.read_csv(url), lambda: pl.read_csv(url, storage_options=options),
                                                       max(repetitions // 2, 30), warmup=10)
        polars_hook, _ = common.interleaved(lambda: pl.read_csv(url, credential_provider=hook_with_fixed_keys),
                                            lambda: None, max(repetitions // 4, 20), warmup=5)
    provider_call = timeit.Timer(followers.polars.provider).timeit(20_000) / 20_000

    # -- 3. DuckDB --------------------------------------------------------------------------------
    import duckdb
    import duckdb_extension_httpfs

    httpfs = os.path.join(os.path.dirname(duckdb_extension_httpfs.__file__), "extensions",
                          f"v{duckdb.__version__}", "httpfs.duckdb_extension")
    con = duckdb.connect()
    con.execute(f"LOAD '{httpfs}'")
    api.follow(con)
    duckdb_follower = followers.duckdb

    def duckdb_key():
        # Redacted: the key id shows, the secret and the token do not.
        return con.execute("SELECT secret_string FROM duckdb_secrets() WHERE name = ?",
                           [duckdb_module.SECRET_NAME]).fetchone()[0]

    from ipy_tempcreds.model.changes import Change
    from ipy_tempcreds.model.credentials import Grant

    switch_to_duckdb = []
    roles = [OTHER, READER]
    for i in range(max(repetitions // 10, 20)):
        new = manager.sts.obtain(manager.role_request(roles[i % 2], session_name=f"b{i}"))
        new_grant = Grant(credentials=new.credentials, arn=new.arn, account=new.account, user_id=new.user_id,
                          request=None, source="bench", obtained_at=manager.clock())
        change = Change("assume", new_grant, None)
        start = time.perf_counter()
        duckdb_follower.on_change(change)  # from the main thread: returns once the secret is written
        switch_to_duckdb.append(time.perf_counter() - start)
        assert new.credentials.access_key_id in duckdb_key()
    assert con.execute(f"SELECT count(*) FROM read_csv('{url}')").fetchone()[0] == 1  # signs as the last role

    common.report({
        "boto3_following": common.summary(follow_times, 1e3),
        "boto3_fixed": common.summary(fixed_times, 1e3),
        "boto3_following_cpu": common.summary(cpu["a"], 1e3),
        "boto3_fixed_cpu": common.summary(cpu["b"], 1e3),
        "lookup_following_us": lookup_following * 1e6,
        "lookup_fixed_us": lookup_fixed * 1e6,
        "polars_ours": common.summary(polars_ours, 1e3),
        "polars_fixed": common.summary(polars_fixed, 1e3),
        "polars_provider_us": provider_call * 1e6,
        "polars_hook_fixed_keys": common.summary(polars_hook, 1e3),
        "duckdb_switch": common.summary(switch_to_duckdb, 1e3),
        "generation": followers.boto3.generation(),
    })


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
