"""MkDocs hooks (mkdocs.yml `hooks:`): the reference pages written from the code at build time, and
a check that the built site fetches nothing from another host.

A page asks for a generated part with a marker line, replaced when the site is built:

    <!-- generated: configuration -->   every TempCreds option: type, default, help (the traitlets)
    <!-- generated: magics -->          every magic the extension registers, with its --help
    <!-- generated: api -->             every name of ipy_tempcreds.__all__, for mkdocstrings

So a renamed option, a new magic or a new public name shows in the site without anyone editing a
page, and nothing written by hand can disagree with the code. An unknown marker fails the build.
"""

from __future__ import annotations

import html
import inspect
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

MARKER = re.compile(r"^<!-- generated: ([\w-]+) -->$", re.M)


def on_page_markdown(markdown: str, page, config, files) -> str:
    def replace(match: re.Match) -> str:
        kind = match.group(1)
        if kind not in GENERATORS:
            raise PluginError(f"{page.file.src_uri}: unknown marker 'generated: {kind}' (known: {', '.join(GENERATORS)})")
        return GENERATORS[kind]()

    return MARKER.sub(replace, markdown)


# -- configuration: the traitlets of TempCreds ------------------------------------------------------

KINDS = {"Int": "integer", "Float": "number", "Bool": "`True` or `False`", "Unicode": "text", "Dict": "dict"}


def escaped(text: str) -> str:
    """Help text as Markdown: `code` kept as it is, `<`, `>` and `&` elsewhere escaped."""
    parts = text.split("`")
    return "`".join(part if i % 2 else html.escape(part, quote=False) for i, part in enumerate(parts))


def configuration() -> str:
    from ipy_tempcreds.model.settings import TempCreds

    traits = TempCreds.class_traits(config=True)
    names = [name for name in TempCreds.__dict__ if name in traits]  # in the order they are declared
    out = []
    for name in names:
        trait = traits[name]
        kind = type(trait).__name__
        if kind == "Enum":
            kind_text = "one of " + ", ".join(f"`{value!r}`" for value in trait.values)
        else:
            kind_text = KINDS.get(kind, kind) + (" or `None`" if trait.allow_none else "")
        dynamic = f"_default_{name}" in TempCreds.__dict__  # computed from the machine: its help says how
        default = "see above" if dynamic else f"`{trait.default()!r}`"
        out += [
            f"### `{name}`",
            "",
            f"{escaped(trait.help)}",
            "",
            f"- Type: {kind_text}",
            f"- Default: {default}",
            f"- Set: `c.TempCreds.{name} = …` in `ipython_config.py`, or `%config TempCreds.{name} = …`",
            "",
        ]
    return "\n".join(out)


# -- magics: what --help prints for each -------------------------------------------------------------

def magics() -> str:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.extension_manager.load_extension("ipy_tempcreds")
    out = []
    try:
        for kind, prefix in (("line", "%"), ("cell", "%%")):
            for name, bound in sorted(shell.magics_manager.magics[kind].items()):
                owner = getattr(bound, "__self__", None)
                if owner is None or not type(owner).__module__.startswith("ipy_tempcreds"):
                    continue
                out += [f"## `{prefix}{name}`", "", *help_of(bound, prefix + name), ""]
    finally:
        shell.extension_manager.unload_extension("ipy_tempcreds")
    if not out:
        raise PluginError("the extension registered no magics")
    return "\n".join(out)


def help_of(bound, shown: str) -> list[str]:
    func = getattr(bound, "__func__", bound)
    if not getattr(func, "has_arguments", False):
        return [escaped(inspect.cleandoc(func.__doc__ or "")), "", "It takes no options."]
    getdoc = getattr(func, "getdoc", None)
    if getdoc is not None:
        getdoc()  # ipy_tempcreds builds its parsers on first use (ui/arguments.py)
    text = func.parser.format_help().removeprefix("::").strip("\n")
    # The usage line, then the description, then the options: the description as prose, the rest
    # as the text `%magic --help` prints.
    usage, _, rest = text.partition("\n\n")
    description = inspect.cleandoc(func.parser.description or "")
    options = rest.replace(description, "", 1).strip("\n") if description else rest
    lines = [escaped(description), "", "```text", inspect.cleandoc(usage)]
    if options.strip():
        lines += ["", options]
    return [*lines, "```"]


# -- the Python API: the public names ---------------------------------------------------------------

def api() -> str:
    """A mkdocstrings block per public name, from where it is defined. A class shows what its
    docstring says (its attributes), not every method it has for the package's own use."""
    import ipy_tempcreds

    out = []
    for name in ipy_tempcreds.__all__:
        value = getattr(ipy_tempcreds, name)
        path = f"{value.__module__}.{value.__qualname__}"
        out += [f"::: {path}", "    options:", f"      heading: \"{name}\""]
        if inspect.isclass(value):
            out.append("      members: false")
        out.append("")
    return "\n".join(out)


GENERATORS = {"configuration": configuration, "magics": magics, "api": api}


# -- the built site fetches nothing from elsewhere --------------------------------------------------
# Readers may be offline, and the site must not call other hosts (fonts, scripts from a CDN). Links
# a reader follows (<a href>) are fine; what the browser loads by itself is not.

FETCHES = re.compile(
    r"""(<(?:script|img|iframe|source|audio|video|link)\b[^>]*?\b(?:src|href)=["']((?:https?:)?//[^"']+)[^>]*>)"""
    r"""|url\(\s*["']?((?:https?:)?//[^)"']+)"""
    r"""|@import\s+["']((?:https?:)?//[^"']+)""",
    re.I,
)
# What a <link> names without the browser loading it: the page's own address, other versions.
NOT_LOADED = re.compile(r"""\brel=["'](?:canonical|alternate|prev|next)["']""", re.I)
LOOPBACK = re.compile(r"^(?:https?:)?//(?:127\.0\.0\.1|localhost)[:/]")


def on_post_build(config) -> None:
    site = Path(config["site_dir"])
    found = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css", ".js") or not path.is_file():
            continue
        for match in FETCHES.finditer(path.read_text(errors="replace")):
            tag, url = match.group(1), next(group for group in match.groups()[1:] if group)
            if (tag and tag.lower().startswith("<link") and NOT_LOADED.search(tag)) or LOOPBACK.match(url):
                continue  # not fetched, or fetched from the machine that serves the site (docs-serve)
            if path.suffix == ".js" and not url.startswith("http"):
                continue  # "//" inside minified code is a comment, not a fetch
            found.append(f"{path.relative_to(site)}: {url}")
    if found:
        raise PluginError("the site would fetch from other hosts:\n  " + "\n  ".join(found[:20]))
