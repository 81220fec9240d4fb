"""Terminal rendering of reports (plain text, optional ANSI colour)."""

from bot.render.text import render_report, use_color

__all__ = ["render_report", "use_color"]
