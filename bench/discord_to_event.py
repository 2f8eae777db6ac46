"""How much the Discord adapter's translation costs next to discord.py's own parsing.

Feeds N recorded MESSAGE_CREATE payloads (a reply with a mention and an attachment)
through discord.py's ConnectionState (the reference: work that happens anyway), then
translates each parsed Message with `message_to_event`. Prints both rates and the ratio.

    /work/venv/bin/python -m bench.discord_to_event [N]
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import time
from pathlib import Path

import discord
from discord.user import ClientUser

from adapters.discord import intents
from adapters.discord_events import message_to_event

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = json.loads((ROOT / "tests" / "data" / "discord" / "gateway.json").read_text(encoding="utf-8"))


async def main(n: int) -> None:
    client = discord.Client(intents=intents(), chunk_guilds_at_startup=False, max_messages=None)
    state = client._connection
    parsed: list[discord.Message] = []
    state.dispatch = lambda name, *args: parsed.append(args[0]) if name == "message" else None
    state.user = ClientUser(state=state, data=PAYLOADS["bot_user"])
    state.parsers["GUILD_CREATE"](PAYLOADS["GUILD_CREATE"])
    base = PAYLOADS["MESSAGE_CREATE_reply"]
    payloads = []
    for i in range(n):
        p = copy.deepcopy(base)
        p["id"] = str(int(base["id"]) + i)
        payloads.append(p)
    t0 = time.perf_counter()
    for p in payloads:
        state.parsers["MESSAGE_CREATE"](p)
    t_parse = time.perf_counter() - t0
    t0 = time.perf_counter()
    events = [message_to_event(m) for m in parsed]
    t_event = time.perf_counter() - t0
    assert len(events) == n and events[-1].reply_to_id
    print(f"messages: {n}")
    print(f"discord.py parse (reference): {n / t_parse:,.0f} msg/s ({t_parse / n * 1e6:.1f} µs each)")
    print(f"to_event translation:         {n / t_event:,.0f} msg/s ({t_event / n * 1e6:.1f} µs each)")
    print(f"translation / parse time:     {t_event / t_parse:.2f}")
    await client.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000))
