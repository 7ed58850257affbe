"""The assume options are declared once (ipy_tempcreds/options.py); every frontend follows it."""

from __future__ import annotations

import inspect

from ipy_tempcreds import api
from ipy_tempcreds.base import options
from ipy_tempcreds.core.request_builder import RequestBuilder
from ipy_tempcreds.ui.arguments import parser_of
from ipy_tempcreds.ui.magics import _ASSUME_OPTIONS, TempCredsMagics


def keyword_only(func) -> list[str]:
    return [p.name for p in inspect.signature(func).parameters.values() if p.kind is p.KEYWORD_ONLY]


def test_the_api_signature_lists_the_declared_options_in_their_order():
    declared = [o.name for o in options.ROLE_OPTIONS]
    assert keyword_only(api.assume_role) == declared + ["auto_refresh"]


def test_the_request_builder_takes_the_declared_request_options():
    assert keyword_only(RequestBuilder.role_request) == [o.name for o in options.ROLE_REQUEST_OPTIONS]
    assert keyword_only(RequestBuilder.federation_request) == sorted(
        (o.name for o in options.FEDERATION_OPTIONS), key=keyword_only(RequestBuilder.federation_request).index)
    assert set(keyword_only(RequestBuilder.session_token_request)) == {
        o.name for o in options.SESSION_TOKEN_OPTIONS if o is not options.MFA_CODE}
    assert set(keyword_only(api.session_token)) - {"auto_refresh"} == {o.name for o in options.SESSION_TOKEN_OPTIONS}
    assert set(keyword_only(api.federation_token)) - {"auto_refresh"} == {o.name for o in options.FEDERATION_OPTIONS}


def test_the_magic_takes_every_declared_option_with_its_help_and_metavar():
    parser = parser_of(TempCredsMagics.assume_role)
    by_flag = {flag: action for action in parser._actions for flag in action.option_strings}
    for option in options.ROLE_OPTIONS:
        action = by_flag[option.flag]
        assert action.dest == option.dest and action.help == option.help
        assert action.metavar == (None if option.switch else option.metavar)
    assert set(_ASSUME_OPTIONS) == {o.dest for o in options.ROLE_REQUEST_OPTIONS} | {"no_auto_refresh", "dask", "pin"}


def test_repeatable_options_collect_every_value():
    args = parser_of(TempCredsMagics.assume_role).parse_args(["r", "--tag", "a=1", "--tag", "b=2", "--chain"])
    assert options.request_options(options.ROLE_OPTIONS, args)["tags"] == ["a=1", "b=2"]
    assert options.request_options(options.ROLE_OPTIONS, args)["chain"] is True
