"""Engagements: live audience games on a LAN, offline first."""

__version__ = "0.1.0"
