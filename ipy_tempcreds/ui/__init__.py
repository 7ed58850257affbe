"""The notebook side: the only layer that imports IPython, ipywidgets and anywidget.

``extension`` loads and unloads (magics, the pre-cell hook, completion, the Grant's HTML), ``magics``
parses a line and calls the core (``arguments`` turns lines into arguments and errors into one
line, ``hints`` words a fix as a magic's option or the panel's field), ``display`` words results,
``sso_magic`` runs ``%sso_login``, and ``widgets/`` holds the panels (Python, and the JavaScript and
CSS that run in the browser)."""
