"""The post-run hook: after a cell that AWS refused, one short note below the traceback
(core/access_note.py says what). ``c.TempCreds.explain_access_denied = False`` turns it off.

A cell that succeeded costs one attribute read (``make bench``, row 3c); the note is built only
after a failure, and never hides or replaces the traceback, which IPython has shown already.
"""

from __future__ import annotations

import logging
import sys

from .. import _kernel, api

log = logging.getLogger("ipy_tempcreds")


def after_cell(result=None) -> None:
    error = getattr(result, "error_in_exec", None)
    if error is None:
        return
    _kernel.keep_modules()
    if not api.get_settings().explain_access_denied:
        return
    try:
        from ..core.denials import classify  # light (re); the manager only once AWS refused

        if classify(error) is None:  # a NameError, a missing key...: no note, and no core built
            return
        from ..core.access_note import access_note

        note = access_note(api.get_manager(), error)
    except Exception as exc:  # a note must never add a failure of its own to the user's
        log.warning("ipy_tempcreds: could not explain the error (%s)", type(exc).__name__)
        return
    if note:
        print(note, file=sys.stderr)
