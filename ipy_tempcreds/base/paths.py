"""Where the product keeps its files, by the rules of the tools it lives beside.

Only paths: nothing here creates, reads or writes a file.
"""

from __future__ import annotations

import os
from pathlib import Path


def recent_roles_path() -> Path:
    """``$JUPYTER_DATA_DIR/ipy_tempcreds/recent-roles.json`` (jupyter_core's data dir rules)."""
    try:
        from jupyter_core.paths import jupyter_data_dir

        base = Path(jupyter_data_dir())
    except ImportError:  # plain IPython without Jupyter
        base = Path(os.environ.get("JUPYTER_DATA_DIR") or Path.home() / ".local" / "share" / "jupyter")
    return base / "ipy_tempcreds" / "recent-roles.json"
