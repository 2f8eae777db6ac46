"""A fake Telegram Bot API server (aiohttp on 127.0.0.1) for driving the real
python-telegram-bot stack in tests and benchmarks.

It answers `POST /bot<token>/<method>` the way Telegram does: form, JSON or multipart
parameters in; `{"ok": true, "result": ...}` or `{"ok": false, "error_code",
"description", "parameters"}` out, with the HTTP status PTB reads the error from. Every
call is logged in `calls`. `getUpdates` long-polls and, like Telegram, returns every
update at or past the requested offset, so an update is redelivered until a later
`getUpdates` acknowledges it. Faults are injected with `fail(...)`, `forbidden` and
`migrated`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 777000111
BOT_USERNAME = "community_test_bot"


@dataclass
class Call:
    """One request the fake received."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    #: What the fake answered (None for an error).
    result: Any = None


class FakeError(Exception):
    """Raised by a handler to answer with a Bot API error."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def user(uid: int, first: str, username: str | None = None, is_bot: bool = False) -> dict:
    """A Bot API User object."""
    d = {"id": uid, "is_bot": is_bot, "first_name": first}
    if username:
        d["username"] = username
    return d


def group(cid: int, title: str, kind: str = "supergroup", forum: bool = False) -> dict:
    """A Bot API Chat object for a group."""
    d = {"id": cid, "type": kind, "title": title}
    if forum:
        d["is_forum"] = True
    return d


class FakeBotApi:
    """The fake server. `await start()` binds a free port; `base_url` is for PTB."""

    def __init__(self, token: str = "123:TEST") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict] = []
        self.offsets: list[int] = []
        self.admins: dict[int, list[int]] = {}
        self.owner: dict[int, int] = {}
        self.forbidden: set[int] = set()
        self.migrated: dict[int, int] = {}
        self._failures: dict[str, list[FakeError]] = {}
        self._new_update = asyncio.Condition()
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(50_000)
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0
        self.me = user(BOT_ID, "Community Bot", BOT_USERNAME, is_bot=True)

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        """Serve on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop serving; pending long polls end."""
        self._closing = True
        async with self._new_update:
            self._new_update.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """The `api_base_url` to give the adapter."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- test controls ---------------------------------------------------------------
    async def push(self, **update: Any) -> int:
        """Queue an update (`message=...`, `callback_query=...`, ...); returns its id."""
        uid = next(self._update_ids)
        self.updates.append({"update_id": uid, **update})
        async with self._new_update:
            self._new_update.notify_all()
        return uid

    def fail(self, method: str, code: int, description: str, times: int = 1, **parameters: Any) -> None:
        """Make the next `times` calls of `method` fail with this error."""
        self._failures.setdefault(method, []).extend(
            [FakeError(code, description, parameters or None)] * times
        )

    def called(self, method: str) -> list[Call]:
        """The calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    def next_message_id(self) -> int:
        """A fresh message id (for messages the tests say members sent)."""
        return next(self._message_ids)

    def set_admins(self, chat_id: int, member_ids: list[int], owner: int | None = None) -> None:
        """Who `getChatAdministrators` names for a chat."""
        self.admins[chat_id] = list(member_ids)
        if owner is not None:
            self.owner[chat_id] = owner

    # -- request handling ------------------------------------------------------------
    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        ctype = request.content_type
        if ctype == "application/json":
            params.update(await request.json())
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:
                    files[part.name] = bytes(await part.read())
                else:
                    params[part.name] = await part.text()
        elif request.can_read_body:
            params.update(dict(await request.post()))
        # PTB JSON-encodes every non-string value.
        for k, v in list(params.items()):
            if isinstance(v, str) and v[:1] in ("{", "["):
                try:
                    params[k] = json.loads(v)
                except ValueError:
                    pass
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(FakeError(401, "Unauthorized"))
        params, files = await self._params(request)
        call = Call(method, params, files)
        self.calls.append(call)
        pending = self._failures.get(method)
        if pending:
            return self._error(pending.pop(0))
        handler = getattr(self, "api_" + method, None)
        if handler is None:
            return self._error(FakeError(400, f"Bad Request: method {method} not found"))
        try:
            result = await handler(params)
        except FakeError as exc:
            return self._error(exc)
        call.result = result
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(exc: FakeError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.parameters:
            body["parameters"] = exc.parameters
        return web.json_response(body, status=exc.code)

    def _check_chat(self, params: dict) -> int:
        chat_id = int(params["chat_id"])
        if chat_id in self.forbidden:
            raise FakeError(403, "Forbidden: bot was kicked from the supergroup chat")
        if chat_id in self.migrated:
            raise FakeError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                            {"migrate_to_chat_id": self.migrated[chat_id]})
        return chat_id

    def _sent(self, chat_id: int, **extra: Any) -> dict:
        kind = "private" if chat_id > 0 else "supergroup"
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": kind}, "from": self.me, **extra}

    # -- Bot API methods ---------------------------------------------------------------
    async def api_getMe(self, p: dict) -> dict:
        return self.me

    async def api_deleteWebhook(self, p: dict) -> bool:
        return True

    async def api_setWebhook(self, p: dict) -> bool:
        return True

    async def api_getUpdates(self, p: dict) -> list[dict]:
        offset = int(p.get("offset") or 0)
        limit = int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        self.offsets.append(offset)
        # Like Telegram: an offset confirms every update before it.
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        async with self._new_update:
            while not self.updates and time.monotonic() < deadline and not self._closing:
                try:
                    await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
        return self.updates[:limit]

    async def api_sendMessage(self, p: dict) -> dict:
        return self._sent(self._check_chat(p), text=p.get("text", ""))

    async def api_sendPhoto(self, p: dict) -> dict:
        chat = self._check_chat(p)
        return self._sent(chat, photo=[{"file_id": "ph1", "file_unique_id": "u1", "width": 10, "height": 10}],
                          caption=p.get("caption", ""))

    async def api_sendDocument(self, p: dict) -> dict:
        chat = self._check_chat(p)
        return self._sent(chat, document={"file_id": "d1", "file_unique_id": "u2"})

    async def api_editMessageText(self, p: dict) -> dict:
        chat = self._check_chat(p)
        return {**self._sent(chat, text=p.get("text", "")), "message_id": int(p["message_id"])}

    async def api_editMessageReplyMarkup(self, p: dict) -> dict:
        chat = self._check_chat(p)
        return {**self._sent(chat), "message_id": int(p["message_id"])}

    async def api_getChatAdministrators(self, p: dict) -> list[dict]:
        chat = self._check_chat(p)
        out = []
        for uid in self.admins.get(chat, []):
            if self.owner.get(chat) == uid:
                out.append({"status": "creator", "user": user(uid, f"u{uid}"), "is_anonymous": False})
                continue
            flags = dict.fromkeys(
                ["can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                 "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                 "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                 "can_delete_stories"], False)
            out.append({"status": "administrator", "user": user(uid, f"u{uid}"), **flags,
                        "can_delete_messages": True, "can_restrict_members": True})
        return out

    async def api_getChat(self, p: dict) -> dict:
        chat = self._check_chat(p)
        return {"id": chat, "type": "supergroup", "title": "Chat", "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False},
                "permissions": {"can_send_messages": True, "can_send_photos": True, "can_invite_users": True}}

    async def _ok(self, p: dict) -> bool:
        self._check_chat(p)
        return True

    api_deleteMessage = _ok
    api_banChatMember = _ok
    api_unbanChatMember = _ok
    api_restrictChatMember = _ok
    api_setChatAdministratorCustomTitle = _ok

    async def api_answerCallbackQuery(self, p: dict) -> bool:
        return True
