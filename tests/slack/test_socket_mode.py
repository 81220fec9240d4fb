"""Socket Mode: the same app over a WebSocket, with `apps.connections.open` at SLACK_API_URL."""

from __future__ import annotations

from urllib.parse import parse_qsl

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.slack.double import SlackDouble

from .conftest import FUNCTION, serve


async def test_slash_command_over_socket_mode(double: SlackDouble) -> None:
    app = await serve(double)
    handler = AsyncSocketModeHandler(app.services.bolt, "xapp-1-test-app-token")
    try:
        assert handler.client.web_client.base_url == double.url
        await handler.connect_async()
        await double.wait_for(lambda: double.sockets, what="socket connection")
        payload = dict(parse_qsl(app.sender.command_body(FUNCTION)))
        envelope = await double.socket_send("slash_commands", payload)
        acks = await double.wait_for(
            lambda: [m for m in double.socket_received if m.get("envelope_id") == envelope],
            what="ack over the socket",
        )
        assert "Checking" in acks[0]["payload"]["text"]
        assert double.calls_to("apps.connections.open")[0].token == "xapp-1-test-app-token"
        await double.wait_for(lambda: app.diagnosis.calls, what="job")
        await app.drain()
        assert double.calls_to("chat.update")
    finally:
        await handler.close_async()
        await app.close()
