"""One live display for long work, drawn only on a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from lmrec import progress


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=100)
    monkeypatch.setattr(progress, "_console", lambda: console)
    monkeypatch.delenv("LMREC_PROGRESS", raising=False)
    return buf


def test_nested_steps_share_one_display(screen: io.StringIO) -> None:
    seen = []
    for name in progress.track(["a", "b"], "models"):
        with progress.task(f"train {name} (epochs)", 3) as row:
            assert progress._depth == 2
            for _ in range(3):
                row.advance()
                row.note("loss 0.500")
        seen.append(name)
    assert seen == ["a", "b"]
    assert progress._live is None
    assert progress._depth == 0
    out = screen.getvalue()
    assert "models" in out
    assert "2/2" in out


def test_quiet_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()
    monkeypatch.setattr(progress, "_console", lambda: Console(file=buf))
    monkeypatch.delenv("LMREC_PROGRESS", raising=False)
    assert list(progress.track(range(3), "steps")) == [0, 1, 2]
    assert buf.getvalue() == ""
    monkeypatch.setenv("LMREC_PROGRESS", "always")
    assert list(progress.track(range(2), "steps")) == [0, 1]
    assert "steps" in buf.getvalue()
    monkeypatch.setenv("LMREC_PROGRESS", "never")
    buf.truncate(0)
    buf.seek(0)
    with progress.task("quiet", 1) as row:
        row.advance()
    assert buf.getvalue() == ""


def test_a_failing_step_closes_the_display(screen: io.StringIO) -> None:
    with pytest.raises(RuntimeError), progress.task("outer", 1):
        raise RuntimeError("boom")
    assert progress._live is None
    assert progress._depth == 0
