"""Exports of the inventory: DCAT-US 1.1 ``data.json``."""
