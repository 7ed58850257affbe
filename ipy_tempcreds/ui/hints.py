"""How each frontend words the fix an error names (``Hint``): a magic says ``--duration 1h``, the
panel names its field ("the duration picker (1h)"). Python's words are the error's own
(``Hint.python_words``); ``TempCredsError.worded(magic_words)`` gives a magic's message.
"""

from __future__ import annotations

from ..base.errors import Hint
from ..base.options import flag_of

# The panel's own fields; other options are not in the panel, so it words them as Python does.
PANEL_FIELDS = {"duration": "the duration picker", "mfa_code": "the MFA code field", "role": "the role field",
                "assume": "pick one in the role field and click Assume"}
# Hints that name an action, as a magic says it.
MAGIC_ACTIONS = {"assume": "`%assume_role ROLE`"}


def magic_words(hint: Hint) -> str:
    """``--duration 1h``, ``--chain``: the flag as the magics declare it (base/options.py)."""
    if hint.option in MAGIC_ACTIONS:
        return MAGIC_ACTIONS[hint.option]
    flag, switch = flag_of(hint.option)
    return flag if switch or hint.value is None else f"{flag} {hint.value}"


def panel_words(hint: Hint) -> str:
    """The panel's field for the option, else Python's words."""
    field = PANEL_FIELDS.get(hint.option)
    if field is None:
        return hint.python_words()
    # A value is an example for the duration picker; an example MFA code would only confuse.
    return field if hint.value is None or hint.option == "mfa_code" else f"{field} ({hint.value})"
