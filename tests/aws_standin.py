"""A local AWS stand-in for the tests and the demo: moto's server on 127.0.0.1 (STS, IAM, S3).

Not part of the product: it needs the ``standin`` extra (moto, flask). Private, like jupysql's
``_testing``. Nothing here ever talks to real AWS: every client is pointed at the loopback server.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from dataclasses import dataclass
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
# Any key works while IAM auth is off; moto's documented example key keeps scanners quiet.
SETUP_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SETUP_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def trust(*principals: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": list(principals)}, "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"]}],
    })


def allow(actions, resources="*") -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
    })


@dataclass(frozen=True)
class User:
    name: str
    arn: str
    access_key_id: str
    secret_access_key: str

    def environ(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key}


class LocalAws:
    """moto's ThreadedMotoServer on 127.0.0.1 with helpers to seed users, roles and buckets."""

    def __init__(self, port: int = 0):
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.url = ""
        # One boto3 session and one client per service for the setup key, made on first use: a new
        # session per call cost ~50 ms (every test seeds a user), and nothing in them changes.
        self._seed_session: Any = None
        # IAM auth as last set here (None: not yet). Switching it off again is skipped: every test
        # does at setup and teardown, and this server is switched only through set_auth.
        self._auth: bool | None = None
        self._setup_clients: dict[str, object] = {}

    def start(self) -> LocalAws:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self.set_auth(False)
        self._server.stop()

    def _post(self, path: str, body: bytes = b"") -> None:
        request = urllib.request.Request(self.url + path, data=body, method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def reset(self) -> None:
        """Forget every user, role, bucket and credential; IAM auth off."""
        self.set_auth(False)
        self._post("/moto-api/reset")

    def set_auth(self, enabled: bool) -> None:
        """With auth on, unknown keys, wrong secrets, missing permissions and trust are refused."""
        if not enabled and self._auth is False:
            return
        self._post("/moto-api/reset-auth", b"0" if enabled else b"inf")
        self._auth = enabled

    def client_environ(self) -> dict[str, str]:
        """Environment variables that point any AWS SDK or the CLI at this server."""
        return {"AWS_ENDPOINT_URL": self.url, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}

    def client(self, service: str, **credentials):
        """A client of this server; without ``credentials``, the setup key's (one per service, reused).

        Made from a session of its own, not boto3's default one: the code under test owns that.
        """
        if not credentials and service in self._setup_clients:
            return self._setup_clients[service]
        if self._seed_session is None:
            import boto3

            self._seed_session = boto3.session.Session()
        client = self._seed_session.client(
            service, endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=credentials.get("aws_access_key_id", SETUP_KEY_ID),
            aws_secret_access_key=credentials.get("aws_secret_access_key", SETUP_SECRET),
            aws_session_token=credentials.get("aws_session_token"),
        )
        if not credentials:
            self._setup_clients[service] = client
        return client

    # -- seeding (run with auth off) -------------------------------------------------------------

    def create_user(self, name: str, policy: str | None = None) -> User:
        iam = self.client("iam")
        arn = iam.create_user(UserName=name)["User"]["Arn"]
        iam.put_user_policy(UserName=name, PolicyName="access",
                            PolicyDocument=policy or allow(["sts:*", "s3:*", "iam:Get*", "iam:List*"]))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return User(name, arn, key["AccessKeyId"], key["SecretAccessKey"])

    def create_role(self, name: str, trusted: list[str], policy: str | None = None, max_session: int = 43200) -> str:
        iam = self.client("iam")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust(*trusted),
                              MaxSessionDuration=max_session)["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="access",
                            PolicyDocument=policy or allow(["sts:*", "s3:*"]))
        return arn

    def create_bucket(self, name: str, objects: dict[str, bytes] | None = None) -> None:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        for key, body in (objects or {}).items():
            s3.put_object(Bucket=name, Key=key, Body=body)
