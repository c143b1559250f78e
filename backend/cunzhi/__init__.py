"""Cunzhi (村治): offline-first field app and township ledger for village governance pilots."""

__version__ = "0.1.0"
