"""``TempCreds.delivery = "endpoint"`` as users drive it: ``%config`` before or while a role is
active, status, ``--clear``, ``%unload_ext``, and a notebook in a real kernel (nbclient) whose saved
file, outputs and widget state never hold the endpoint's token."""

from __future__ import annotations

import logging
import os
import socket

import nbformat
import pytest
from nbclient import NotebookClient

from ipy_tempcreds import api
from support import aws_environment, kernel_environment, new_notebook, role_arn, served_token

READER = role_arn("Reader")


def answer(address: tuple[str, int], token: str) -> tuple[int, str]:
    import http.client

    connection = http.client.HTTPConnection(*address, timeout=5)
    try:
        connection.request("GET", "/ipy_tempcreds/credentials", headers={"Authorization": token})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def endpoint_address() -> tuple[str, int]:
    host_port = os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"].split("/")[2]
    host, port = host_port.split(":")
    return host, int(port)


def test_set_before_a_role_shown_in_status_and_cleared_exactly(run):
    before = aws_environment()
    run('%config TempCreds.delivery = "endpoint"')
    assert aws_environment() == before  # nothing served while no role is active
    assert "Delivery: endpoint (serves while a role is active)" in run("%assume_role --status")
    run(f"%assume_role {READER} -q")
    token = served_token()
    assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_CONTAINER_AUTHORIZATION_TOKEN" not in os.environ
    status = run("%assume_role --status")
    assert f"Delivery:     endpoint ({os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']})" in status
    assert token not in status
    address = endpoint_address()
    run("%assume_role --clear")
    assert aws_environment() == before
    assert answer(address, token)[0] == 404  # the port stays the kernel's; nothing is served there


def test_switched_while_active_and_back(run):
    before = aws_environment()
    run(f"%assume_role {READER} -q")
    key = os.environ["AWS_ACCESS_KEY_ID"]
    assert "Delivery:     environment" in run("%assume_role --status")
    run('%config TempCreds.delivery = "endpoint"')
    assert "AWS_ACCESS_KEY_ID" not in os.environ and "AWS_CONTAINER_CREDENTIALS_FULL_URI" in os.environ
    assert api.get_manager().whoami()["Arn"] == api.current().arn  # the kernel's own reads follow
    address, token = endpoint_address(), served_token()
    run('%config TempCreds.delivery = "environment"')
    assert os.environ["AWS_ACCESS_KEY_ID"] == key and "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in os.environ
    status, body = answer(address, token)
    assert status == 404 and key not in body
    run("%assume_role --clear")
    assert aws_environment() == before


def test_unload_while_serving_stops_and_restores_exactly(run, shell):
    before = aws_environment()
    run('%config TempCreds.delivery = "endpoint"')
    run(f"%assume_role {READER} -q")
    address = endpoint_address()
    shell.extension_manager.unload_extension("ipy_tempcreds")
    try:
        assert aws_environment() == before
        with pytest.raises(OSError):
            socket.create_connection(address, timeout=2).close()
    finally:
        shell.extension_manager.load_extension("ipy_tempcreds")


def test_a_default_profile_with_keys_is_named_when_the_endpoint_starts(run, isolated_environment, caplog):
    path = isolated_environment / "credentials"
    path.write_text("[default]\naws_access_key_id = AKIADEFAULTPROFILE1\naws_secret_access_key = not-used\n")
    run('%config TempCreds.delivery = "endpoint"')
    with caplog.at_level(logging.WARNING, logger="ipy_tempcreds"):
        run(f"%assume_role {READER} -q")
    assert f"the [default] profile in {path} has credentials" in caplog.text
    assert "not-used" not in caplog.text


@pytest.mark.kernel
def test_in_a_real_kernel_the_token_is_never_in_the_notebook_or_its_outputs(aws, tmp_path):
    token_file = tmp_path / "token.txt"
    cells = [
        "%load_ext ipy_tempcreds",
        '%config TempCreds.delivery = "endpoint"',
        "%config TempCreds.refresh_margin = 899",  # the 900-second set is renewed a second after issue
        f"%assume_role {READER} --duration 900",
        "import os, time\n_first = os.environ['AWS_CONTAINER_CREDENTIALS_FULL_URI']\ntime.sleep(1.5)",
        "!aws sts get-caller-identity --query Arn --output text",
        "%assume_role --status",
        "%role_panel",
        "%aws_whoami",
        # The token leaves the kernel only through this file, never through an output.
        f"open({str(token_file)!r}, 'w').write(open(os.environ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE']).read())",
        "%assume_role --clear",
        "print('served after clear:', 'AWS_CONTAINER_CREDENTIALS_FULL_URI' in os.environ)",
    ]
    nb = new_notebook(cells)
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=kernel_environment(tmp_path / "ipython"))
    saved = tmp_path / "saved.ipynb"
    nbformat.write(nb, saved)
    token = token_file.read_text()
    assert len(token) >= 43
    text = saved.read_text()
    assert token not in text  # outputs, widget state (metadata) and all
    assert '"delivery": "endpoint"' in text  # the panel's state says which delivery, nothing more
    outputs = {index: "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs)
               for index, cell in enumerate(nb.cells)}
    assert "assumed-role/Reader/" in outputs[5]  # !aws asked the endpoint
    assert "Delivery:" in outputs[6] and "endpoint (http://127.0.0.1:" in outputs[6]
    assert "served after clear: False" in outputs[11]
    assert "widget-view" in str(nb.cells[7].outputs)


def no_space(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_an_endpoint_that_cannot_start_refuses_the_assume_and_changes_nothing(run, monkeypatch):
    import tempfile

    before = aws_environment()
    run('%config TempCreds.delivery = "endpoint"')
    monkeypatch.setattr(tempfile, "mkdtemp", no_space)  # mocked: a full disk cannot be made here
    message = run(f"%assume_role {READER} -q", expect_error=True)
    assert "the credential endpoint could not start (No space left on device): nothing was changed" in message
    assert "TempCreds.delivery = 'environment'" in message
    assert aws_environment() == before and api.current() is None
    assert api.get_manager().environment.url == ""  # not listening


def test_a_switch_to_an_endpoint_that_cannot_start_keeps_the_environment_delivery(run, monkeypatch, caplog):
    import tempfile

    run(f"%assume_role {READER} -q")
    active = aws_environment()
    monkeypatch.setattr(tempfile, "mkdtemp", no_space)  # mocked, as above
    with caplog.at_level(logging.WARNING, logger="ipy_tempcreds"):
        run('%config TempCreds.delivery = "endpoint"')
    assert "could not start" in caplog.text
    assert api.get_settings().delivery == "environment"
    assert aws_environment() == active
    monkeypatch.undo()
    run('%config TempCreds.delivery = "endpoint"')  # and it works once the cause is gone
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" in os.environ
