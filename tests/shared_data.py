"""Where tests find ../shared (real data sets kept beside the repository, never in it)."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_data_path(*parts: str) -> Path:
    """Path to a file under ../shared; skips the test when absent, fails it when CI is set.

    Developers without the shared folder can still run the suite; CI must never pass by
    silently skipping the real-data tests.
    """
    path = SHARED.joinpath(*parts)
    if path.exists():
        return path
    message = f"shared data not found: {path} (expected ../shared beside the repository)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@cache
def _faults() -> dict[str, dict[str, Any]]:
    data = json.loads(shared_data_path("cases", "geo_faults.json").read_text(encoding="utf-8"))
    return {f["id"]: f for f in data}


def geo_fault(fault_id: str) -> dict[str, Any]:
    """One entry of ../shared/cases/geo_faults.json: its inputs and the right answers."""
    return _faults()[fault_id]
