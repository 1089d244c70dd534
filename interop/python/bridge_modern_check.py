#!/usr/bin/env python3
"""Interop check (BR-59): the official Python SDK's stdio client (mcp==2.3.0, a legacy client on
stdio) through `mcp-http bridge URL` to a 2026-07-28 server (the TypeScript SDK v2 server
interop/node/modern_server.mjs, or the Python SDK server interop/python/standin_server.py).

    $PEERS_PY interop/python/bridge_modern_check.py URL --bin BIN [--progress] [--timeout S]

The bridge pins `--era modern`, so nothing passes unless it spoke 2026-07-28 to the server. Prints
`PASS name: detail` / `FAIL name: reason` per check and exits 0 only if every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from typing import Any

import mcp.types as types
from mcp import Client, StdioServerParameters

from checks import answering_elicitation, answering_sampling, Checker, text_of

SAMPLED_TEXT = "hello from python"

warnings.filterwarnings("ignore", message=".*deprecated as of 2026-07-28.*")


async def main_async(args: argparse.Namespace) -> int:
    chk = Checker(args.timeout)
    logs: list[types.LoggingMessageNotificationParams] = []
    sampled: list[types.CreateMessageRequestParams] = []
    elicited: list[types.ElicitRequestParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    on_sampling = answering_sampling(sampled, SAMPLED_TEXT)
    on_elicit = answering_elicitation(elicited, "Py")

    client = Client(
        StdioServerParameters(command=args.bin, args=["bridge", args.url, "--era", "modern"]),
        mode="legacy",
        logging_callback=on_log,
        sampling_callback=on_sampling,
        elicitation_callback=on_elicit,
        read_timeout_seconds=args.timeout,
    )
    async with client as c:
        async def initialize() -> str:
            assert c.protocol_version < "2026", f"the stdio side negotiated {c.protocol_version}"
            info = c.server_info
            return f"stdio side {c.protocol_version}, remote server {info.name if info else '?'}"

        async def tools() -> str:
            names = {t.name for t in (await c.list_tools()).tools}
            assert {"echo", "sample_llm"} <= names, f"tools {sorted(names)}"
            r = await c.call_tool("echo", {"message": "through the bridge ✓"})
            assert not r.is_error and text_of(r) == "through the bridge ✓", text_of(r)
            return f"{len(names)} tools, echo answered"

        async def mrtr_sampling() -> str:
            sampled.clear()
            r = await c.call_tool("sample_llm", {"prompt": "Say hello"})
            assert not r.is_error, text_of(r)
            assert sampled, "the stdio client was never asked sampling/createMessage"
            assert SAMPLED_TEXT in text_of(r), text_of(r)
            return f"input-required -> sampling/createMessage on stdio -> {text_of(r)!r}"

        async def mrtr_elicitation() -> str:
            elicited.clear()
            r = await c.call_tool("ask_name", {})
            assert not r.is_error, text_of(r)
            assert elicited, "the stdio client was never asked elicitation/create"
            assert "Py" in text_of(r), text_of(r)
            return f"input-required -> elicitation/create on stdio -> {text_of(r)!r}"

        async def progress_and_logs() -> str:
            seen: list[float] = []

            async def on_progress(p: float, total: float | None, message: str | None) -> None:
                seen.append(p)

            await c.set_logging_level("info")
            logs.clear()
            r = await c.call_tool("long_running_operation", {"duration": 0.6, "steps": 3}, progress_callback=on_progress)
            await asyncio.sleep(0.2)
            assert not r.is_error, text_of(r)
            assert seen == [1, 2, 3], f"progress {seen}"
            assert len(logs) == 3, f"logs {[lg.data for lg in logs]}"
            return f"progress {seen}, {len(logs)} logs (level from logging/setLevel, sent in _meta)"

        await chk.run("initialize", initialize)
        await chk.run("tools", tools)
        await chk.run("mrtr_sampling", mrtr_sampling)
        await chk.run("mrtr_elicitation", mrtr_elicitation)
        if args.progress:
            await chk.run("progress_and_logs", progress_and_logs)
    failed = [n for n, ok, _ in chk.results if not ok]
    print(f"bridge_modern_check.py: {len(chk.results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--bin", required=True, help="the mcp-http binary")
    parser.add_argument("--progress", action="store_true", help="also check long_running_operation")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    try:
        return asyncio.run(asyncio.wait_for(main_async(args), timeout=args.timeout * 8))
    except asyncio.TimeoutError:
        print("FAIL overall: the run timed out")
        return 1


if __name__ == "__main__":
    sys.exit(main())
