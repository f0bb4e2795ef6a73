"""kcdata: a city's open-data release program, end to end.

inventory -> validate -> score -> review -> publish -> report.
The library never imports click or rich; ``kcdata.cli`` is a thin skin over it.
"""

from __future__ import annotations

__version__ = "0.1.0"
