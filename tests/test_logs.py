"""Log lines carry group and event ids; secrets never appear, in text or JSON."""

from __future__ import annotations

import io
import json
import logging

from bot.logs import add_secret, setup_logging


async def test_json_logs_carry_ids_and_mask_secrets(bot):
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    add_secret("123456:SECRET-TOKEN-abcdef")

    async def noisy(app, turn):
        logging.getLogger("x").warning("calling https://api.test/bot123456:SECRET-TOKEN-abcdef/getMe")

    bot.app.pipeline.add_step("noisy", noisy)
    await bot.say("alice", "hello")
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    line = next(x for x in lines if x["logger"] == "x")
    assert line["group"] == "g1" and line["platform"] == "fake" and line["event"].startswith("msg:")
    assert "SECRET-TOKEN" not in stream.getvalue() and "***" in line["msg"]


async def test_text_logs_mask_secrets(bot):
    stream = io.StringIO()
    setup_logging("INFO", "text", stream)
    add_secret("hunter2-password")
    logging.getLogger("y").error("db url postgresql://u:hunter2-password@h/db")
    assert "hunter2" not in stream.getvalue() and "***" in stream.getvalue()
