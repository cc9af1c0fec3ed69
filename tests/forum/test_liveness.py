"""Names for claims, and telling that the process behind one is gone (forum.liveness)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from forum import liveness

pytestmark = pytest.mark.skipif(
    not liveness.PROC.joinpath("self/stat").exists(), reason="needs Linux's /proc"
)


def name_of(pid: int) -> str:
    return f"host:{liveness._machine()}:{pid}:{liveness._started(pid)}:0123abcd"


def exited_process_name() -> str:
    """The claim name of a process that ran on this machine and has exited."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    name = name_of(child.pid)
    child.communicate(b"")
    return name


def test_this_process_is_not_gone() -> None:
    assert not liveness.is_gone(liveness.worker_name())


def test_a_process_that_exited_is_gone_and_a_running_one_is_not() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    name = name_of(child.pid)
    assert not liveness.is_gone(name)
    child.communicate(b"")
    assert liveness.is_gone(name)
    assert liveness.is_gone(exited_process_name())


def test_a_reused_process_id_is_not_the_process_that_claimed() -> None:
    """Another process started later under the same id: the start time tells them apart."""
    _, machine, pid, started, nonce = name_of(liveness.os.getpid()).split(":")
    earlier = f"host:{machine}:{pid}:{int(started) - 1}:{nonce}"
    assert liveness.is_gone(earlier)


def test_names_from_another_machine_or_of_another_shape_are_never_taken_for_gone() -> None:
    assert not liveness.is_gone("elsewhere:0123456789ab:1:1:0123abcd")
    assert not liveness.is_gone("a process killed before delivery")
    assert not liveness.is_gone(f"host:{liveness._machine()}:not-a-pid:1:0123abcd")
    assert not liveness.is_gone("")


def test_a_name_fits_its_column_however_long_the_host_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(liveness.socket, "gethostname", lambda: "pod-" + "x" * 59)
    name = liveness.worker_name()
    assert len(name) <= liveness.NAME_MAX and name.startswith("pod-xxx")
    assert not liveness.is_gone(name)
