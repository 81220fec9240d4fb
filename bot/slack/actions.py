"""Every Slack identifier lambda-why registers: action ids, callback ids, block ids."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    """Buttons on the parent message (`block_actions` payloads)."""

    #: run the same check again; the result goes in the same thread with a diff
    RERUN = "lambda_why_rerun"
    #: open the escalation modal
    ESCALATE = "lambda_why_escalate"
    #: upload the support bundle into the thread
    EXPORT = "lambda_why_export"


class CallbackId(StrEnum):
    """Shortcuts and modals."""

    #: the message shortcut "Diagnose with lambda-why"
    DIAGNOSE_MESSAGE = "diagnose_message"
    #: the escalation modal (`view_submission`)
    ESCALATE_MODAL = "lambda_why_escalate_modal"


class EscalationField(StrEnum):
    """Block ids (= action ids) of the escalation modal's inputs."""

    PATTERN = "pattern"
    STARTED = "started"
    IMPACT = "impact"
    NOTES = "notes"


#: the slash command
COMMAND = "/lambda-why"
