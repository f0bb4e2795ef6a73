"""The local Socrata-compatible portal (``kcdata portal serve``): HTTP app, SoQL parser, SQLite storage.

Public API: :class:`PortalServer` and :class:`FaultPlan`.
"""

from __future__ import annotations

from kcdata.portal.server import FaultPlan, PortalServer

__all__ = ["FaultPlan", "PortalServer"]
