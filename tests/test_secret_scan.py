"""No secret anywhere a full session leaves traces: a real kernel (nbclient) runs assume, status,
whoami, refresh, switch, chaining, a background renewal, error paths (bad input, AccessDenied from
moto with IAM auth on, an exception left uncaught), %federation_token, %session_token, an MFA role,
a named session, the panel, and the repr/str/HTML of every public object, with the
"ipy_tempcreds" and "botocore" loggers at DEBUG into files and IPython's history database
recording inputs *and* outputs. Then the secret access key and session token of every credential
set of the session are looked for, byte for byte, in the saved .ipynb, every captured output, the
logs, history.sqlite, the recent-roles file and the exception messages.

The secrets leave the kernel only through a file written by cells without output: a listener
subscribed to the manager records every grant (and its parents), and the last cell adds the MFA
session's and the named session's sets, which no listener sees.

botocore's own DEBUG log is scanned too: it records request headers (X-Amz-Security-Token: the
session token of whatever signs the call) and STS response bodies (SecretAccessKey, SessionToken),
and the extension redacts every log record of the kernel as it is made (base/logs.py). The
product never turns DEBUG on itself (asserted below). tests/base/test_debug_logging.py turns it on
the two ways users do.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from support import kernel_environment, new_notebook, role_arn

pytestmark = pytest.mark.kernel

READER, OTHER, UNTRUSTED, DOWNSTREAM = role_arn("Reader"), role_arn("Other"), role_arn("Untrusted"), role_arn("Downstream")
SERIAL = "arn:aws:iam::123456789012:mfa/alice"
POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'


def session_cells(paths: dict[str, Path], moto_url: str) -> tuple[list[str], set[int]]:
    """The notebook: (cells, indexes of cells expected to raise)."""
    def auth(value: str) -> str:  # moto's IAM auth on ("0") or off ("inf"), from inside the kernel
        return ("import urllib.request\n"
                f"urllib.request.urlopen(urllib.request.Request({moto_url!r} + '/moto-api/reset-auth', "
                f"data={value!r}.encode(), method='POST', headers={{'Content-Type': 'text/plain'}})).read();")

    cells = [
        # Logging at DEBUG for both loggers, one file each; no output.
        "import json, logging, os\n"
        "for _name in ('ipy_tempcreds', 'botocore'):\n"
        f"    _handler = logging.FileHandler(os.path.join({str(paths['logs'])!r}, _name + '.log'))\n"
        "    _handler.setFormatter(logging.Formatter('%(asctime)s %(name)s %(levelname)s %(message)s'))\n"
        "    logging.getLogger(_name).setLevel(logging.DEBUG)\n"
        "    logging.getLogger(_name).addHandler(_handler)",
        "%load_ext ipy_tempcreds",
        # Every grant (and the grants it was chained from) goes to the secrets file; no output.
        "import ipy_tempcreds as tc\n"
        "from ipy_tempcreds import api as _api\n"
        "_manager, _collected = _api.get_manager(), set()\n"
        "def _dump():\n"
        f"    with open({str(paths['secrets'])!r}, 'w') as _file:\n"
        "        json.dump(sorted(_collected), _file)\n"
        "def _grab(change):\n"
        "    grant = change.grant\n"
        "    while grant is not None:\n"
        "        _collected.update([grant.credentials.secret_access_key, grant.credentials.session_token])\n"
        "        grant = grant.parent\n"
        "    _dump()\n"
        "_manager.subscribe(_grab)",
        f"%config TempCreds.roles = {{'reader': '{READER}'}}",
        f"%assume_role reader --session-name scan-1 --duration 1h --tag project=churn --policy '{POLICY}'",
        "%assume_role",
        "%aws_whoami",
        "%assume_role --refresh",
        f"%assume_role {OTHER} --session-name scan-2",
        f"%assume_role {DOWNSTREAM} --chain --duration 1h --session-name scan-chained",
        "%assume_role --refresh",
        # Error paths: bad input, then AccessDenied with IAM auth on, caught and uncaught.
        "%assume_role arn:aws:iam::123456789012:user/alice",
        auth("0"),
        f"%assume_role {UNTRUSTED} --session-name scan-denied",
        f"try:\n    tc.assume_role({UNTRUSTED!r})\nexcept tc.TempCredsError as error:\n"
        "    print(repr(error)); print(str(error)); print(error.args)",
        f"tc.assume_role({UNTRUSTED!r}, session_name='scan-uncaught')",
        auth("inf"),
        # A renewal by the background thread while a cell runs.
        "%config TempCreds.refresh_margin = 899",  # the 900-second set below is renewed 1 s after issue
        f"%assume_role {READER} --duration 900 --session-name scan-background -q",
        "import time\n_before = os.environ['AWS_ACCESS_KEY_ID']\n"
        "for _ in range(80):\n"
        "    time.sleep(0.05)\n"
        "    if os.environ['AWS_ACCESS_KEY_ID'] != _before:\n"
        "        break\n"
        "print('renewed in the background:', os.environ['AWS_ACCESS_KEY_ID'] != _before)",
        "%config TempCreds.refresh_margin = None",
        "%federation_token scan-fed --duration 1h --policy-arn arn:aws:iam::aws:policy/ReadOnlyAccess",
        "%session_token --duration 1h",
        f"%assume_role {READER} --mfa-serial {SERIAL} --mfa-code 123456 --session-name scan-mfa",
        # Every public object, as repr, str and HTML, and as the notebook displays them.
        "grant = tc.current()\n"
        "print(repr(grant)); print(str(grant)); print(grant._repr_html_())\n"
        "print(repr(grant.credentials)); print(str(grant.credentials)); print(repr(grant.request))\n"
        "print(repr(grant.parent)); print(repr(_manager)); print(repr(_manager.settings))\n"
        "print(repr(tc.whoami())); print(repr(tc.session())); print(repr(tc.session().get_credentials()))\n"
        "for _name in tc.__all__:\n"
        "    print(_name, repr(getattr(tc, _name)))\n"
        "grant",
        "grant.credentials",
        "_other = tc.session(" + repr(OTHER) + ", session_name='scan-named')\n"
        "print(repr(_other), repr(_other.get_credentials()), _manager.named_sessions())\n"
        # The named session's set and the MFA session's, which no listener sees (and clear ends).
        "_frozen = _other.get_credentials().get_frozen_credentials()\n"
        "_collected.update([_frozen.secret_key, _frozen.token])\n"
        "for _session in _manager.issuer.mfa_sessions():\n"
        "    _collected.update([_session.secret_access_key, _session.session_token])\n"
        "_dump()",
        "%assume_role --status",
        "panel = tc.panel()\npanel",
        "%role_panel",
        "%config TempCreds",
        "%assume_role --clear",
        "print(sorted(k for k in os.environ if k.startswith('AWS_')))",
    ]
    raising = {i for i, cell in enumerate(cells)
               if "user/alice" in cell or "scan-denied" in cell or "scan-uncaught" in cell}
    return cells, raising


def run_session(tmp_path: Path, aws) -> dict:
    paths = {"logs": tmp_path / "logs", "secrets": tmp_path / "secrets.json", "ipython": tmp_path / "ipython"}
    paths["logs"].mkdir()
    profile = paths["ipython"] / "profile_default"
    profile.mkdir(parents=True)
    for name in ("ipython_config.py", "ipython_kernel_config.py"):
        # Outputs too, not only inputs: the most a history database can hold.
        (profile / name).write_text("c.HistoryManager.enabled = True\nc.HistoryManager.db_log_output = True\n")
    cells, raising = session_cells(paths, aws.url)
    nb = new_notebook(cells, raising)
    env = kernel_environment(paths["ipython"])
    # nbclient keeps a kernel's history in memory (ipython_hist_file=":memory:") unless told
    # otherwise; a notebook server's kernels write history.sqlite in the profile. Do as they do.
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}},
                   ipython_hist_file=str(profile / "history.sqlite")).execute(env=env)
    saved = tmp_path / "session.ipynb"
    nbformat.write(nb, saved)
    return {"nb": nb, "saved": saved, "paths": paths, "cells": cells, "raising": raising}


def outputs_of(cell) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}\n" + "\n".join(output.traceback))
        else:
            parts.extend(str(value) for value in output.get("data", {}).values())
    return "".join(parts)


def test_a_full_session_leaves_no_secret_anywhere(aws, tmp_path, isolated_environment):
    mallory = aws.create_user("mallory")
    for name in ("Reader", "Other", "Downstream"):
        aws.create_role(name, [aws.base_user.arn])
    aws.create_role("Untrusted", [mallory.arn])

    run = run_session(tmp_path, aws)
    nb, paths = run["nb"], run["paths"]

    # The session really happened (else finding nothing would prove nothing).
    texts = [outputs_of(cell) for cell in nb.cells]
    by_source = dict(zip(run["cells"], texts, strict=True))
    assert texts[4].startswith("Assumed arn:aws:sts::123456789012:assumed-role/Reader/scan-1")
    assert "Renewed" in texts[7] and "assumed-role/Downstream/scan-chained" in texts[9]
    assert "was denied" in texts[13] and "was denied" in texts[14] and "StsError" in texts[15]
    assert "renewed in the background: True" in texts[19]
    assert "federated-user/scan-fed" in texts[21] and "user/moto" in texts[22] and "scan-mfa" in texts[23]
    assert "Grant(arn=" in texts[24] and "assumed-role/Other/scan-named" in texts[26]
    assert "environment is as it was" in by_source["%assume_role --clear"]
    secrets = set(json.loads(paths["secrets"].read_text())) | {aws.base_user.secret_access_key}
    # scan-1, its renewal, scan-2, chained, its renewal, background (+ renewal), federation, MFA
    # role: at least 10 distinct sets (moto's GetSessionToken always returns the same one).
    assert len(secrets) >= 2 * 10

    recent = Path(os.environ["JUPYTER_DATA_DIR"]) / "ipy_tempcreds" / "recent-roles.json"
    history = paths["ipython"] / "profile_default" / "history.sqlite"
    assert history.stat().st_size > 0
    logs = {name: paths["logs"] / f"{name}.log" for name in ("ipy_tempcreds", "botocore")}
    artefacts = {
        "saved notebook": run["saved"].read_bytes(),
        "captured outputs": "\n".join(texts).encode(),
        "ipy_tempcreds DEBUG log": logs["ipy_tempcreds"].read_bytes(),
        "botocore DEBUG log": logs["botocore"].read_bytes(),
        "recent-roles file": recent.read_bytes(),
        **{f"history database {p.name}": p.read_bytes() for p in history.parent.glob("history.sqlite*")},
    }
    # What each artefact must show for the scan to mean anything.
    assert b"Reader" in artefacts["recent-roles file"]
    assert b"renewed" in artefacts["ipy_tempcreds DEBUG log"]
    with sqlite3.connect(history) as db:
        inputs = [row[0] for row in db.execute("SELECT source_raw FROM history")]
        outputs = [row[0] for row in db.execute("SELECT output FROM output_history")]
    assert any("assume_role reader --session-name scan-1" in source for source in inputs)
    assert any("Grant(arn=" in output for output in outputs)

    # (Compared so that a failure names the artefact, not the secret: CI logs are artefacts too.)
    leaks = [(name, f"a secret of {len(secret)} characters") for name, content in artefacts.items()
             for secret in secrets if secret.encode() in content]
    assert leaks == []

    # botocore's log really holds the requests and answers (else finding nothing proves nothing).
    botocore_log = artefacts["botocore DEBUG log"]
    assert b"AssumeRole" in botocore_log and b"GetFederationToken" in botocore_log
    assert b"<SecretAccessKey>[hidden]</SecretAccessKey>" in botocore_log


def test_the_product_never_turns_on_debug_logging_or_adds_handlers(shell, aws):
    """It never raises botocore's log level or attaches handlers, whatever it does."""
    import logging

    loggers = [logging.getLogger(name) for name in ("", "botocore", "ipy_tempcreds", "urllib3")]
    before = [(logger.level, list(logger.handlers)) for logger in loggers]
    aws.create_role("Reader", [aws.base_user.arn])
    for line in (f"{READER} --session-name quiet", "--refresh", "", "--clear"):
        shell.run_line_magic("assume_role", line)
    shell.run_line_magic("aws_whoami", "")
    assert [(logger.level, list(logger.handlers)) for logger in loggers] == before
    assert logging.getLogger("botocore").getEffectiveLevel() > logging.DEBUG


def test_files_it_writes_are_readable_by_the_owner_only(shell, aws, isolated_environment):
    old_umask = os.umask(0o000)  # the most permissive umask a user can have
    try:
        shell.run_line_magic("assume_role", f"{READER} --session-name private -q")
    finally:
        os.umask(old_umask)
    recent = Path(os.environ["JUPYTER_DATA_DIR"]) / "ipy_tempcreds" / "recent-roles.json"
    assert stat.S_IMODE(recent.stat().st_mode) == 0o600
    assert stat.S_IMODE(recent.parent.stat().st_mode) == 0o700
    # A file left world-readable (an older version, a copy) is replaced by a private one.
    recent.chmod(0o644)
    shell.run_line_magic("assume_role", f"{OTHER} --session-name private -q")
    assert stat.S_IMODE(recent.stat().st_mode) == 0o600
    assert not [p for p in recent.parent.iterdir() if p != recent], "temporary files were left behind"


def test_a_damaged_recent_roles_file_costs_only_the_history(shell, aws, tmp_path):
    """Nothing about the history file may stop an assume, or litter the directory with temp files."""
    for number, damage in enumerate(["a directory", "not JSON", "JSON of the wrong shape"]):
        recent = tmp_path / f"private-{number}" / "recent-roles.json"
        recent.parent.mkdir(mode=0o700)
        if damage == "a directory":
            recent.mkdir()
        else:
            recent.write_text("{'roles': [" if damage == "not JSON" else '{"roles": {"label": 1}}')
        shell.run_line_magic("config", f"TempCreds.recent_roles_file = {str(recent)!r}")
        shell.run_line_magic("assume_role", f"{READER} --session-name damaged-{number} -q")
        assert os.environ["AWS_ACCESS_KEY_ID"].startswith("ASIA"), damage
        assert sorted(p.name for p in recent.parent.iterdir()) == ["recent-roles.json"], damage
        if damage != "a directory":
            # Not our shape, so perhaps not our file: left as it was (tests/base/test_faults_input.py).
            assert READER not in recent.read_text(), damage
