"""The sending half of the Telegram adapter: `Reply`s become messages, photos, documents,
edits and callback answers; `Action`s become deletes, restrictions and bans.

Platform faults are handled here, once: `ChatMigrated` moves the group (hook) and the
call is repeated with the new id; `RetryAfter` that outlasted the rate limiter's own
retries is waited out; `Forbidden` in a group means the bot was removed (hook) and is
reported as a failed send, never raised; network errors are retried with back-off.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import (
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from adapters.base import Action, ActionKind, Reply, Sent
from adapters.telegram_poll import Backoff, retry_seconds

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Telegram's limits on visible text length.
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
ALERT_LIMIT = 200


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split text into chunks of at most `limit` characters, at line breaks if possible."""
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        chunks.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text or not chunks:
        chunks.append(text)
    return chunks


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (None without buttons)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data[:64]) for b in row] for row in reply.buttons]
    )


class TelegramOutbox:
    """Mixin with `send` and `act`; the adapter supplies `bot`, `hooks`, `_presses`."""

    bot: Any
    hooks: Any
    options: Any
    _presses: dict[tuple[str, str], str]

    async def _safe(self, coro: Awaitable[Any]) -> Any:
        """Await a call whose failure only deserves a log line (callback answers)."""
        try:
            return await coro
        except TelegramError as exc:
            log.info("telegram call failed (ignored): %s", exc)
            return None

    async def _call(self, chat_id: str, fn: Callable[[int], Awaitable[T]], attempts: int = 4) -> T:
        """Run `fn(chat)` with the platform's faults handled (see module docstring)."""
        chat = int(chat_id)
        net = Backoff(*self.options.backoff)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                return await fn(chat)
            except ChatMigrated as exc:
                new = exc.new_chat_id
                log.info("telegram: group %s migrated to %s", chat, new)
                await self.hooks.on_migrate(str(chat), str(new))
                chat = new
                if last:
                    raise
            except RetryAfter as exc:
                if last:
                    raise
                await asyncio.sleep(retry_seconds(exc))
            except Forbidden:
                if chat < 0:
                    await self.hooks.on_group_gone(str(chat))
                raise
            except BadRequest:
                raise
            except NetworkError:
                if last:
                    raise
                await net.wait()
        raise AssertionError("unreachable")

    # -- replies -----------------------------------------------------------------------
    async def send(self, reply: Reply) -> Sent:
        """Send or edit a message; a refusal is a `Sent` with ok=False, not an exception."""
        try:
            return await self._send(reply)
        except TelegramError as exc:
            log.warning("telegram: reply to %s failed: %s", reply.private_to or reply.group_id, exc)
            return Sent(None, ok=False, error=str(exc))

    async def _send(self, reply: Reply) -> Sent:
        if reply.private_to and reply.ephemeral:
            qid = self._presses.pop((reply.group_id, reply.private_to), None)
            if qid is not None:
                # Answer the button press itself: an alert only the presser sees.
                await self.bot.answer_callback_query(qid, text=reply.text[:ALERT_LIMIT], show_alert=True)
                return Sent(None)
        target = reply.private_to or reply.group_id
        in_group = not reply.private_to
        markup = keyboard(reply)
        common: dict[str, Any] = {}
        if in_group and reply.channel_id:
            common["message_thread_id"] = int(reply.channel_id)
        if in_group and reply.reply_to_id:
            common["reply_parameters"] = ReplyParameters(int(reply.reply_to_id), allow_sending_without_reply=True)
        if reply.edit_message_id:
            return await self._edit(target, reply, markup)
        if reply.image is not None or reply.file is not None:
            caption, rest = reply.text[:CAPTION_LIMIT], reply.text[CAPTION_LIMIT:]
            if reply.image is not None:
                msg = await self._call(target, lambda c: self.bot.send_photo(
                    c, photo=reply.image, caption=html.escape(caption), parse_mode=ParseMode.HTML,
                    reply_markup=markup if not rest else None, **common))
            else:
                name, data = reply.file  # type: ignore[misc]
                msg = await self._call(target, lambda c: self.bot.send_document(
                    c, document=InputFile(data, filename=name), caption=html.escape(caption),
                    parse_mode=ParseMode.HTML, reply_markup=markup if not rest else None, **common))
            common.pop("reply_parameters", None)
            for i, chunk in enumerate(split_text(rest) if rest else []):
                last = i == len(split_text(rest)) - 1
                await self._text(target, chunk, markup if last else None, common)
            return Sent(str(msg.message_id))
        chunks = split_text(reply.text)
        first = None
        for i, chunk in enumerate(chunks):
            msg = await self._text(target, chunk, markup if i == len(chunks) - 1 else None, common)
            first = first or msg
            common.pop("reply_parameters", None)
        return Sent(str(first.message_id))

    async def _text(self, target: str, text: str, markup, common: dict):
        return await self._call(target, lambda c: self.bot.send_message(
            c, html.escape(text), parse_mode=ParseMode.HTML, reply_markup=markup,
            link_preview_options=None, **common))

    async def _edit(self, target: str, reply: Reply, markup) -> Sent:
        mid = int(reply.edit_message_id)  # type: ignore[arg-type]
        text = html.escape(split_text(reply.text)[0])
        try:
            await self._call(target, lambda c: self.bot.edit_message_text(
                text, chat_id=c, message_id=mid, parse_mode=ParseMode.HTML, reply_markup=markup))
        except BadRequest as exc:
            msg = str(exc).lower()
            if "not modified" in msg:
                return Sent(str(mid))
            if "no text in the message" not in msg:
                raise
            # The alert was a photo: edit its caption instead.
            await self._call(target, lambda c: self.bot.edit_message_caption(
                chat_id=c, message_id=mid, caption=html.escape(reply.text[:CAPTION_LIMIT]),
                parse_mode=ParseMode.HTML, reply_markup=markup))
        return Sent(str(mid))

    # -- actions -----------------------------------------------------------------------
    async def act(self, action: Action) -> bool:
        """Carry out an action; False (and a log line) if Telegram refused it."""
        try:
            await self._act(action)
            return True
        except TelegramError as exc:
            log.warning("telegram: %s in %s failed: %s", action.kind, action.group_id, exc)
            return False
        except ValueError as exc:
            log.warning("telegram: %s in %s is incomplete: %s", action.kind, action.group_id, exc)
            return False

    async def _act(self, a: Action) -> None:
        kind = a.kind
        member = int(a.member_id) if a.member_id else None
        if kind is ActionKind.DELETE:
            if not a.message_id:
                raise ValueError("delete needs message_id")
            await self._call(a.group_id, lambda c: self.bot.delete_message(c, int(a.message_id)))
            return
        if member is None:
            raise ValueError(f"{kind} needs member_id")
        if kind is ActionKind.MUTE:
            await self._call(a.group_id, lambda c: self.bot.restrict_chat_member(
                c, member, ChatPermissions.no_permissions(), until_date=a.until))
        elif kind is ActionKind.UNMUTE:
            chat = await self._call(a.group_id, lambda c: self.bot.get_chat(c))
            perms = chat.permissions or ChatPermissions.all_permissions()
            await self._call(a.group_id, lambda c: self.bot.restrict_chat_member(c, member, perms))
        elif kind is ActionKind.BAN:
            await self._call(a.group_id, lambda c: self.bot.ban_chat_member(c, member, until_date=a.until))
        elif kind is ActionKind.UNBAN:
            await self._call(a.group_id, lambda c: self.bot.unban_chat_member(c, member, only_if_banned=True))
        elif kind is ActionKind.KICK:
            # Telegram has no kick: ban, then lift the ban so they may rejoin.
            await self._call(a.group_id, lambda c: self.bot.ban_chat_member(c, member))
            await self._call(a.group_id, lambda c: self.bot.unban_chat_member(c, member, only_if_banned=True))
        elif kind is ActionKind.SET_TITLE:
            await self._call(a.group_id, lambda c: self.bot.set_chat_administrator_custom_title(
                c, member, a.value[:16]))
        else:
            raise ValueError(f"{kind} is not supported on Telegram")
