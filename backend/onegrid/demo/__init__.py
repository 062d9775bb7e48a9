"""A deterministic, synthetic demo street (丰产路街道, Zhengzhou Jinshui) for OneGrid.

No external data: every grid, place and case is generated from a seed, so demos, tests and
screenshots are reproducible and contain no real personal data.
"""

from __future__ import annotations

from pathlib import Path


def generate_demo_street(
    out_dir: Path, *, seed: int = 20261203, case_count: int = 6000, year: int = 2026
) -> dict[str, Path]:
    """Write the demo street's layers, places and cases into ``out_dir``; return their paths."""
    # Imported lazily so `python -m onegrid.demo.generate` does not import the module twice.
    from onegrid.demo.generate import generate_demo_street as _generate

    return _generate(out_dir, seed=seed, case_count=case_count, year=year)


__all__ = ["generate_demo_street"]
