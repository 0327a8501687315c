"""Fixtures of the public signals' tests (test_signals*.py)."""

from __future__ import annotations

import pytest

from .signal_recorder import Recorder


@pytest.fixture
def received():
    """A host's receiver connected to every public signal for the test, recording what it is sent."""
    recorder = Recorder().connect()
    yield recorder
    recorder.disconnect()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what is inside as a transaction that commits: the test's own transaction never does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
