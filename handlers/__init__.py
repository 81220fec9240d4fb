"""Bolt listeners: parse, authorize, ack, enqueue, reply. No diagnosis happens here."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.deps import SlackDeps
from handlers import buttons, commands, events, shortcuts


def register(app: AsyncApp, deps: SlackDeps) -> None:
    """Attach every lambda-why listener to `app`."""
    commands.register(app, deps)
    events.register(app, deps)
    shortcuts.register(app, deps)
    buttons.register(app, deps)
