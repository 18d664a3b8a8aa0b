"""Typed keys for what lives on the application: never module globals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    pass

SETTINGS = web.AppKey["Settings"]("settings")
STORE = web.AppKey["Store"]("store")
GAMES = web.AppKey["Games"]("games")
ROOMS = web.AppKey["Rooms"]("rooms")
SOCKETS = web.AppKey["Sockets"]("sockets")
ADMIN = web.AppKey["Admin"]("admin")
ORIGINS = web.AppKey["Origins"]("origins")
FAULTS = web.AppKey["Faults"]("faults")
JOINS = web.AppKey["Joins"]("joins")
REFUSALS = web.AppKey["Refusals"]("refusals")
GATE = web.AppKey["Gate"]("gate")
WEBHOOKS = web.AppKey["Webhooks"]("webhooks")
TELEMETRY = web.AppKey["ApplianceTelemetry"]("telemetry")
HEALTH = web.AppKey["Health"]("health")
