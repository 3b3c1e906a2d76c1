"""Shared helpers and fixtures live in tests/engine/tbhelp.py and tests/engine/tbfixtures.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))

from tbfixtures import *  # noqa: E402,F403
