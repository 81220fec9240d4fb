"""Small typed references shared by handlers, jobs and Block Kit builders."""

from __future__ import annotations

from pydantic import BaseModel


class ThreadRef(BaseModel):
    """Where a check's results live: the channel, the thread, and the message with buttons."""

    channel: str
    #: the thread the findings are posted in
    thread_ts: str
    #: the message that carries the summary and the buttons (the thread root, or a reply
    #: in an incident thread when the check was started by a mention there)
    parent_ts: str

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.thread_ts}"


class Requester(BaseModel):
    """Who asked, and where the answer goes."""

    user: str
    channel: str
    #: answer inside this thread (mentions, shortcuts); None: start a new parent message
    thread_ts: str | None = None
    response_url: str | None = None
    locale: str = "en"


class ButtonValue(BaseModel):
    """The `value` of the parent's buttons: enough to act even when results expired."""

    thread: ThreadRef
    #: the function reference the check ran on (ARN)
    function_ref: str
    account: str | None = None
