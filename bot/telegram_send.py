"""The outgoing side of Telegram: a Reply as messages and files, and the reminder engine's
messenger, which maps Telegram's refusals to DeliveryError."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot import texts
from bot.messages import Reply
from bot.telegram_rate_limiter import retry_seconds
from bot.telegram_render import MAX_TEXT, CallbackTokens, keyboard, split_text
from scheduler.ports import DeliveryError, FailureKind, Recipient

log = logging.getLogger(__name__)

TRANSPORT = "telegram"


async def send_reply(
    bot: ExtBot[Any],
    chat_id: int,
    reply: Reply,
    tokens: CallbackTokens,
    *,
    rate_limit_args: dict[str, Any] | None = None,
) -> None:
    """Send a Reply as one or more messages; the keyboard goes with the last piece."""
    pieces = split_text(reply.text)
    markup = keyboard(reply.buttons, tokens)
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        await bot.send_message(
            chat_id,
            piece,
            reply_markup=markup if last else None,
            rate_limit_args=rate_limit_args,
        )
    failed: list[str] = []
    for attachment in reply.attachments:
        # Charts as pictures, files (XLSX, CSV) as documents; captions are limited to 1024.
        file = InputFile(attachment.data, filename=attachment.filename)
        caption = attachment.caption[:1024] or None
        photo = attachment.mime_type == "image/png"
        try:
            if photo:
                await bot.send_photo(
                    chat_id, file, caption=caption, rate_limit_args=rate_limit_args
                )
            else:
                await bot.send_document(
                    chat_id, file, caption=caption, rate_limit_args=rate_limit_args
                )
        except TelegramError as exc:
            # The text has arrived; the person learns the file is missing instead of guessing.
            method = "sendPhoto" if photo else "sendDocument"
            log.warning("Telegram %s failed (%s): %s", method, type(exc).__name__, exc.message)
            failed.append(texts.ATTACHMENT_CHART if photo else f"die Datei {attachment.filename}")
    if failed:
        await bot.send_message(
            chat_id, texts.attachments_failed(failed), rate_limit_args=rate_limit_args
        )


class TelegramMessenger:
    """The outgoing side for the reminder engine: a Reply into a person's private chat."""

    transport = TRANSPORT
    max_chars = MAX_TEXT

    def __init__(self, bot: ExtBot[Any], tokens: CallbackTokens | None = None) -> None:
        self._bot = bot
        self._tokens = tokens or CallbackTokens()

    async def send(self, recipient: Recipient, reply: Reply, *, idempotency_key: str) -> None:
        """Send or raise DeliveryError; the Bot API has no idempotency keys, so a retry after
        a lost answer may post twice (the key is logged to trace it)."""
        try:
            chat_id = int(recipient.external_id)
        except ValueError as exc:
            raise DeliveryError(FailureKind.unknown_user, "not a Telegram user id") from exc
        try:
            # No retries here: the reminder engine schedules them with the retry_after given.
            await send_reply(
                self._bot, chat_id, reply, self._tokens, rate_limit_args={"max_retries": 0}
            )
        except Forbidden as exc:
            text = exc.message.lower()
            if "initiate conversation" in text or "deactivated" in text:
                raise DeliveryError(FailureKind.unknown_user, exc.message) from exc
            raise DeliveryError(FailureKind.blocked, exc.message) from exc
        except RetryAfter as exc:
            raise DeliveryError(
                FailureKind.rate_limited, exc.message, retry_after=retry_seconds(exc)
            ) from exc
        except BadRequest as exc:
            text = exc.message.lower()
            if "chat not found" in text or "user not found" in text or "peer_id_invalid" in text:
                raise DeliveryError(FailureKind.unknown_user, exc.message) from exc
            raise
        except NetworkError as exc:  # includes TimedOut; BadRequest is handled above
            raise DeliveryError(FailureKind.network, exc.message) from exc
        log.debug("delivered %s to staff %s via Telegram", idempotency_key, recipient.staff_id)
