"""What adapters hand to the core and get back: transport-neutral messages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sender:
    """Who wrote: the messenger and that messenger's stable user id."""

    transport: str  # "console", "telegram", "matrix"
    user_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class Incoming:
    sender: Sender
    chat_id: str
    text: str
    private: bool = True  # a direct chat; groups get group-safe commands only


@dataclass(frozen=True)
class Button:
    """A choice an adapter may render as a button; pressing it sends `command` as text."""

    label: str
    command: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a reply: a PNG chart (shown as a picture) or a document (XLSX, CSV)."""

    filename: str
    mime_type: str
    data: bytes = field(repr=False)
    caption: str = ""

    @property
    def is_image(self) -> bool:
        return self.mime_type.startswith("image/")


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = field(default=())
    attachments: tuple[Attachment, ...] = field(default=())
    # A refusal (bad input, no permission, an error): nothing was changed by the request.
    refused: bool = False
