"""The kernel around the credentials (issue 12: items 7, 8 and 11): `%reset -f --aggressive`, a
chained role with an MFA device, and os.fork() during a renewal.

`%reset --aggressive` empties sys.modules of everything imported since the shell started, which
would wreck the test process: it runs in a real kernel (nbclient). The fork runs in a child Python
process of its own, against the same loopback moto.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from aws_standin import ACCOUNT
from ipy_tempcreds import api
from strict_sts import strict_aws  # noqa: F401 (the fixture)
from support import kernel_environment, new_notebook, role_arn

READER = role_arn("Reader")
SERIAL = "arn:aws:iam::123456789012:mfa/alice"


def outputs(cell) -> str:
    return "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs)


# -- item 7 --------------------------------------------------------------------------------------------

@pytest.mark.kernel
def test_reset_aggressive_does_not_orphan_the_active_role(aws, tmp_path):
    from nbclient import NotebookClient

    nb = new_notebook([
        "%load_ext ipy_tempcreds",
        f"%assume_role {READER} --session-name before-reset --quiet",
        "%reset -f --aggressive",
        "%assume_role --status",
        "%assume_role --clear",
        ("import os, threading\n"
         "print(os.environ.get('AWS_SESSION_TOKEN') is None,"
         " [t.name for t in threading.enumerate() if t.name.startswith('ipy_tempcreds')])"),
    ])
    NotebookClient(nb, kernel_name="python3", timeout=60,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=kernel_environment(tmp_path / "ipy"))
    assert "assumed-role/Reader/before-reset" in outputs(nb.cells[3])
    assert outputs(nb.cells[4]).startswith("Released the temporary credentials")
    assert outputs(nb.cells[5]).strip() == "True []"


# -- item 8 --------------------------------------------------------------------------------------------

def test_chain_with_an_mfa_serial_sends_the_code_with_the_serial(aws, strict_aws, run):
    alice = aws.base_user
    aws.create_role("First", [alice.arn])
    aws.create_role("Reader", [f"arn:aws:sts::{ACCOUNT}:assumed-role/First/first"])
    run(f"%assume_role {role_arn('First')} --session-name first")
    run(f"%assume_role {READER} --chain --mfa-serial {SERIAL} --mfa-code 123456 --duration 1h --session-name second")
    chained = [r for r in strict_aws.requests if r["Action"] == "AssumeRole"][-1]
    assert chained["temporary"] and chained["SerialNumber"] == SERIAL and chained.get("TokenCode") == "123456"
    assert api.current().arn.endswith("assumed-role/Reader/second")


# -- item 11 -------------------------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import json, os, sys, threading, time
    from ipy_tempcreds.core.manager import CredentialManager
    reader, other, proxy_url = sys.argv[1:4]
    os.environ["AWS_ENDPOINT_URL_STS"] = proxy_url          # its second AssumeRole (the renewal) hangs
    manager = CredentialManager()
    manager.settings.refresh_margin = 899                    # 15-minute credentials due in 1 s
    manager.activate(manager.role_request(reader, duration=900, session_name="parent"))
    time.sleep(2)                                            # the renewal is waiting on STS
    pid = os.fork()
    if pid == 0:
        try:
            manager.settings.refresh_margin = None
            grant = manager.activate(manager.role_request(other, duration=3600, session_name="child"))
            names = [t.name for t in threading.enumerate() if t.name.startswith("ipy_tempcreds")]
            refreshing = threading.Thread(target=manager.refresh, daemon=True)
            refreshing.start()
            refreshing.join(10)                              # a lock copied held would block it forever
            print(json.dumps({"arn": grant.arn, "threads": names, "refreshed": not refreshing.is_alive(),
                              "renewed": manager.current().arn}), flush=True)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    os._exit(0)
""")


def test_a_fork_during_a_renewal_leaves_a_child_that_can_assume_and_renew(aws, tmp_path):
    from faultproxy import FaultProxy

    proxy = FaultProxy(aws.url).start()
    proxy.fault("delay", seconds=30, after=1, times=1)
    script = tmp_path / "fork.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    try:
        done = subprocess.run([sys.executable, str(script), READER, role_arn("Other"), proxy.url], env=env,
                              capture_output=True, text=True, timeout=40, check=False)
    finally:
        proxy.stop()
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the child printed nothing (hung on the parent's lock?): {done.stderr[-500:]}"
    child = json.loads(lines[-1])
    assert child["arn"].endswith("assumed-role/Other/child") and child["threads"], child
    assert child["refreshed"] and child["renewed"].endswith("assumed-role/Other/child"), child
