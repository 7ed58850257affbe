"""Tab completion of roles after ``%assume_role`` and ``%%as_role``, for the terminal and for JupyterLab.

JupyterLab asks the kernel through ``IPCompleter.completions()``, which merges every matcher's
results (Python names, keywords, Jedi). This matcher answers only on an ``%assume_role`` or
``%%as_role`` line and
then suppresses the others, so the list holds role candidates and nothing else.
"""

from __future__ import annotations

from IPython.core.completer import SimpleCompletion, context_matcher

MAGIC = "%assume_role"
MAGICS = (MAGIC, "%%as_role")  # the magics whose first word is a role


def role_matcher(get_manager):
    """A matcher offering aliases, role profiles and recent roles for the role argument.

    ``get_manager()`` returns the CredentialManager; it is called only on an ``%assume_role`` or ``%%as_role`` line.
    """

    @context_matcher()
    def complete_roles(context):
        line = context.line_with_cursor.lstrip()
        magic = next((m for m in MAGICS if line.startswith(m + " ")), None)
        if magic is None:
            return {"completions": [], "suppress": False}
        rest = line[len(magic):]
        words = rest.split()
        # What the user typed of this word. IPython's token stops at ':' and '/', so for an ARN it
        # is only the tail; completions replace the token with the matching tail of a candidate.
        fragment = "" if rest.endswith((" ", "\t")) else (words[-1] if words else "")
        before = words[:-1] if fragment else words
        # Only the first positional word is a role (not an option, not an option's value).
        if fragment.startswith("-") or before:
            return {"completions": [], "suppress": False}
        token = context.token if fragment.endswith(context.token) else fragment
        cut = len(fragment) - len(token)
        candidates = set()
        for label, arn in get_manager().roles.candidates():
            candidates.update({label, arn})
        matches = sorted(c for c in candidates if c.startswith(fragment))
        return {
            "completions": [SimpleCompletion(text=c[cut:], type="role") for c in matches],
            "suppress": True,
        }

    complete_roles.matcher_identifier = "ipy_tempcreds.core.roles"
    return complete_roles
