"""The demo's scratch folder: copies of the notebooks (JupyterLab saves outputs into what it opens,
and the checkout must stay clean), the kernel's IPython profile and HOME, and `mfa_code.py`, the
demo's authenticator app. Deleted when the demo stops."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

MFA_CODE_PY = '''"""The demo's authenticator app: prints the analyst's current MFA code (a TOTP, as a phone app shows)."""
import sys

sys.path.insert(0, {tests!r})
import totp

print(f"{{totp.code({seed!r})}}  (the MFA code for {serial}; a new one in {{totp.seconds_left()}} s)")
'''


def make(prefix: str = "ipy_tempcreds-demo-") -> Path:
    """A new scratch folder with ``notebooks/`` (copies of the project's notebooks) and ``home/``."""
    scratch = Path(tempfile.mkdtemp(prefix=prefix))
    shutil.copytree(NOTEBOOKS, scratch / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (scratch / "home").mkdir()
    return scratch


def add_profile(scratch: Path, config: str) -> Path:
    """An IPython directory whose default profile holds ``config``; returns the directory."""
    profile = scratch / "ipython" / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "ipython_config.py").write_text(config)
    return scratch / "ipython"


def add_mfa_code(scratch: Path, seed: str, serial: str) -> None:
    (scratch / "notebooks" / "mfa_code.py").write_text(
        MFA_CODE_PY.format(tests=str(ROOT / "tests"), seed=seed, serial=serial))


def remove(scratch: Path) -> None:
    shutil.rmtree(scratch, ignore_errors=True)
