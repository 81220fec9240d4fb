"""The Slack app manifests match what the app registers and the Web API methods it calls.

- Every manifest entry (slash command, message shortcut, bot event, interactivity) reaches
  a listener of the real Bolt app (`bot.slack.app.build_app`): its payload is matched by a
  registered listener's own matchers. And every listener is reachable through the manifest.
- The bot scopes are exactly those needed: `commands` (slash command, shortcut),
  `app_mentions:read` (the event) and the scopes of the Web API methods the code calls,
  found by scanning `bot/` and `handlers/` for `client.<method>(` calls.
- The Socket Mode variant is the HTTP one without request URLs.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import FileConfig
from bot.queue import CheckJob, ExplainJob, InProcessJobQueue, JobContext
from bot.slack.actions import COMMAND, ActionId, CallbackId
from bot.slack.app import build_app
from bot.slack.deps import OwnAccount, SlackDeps
from bot.slack.store import MemoryStore
from tests.deploy.conftest import DEPLOY, ROOT

HTTP = DEPLOY / "slack-app-manifest.yaml"
SOCKET = DEPLOY / "slack-app-manifest.socket.yaml"
SLACK_PATH = "/slack/events"

#: Web API method (slack_sdk client method) -> the bot scopes it needs, from each
#: method's page at https://docs.slack.dev/reference/methods/<method>
METHOD_SCOPES: dict[str, set[str]] = {
    "chat_postMessage": {"chat:write"},  # chat.postMessage
    "chat_postEphemeral": {"chat:write"},  # chat.postEphemeral
    "chat_update": {"chat:write"},  # chat.update
    "chat_delete": {"chat:write"},  # chat.delete
    "chat_getPermalink": set(),  # chat.getPermalink: no scope required
    "views_open": set(),  # views.open: no scope required
    "views_update": set(),  # views.update: no scope required
    "views_push": set(),  # views.push: no scope required
    "auth_test": set(),  # auth.test: no scope required
    "users_info": {"users:read"},  # users.info (locale with include_locale)
    # files_upload_v2 = files.getUploadURLExternal + files.completeUploadExternal
    "files_upload_v2": {"files:write"},
    "files_getUploadURLExternal": {"files:write"},
    "files_completeUploadExternal": {"files:write"},
    "reactions_add": {"reactions:write"},
    "conversations_info": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations_replies": {
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
    },
    "usergroups_users_list": {"usergroups:read"},
}
#: scopes the manifest's features need, whatever the code calls
FEATURE_SCOPES = {"commands", "app_mentions:read"}


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return _load(HTTP)


# --------------------------------------------------------------------------- structure


def test_manifest_declares_the_contract(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    (command,) = features["slash_commands"]
    assert command["command"] == "/lambda-why" == COMMAND
    assert command["url"].endswith(SLACK_PATH)
    assert command["should_escape"] is False
    (shortcut,) = features["shortcuts"]
    assert shortcut == {
        "name": "Diagnose with lambda-why",
        "type": "message",
        "callback_id": CallbackId.DIAGNOSE_MESSAGE.value,
        "description": shortcut["description"],
    }
    assert len(shortcut["name"]) <= 24, "Slack limits shortcut names to 24 characters"
    assert len(shortcut["description"]) <= 80
    assert features["bot_user"]["display_name"] == "lambda-why"
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_mention"]
    assert settings["event_subscriptions"]["request_url"].endswith(SLACK_PATH)
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": settings["interactivity"]["request_url"],
    }
    assert settings["interactivity"]["request_url"].endswith(SLACK_PATH)
    assert settings["socket_mode_enabled"] is False
    urls = {
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    }
    assert len(urls) == 1
    assert next(iter(urls)).startswith("https://")


def _without_urls(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            k: _without_urls(v)
            for k, v in data.items()
            if k not in {"url", "request_url", "socket_mode_enabled"}
        }
    if isinstance(data, list):
        return [_without_urls(v) for v in data]
    return data


def test_socket_mode_variant_is_the_same_app_without_urls(manifest: dict[str, Any]) -> None:
    socket = _load(SOCKET)
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in socket["features"]["slash_commands"][0]
    assert "request_url" not in socket["settings"]["event_subscriptions"]
    assert "request_url" not in socket["settings"]["interactivity"]
    assert _without_urls(socket) == _without_urls(copy.deepcopy(manifest))


# --------------------------------------------------------------------------- scopes


def _web_api_methods() -> dict[str, list[str]]:
    """slack_sdk client methods called anywhere in bot/ and handlers/ -> call sites."""
    known = {name for name in dir(AsyncWebClient) if not name.startswith("_")}
    found: dict[str, list[str]] = {}
    for base in (ROOT / "bot", ROOT / "handlers"):
        for path in sorted(base.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in known
                    and "client" in ast.unparse(node.func.value).lower()
                ):
                    site = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(node.func.attr, []).append(site)
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "api_call"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    method = str(node.args[0].value).replace(".", "_")
                    found.setdefault(method, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_bot_scopes_are_exactly_the_ones_used(manifest: dict[str, Any]) -> None:
    methods = _web_api_methods()
    assert "chat_postMessage" in methods, "the scan found no Web API call at all"
    unknown = {m: s for m, s in methods.items() if m not in METHOD_SCOPES}
    assert unknown == {}, "add these Web API methods and their scopes to METHOD_SCOPES"
    needed = set(FEATURE_SCOPES).union(*(METHOD_SCOPES[m] for m in methods))
    declared = manifest["oauth_config"]["scopes"]["bot"]
    assert len(declared) == len(set(declared))
    assert set(declared) == needed
    assert "user" not in manifest["oauth_config"]["scopes"], "no user-token scopes"


# --------------------------------------------------------------------------- listeners


async def _no_job(job: CheckJob | ExplainJob, ctx: JobContext) -> dict[str, Any]:
    raise AssertionError(f"the manifest test must not run jobs, got {job!r}")


async def _own_account() -> str:
    return "123456789012"


@pytest.fixture
def app() -> AsyncApp:
    """The real Bolt app with every lambda-why listener registered (nothing is sent)."""
    deps = SlackDeps(
        config=FileConfig(),
        queue=InProcessJobQueue(_no_job),
        store=MemoryStore(),
        own_account=OwnAccount(_own_account),
    )
    client = AsyncWebClient(token="xoxb-manifest-test", base_url="http://127.0.0.1:9/api/")
    return build_app(client=client, signing_secret="manifest-test", deps=deps)


def _payloads(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One request body per thing the manifest lets Slack send, as Slack shapes them."""
    team, user, channel = "T0LAMBDAWHY", "U0MANIFEST", "C0MANIFEST"
    bodies: dict[str, dict[str, Any]] = {}
    for command in manifest["features"]["slash_commands"]:
        bodies[f"command {command['command']}"] = {
            "command": command["command"],
            "text": "help",
            "team_id": team,
            "user_id": user,
            "channel_id": channel,
            "trigger_id": "1.2.3",
            "response_url": "https://hooks.slack.com/commands/T0/1/x",
        }
    for shortcut in manifest["features"]["shortcuts"]:
        assert shortcut["type"] == "message"
        bodies[f"message shortcut {shortcut['callback_id']}"] = {
            "type": "message_action",
            "callback_id": shortcut["callback_id"],
            "team": {"id": team},
            "user": {"id": user},
            "channel": {"id": channel},
            "message": {"ts": "1.000100", "text": "AccessDenied"},
            "trigger_id": "1.2.3",
            "response_url": "https://hooks.slack.com/app/T0/1/x",
        }
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        bodies[f"event {event}"] = {
            "type": "event_callback",
            "team_id": team,
            "event_id": "Ev0MANIFEST",
            "event": {"type": event, "user": user, "channel": channel, "ts": "1.000200"},
        }
    if manifest["settings"]["interactivity"]["is_enabled"]:
        for action in ActionId:
            bodies[f"button {action.value}"] = {
                "type": "block_actions",
                "team": {"id": team},
                "user": {"id": user},
                "channel": {"id": channel},
                "actions": [{"type": "button", "action_id": action.value, "value": "{}"}],
            }
        bodies[f"view {CallbackId.ESCALATE_MODAL.value}"] = {
            "type": "view_submission",
            "team": {"id": team},
            "user": {"id": user},
            "view": {
                "type": "modal",
                "callback_id": CallbackId.ESCALATE_MODAL.value,
                "state": {"values": {}},
            },
        }
    return bodies


async def _matches(listener: Any, body: dict[str, Any]) -> bool:
    request = AsyncBoltRequest(body=body, mode="socket_mode")
    return bool(await listener.async_matches(req=request, resp=BoltResponse(status=200)))


async def test_every_manifest_entry_reaches_a_listener(
    app: AsyncApp, manifest: dict[str, Any]
) -> None:
    listeners = list(app._async_listeners)
    assert listeners, "build_app registered no listener"
    unmatched = [
        name
        for name, body in _payloads(manifest).items()
        if not [listener for listener in listeners if await _matches(listener, body)]
    ]
    assert unmatched == [], "the manifest lets Slack send these, but no listener takes them"


async def test_every_listener_is_reachable_through_the_manifest(
    app: AsyncApp, manifest: dict[str, Any]
) -> None:
    bodies: list[dict[str, Any]] = list(_payloads(manifest).values())
    unreachable = []
    for listener in app._async_listeners:
        if not [body for body in bodies if await _matches(listener, body)]:
            unreachable.append(getattr(listener.ack_function, "__name__", repr(listener)))
    assert unreachable == [], "listeners for things the manifest does not declare"


async def test_undeclared_interactions_reach_no_listener(app: AsyncApp) -> None:
    """The matcher check is not vacuous: other commands and callback ids do not match."""
    strangers: list[dict[str, Any]] = [
        {"command": "/other", "text": "", "team_id": "T0", "user_id": "U0", "channel_id": "C0"},
        {"type": "message_action", "callback_id": "other", "team": {"id": "T0"}},
        {"type": "event_callback", "event": {"type": "reaction_added"}, "event_id": "Ev1"},
        # not subscribed (it would need the *:history scopes): mentions come as app_mention
        {"type": "event_callback", "event": {"type": "message", "text": "hi"}, "event_id": "Ev2"},
    ]
    for body in strangers:
        assert not [
            listener for listener in app._async_listeners if await _matches(listener, body)
        ], body
