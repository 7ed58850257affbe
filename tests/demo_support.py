"""The demo's world (demo/standins.py) for tests: the same stand-ins, seed and kernel environment
as `make demo` gives, on the session's moto. Import the fixture into a test module
(``from demo_support import demo_world``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import ROOT

sys.path.insert(0, str(ROOT / "demo"))
import run_demo
import scratch as scratch_folder
from standins import DemoAws


@dataclass
class DemoWorld:
    aws: DemoAws
    scratch: Path  # as the demo makes it: notebooks/ (copies), home/, the IPython profile
    env: dict[str, str]  # the kernel's environment

    @property
    def notebooks(self) -> Path:
        return self.scratch / "notebooks"


def start_demo_world(local_aws, *, lifetime: float | None = None) -> DemoWorld:
    aws = DemoAws(lifetime=lifetime, moto=local_aws).start()
    scratch = scratch_folder.make(prefix="ipy_tempcreds-demo-test-")
    return DemoWorld(aws, scratch, run_demo.local_environment(aws, scratch))


def stop_demo_world(world: DemoWorld) -> None:
    world.aws.stop()
    scratch_folder.remove(world.scratch)


@pytest.fixture
def demo_world(local_aws, isolated_environment):
    world = start_demo_world(local_aws)
    yield world
    stop_demo_world(world)
