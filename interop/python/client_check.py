#!/usr/bin/env python3
"""Interop check: the official Python SDK client (mcp==2.3.0) against an MCP Streamable HTTP server.

    $PEERS_PY interop/python/client_check.py URL [--mode legacy|auto] [--expect-version V] [--timeout S]
    $PEERS_PY interop/python/client_check.py SSE-URL --sse --mode legacy --no-resume-check

--sse: the SDK's 2024-11-05 HTTP+SSE client (mcp.client.sse) at the SSE URL (`mcp-http serve
--legacy-sse`, BR-33).

Targets the mcp-http built-in server (or interop/python/standin_server.py). Prints one line per
check (`PASS name: detail` / `FAIL name: reason`) and exits 0 only if every check passed. A check
that cannot run (e.g. the connection failed) is a FAIL with the reason, never skipped.

Modes:
  --mode legacy  the initialize handshake (2025-11-25).
  --mode auto    (the SDK default) the client first POSTs the 2026-07-28 `server/discover` probe
                 and falls back to initialize when the server answers with an error. mcp-http
                 and the Python SDK server (the stand-in without --legacy-only) answer the probe,
                 so auto mode negotiates 2026-07-28 there (`--expect-version 2026-07-28`); against
                 the stand-in with --legacy-only it falls back to 2025-11-25. In 2026-07-28: no session,
                 every request carries the `_meta` envelope, `logging/setLevel` no longer exists
                 (log delivery is opted into per request with `_meta` logLevel, which this script
                 sets through `Client(log_level="info")`), and sampling / elicitation still reach the
                 callbacks (the SDK drives them; see the ask_user and sample_llm checks).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import warnings

from typing import Any

import httpx2
import mcp.types as types
from mcp import Client, StdioServerParameters
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from checks import answering_elicitation, answering_sampling, Checker, text_of

SAMPLED_TEXT = "hello from python"

# logging/setLevel is deprecated in 2026-07-28, but it is the 2025-11-25 way and we test that.
warnings.filterwarnings("ignore", message=".*deprecated as of 2026-07-28.*")


async def main_async(args: argparse.Namespace) -> int:
    chk = Checker(args.timeout)
    logs: list[types.LoggingMessageNotificationParams] = []
    sampling_requests: list[types.CreateMessageRequestParams] = []
    elicitations: list[types.ElicitRequestParams] = []
    http_log: list[tuple[float, str, str | None]] = []  # (time, method, last-event-id)

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    on_sampling = answering_sampling(sampling_requests, SAMPLED_TEXT)
    on_elicit = answering_elicitation(elicitations, "Py")

    async def on_request(request: httpx2.Request) -> None:
        http_log.append((time.monotonic(), request.method, request.headers.get("last-event-id")))

    http_client = httpx2.AsyncClient(
        timeout=httpx2.Timeout(30.0, read=60.0), event_hooks={"request": [on_request]}
    )
    # --via-bridge BIN: the SDK's stdio client, talking to `BIN bridge URL` (BR-13); the HTTP
    # side is the bridge's, so this script sees no HTTP request of its own.
    transport: Any = (
        StdioServerParameters(command=args.via_bridge, args=["bridge", args.url])
        if args.via_bridge
        else sse_client(args.url, timeout=args.timeout)
        if args.sse
        else streamable_http_client(args.url, http_client=http_client)
    )
    client = Client(
        transport,
        mode=args.mode,
        logging_callback=on_log,
        log_level="info",  # 2026-07-28 per-request opt-in; ignored on 2025-11-25 connections
        sampling_callback=on_sampling,
        elicitation_callback=on_elicit,
        read_timeout_seconds=args.timeout,
    )

    connected: Client | None = None

    async def connect() -> str:
        nonlocal connected
        connected = await client.__aenter__()
        version = connected.protocol_version
        info = connected.server_info
        if args.expect_version:
            assert version == args.expect_version, f"negotiated {version}, expected {args.expect_version}"
        return f"mode={args.mode}, protocol {version}, server {info.name if info else '?'} {info.version if info else ''}"

    try:
        if not await chk.run("initialize", connect):
            names = ["list_tools", "list_resources", "list_prompts", "echo", "long_running_operation",
                     "sample_llm", "ask_user", "test_reconnection"]
            for n in names:
                chk.record(n, False, "not run: the connection failed")
            return 1
        c = connected
        assert c is not None
        modern = c.protocol_version >= "2026"

        async def list_tools() -> str:
            tools = (await c.list_tools()).tools
            names = {t.name for t in tools}
            want = {"echo", "add", "long_running_operation", "sample_llm", "ask_user", "test_reconnection"}
            missing = sorted(want - names)
            assert not missing, f"missing tools {missing} (got {sorted(names)})"
            return f"{len(tools)} tools, including {', '.join(sorted(want))}"

        async def list_resources() -> str:
            res = (await c.list_resources()).resources
            return f"{len(res)} resources"

        async def list_prompts() -> str:
            prompts = (await c.list_prompts()).prompts
            return f"{len(prompts)} prompts"

        async def echo() -> str:
            msg = "interop: héllo ✓ 123"
            r = await c.call_tool("echo", {"message": msg})
            assert not r.is_error, f"isError: {text_of(r)}"
            assert text_of(r) == msg, f"got {text_of(r)!r}, expected {msg!r}"
            return "text equals the message"

        async def long_running() -> str:
            progress: list[tuple[float, float | None]] = []

            async def on_progress(p: float, total: float | None, message: str | None) -> None:
                progress.append((p, total))

            if modern:
                level_note = "2026-07-28: no logging/setLevel, _meta logLevel=info opt-in"
            else:
                await c.set_logging_level("info")
                level_note = "logging/setLevel info"
            logs.clear()
            r = await c.call_tool(
                "long_running_operation", {"duration": 1, "steps": 3}, progress_callback=on_progress
            )
            await asyncio.sleep(0.2)  # notifications may trail the result on another task
            assert not r.is_error, f"isError: {text_of(r)}"
            values = [p for p, _ in progress]
            assert len(progress) == 3, f"expected 3 progress notifications, got {progress}"
            assert all(a < b for a, b in zip(values, values[1:])), f"progress not increasing: {values}"
            assert len(logs) == 3, f"expected 3 log messages, got {len(logs)}: {[lg.data for lg in logs]}"
            return f"progress {values} of {progress[-1][1]}, {len(logs)} log messages ({level_note})"

        async def sample_llm() -> str:
            sampling_requests.clear()
            r = await c.call_tool("sample_llm", {"prompt": "Say hello"})
            assert not r.is_error, f"isError: {text_of(r)}"
            assert sampling_requests, "the sampling callback was never called"
            assert SAMPLED_TEXT in text_of(r), f"result {text_of(r)!r} lacks {SAMPLED_TEXT!r}"
            return f"result {text_of(r)!r}"

        async def ask_user() -> str:
            elicitations.clear()
            r = await c.call_tool("ask_user", {"message": "Who are you?"})
            assert not r.is_error, f"isError: {text_of(r)}"
            assert elicitations, "the elicitation callback was never called"
            t = text_of(r)
            assert "action=accept" in t and "Py" in t, f"result {t!r} lacks action=accept and Py"
            return f"result {t!r}"

        async def reconnection() -> str:
            start = time.monotonic()
            r = await c.call_tool("test_reconnection", {})
            assert not r.is_error, f"isError: {text_of(r)}"
            t = text_of(r)
            assert "Reconnection test completed successfully" in t, f"result {t!r}"
            resumes = [e for e in http_log if e[0] >= start and e[1] == "GET" and e[2]]
            if args.via_bridge or args.no_resume_check:
                return "result ok (the stream's resumption is the bridge's, out of this client's sight)"
            if modern:
                # 2026-07-28 has no resumable SSE streams (no sessions, no GET stream).
                return f"result ok ({len(resumes)} GET + Last-Event-ID; none expected at {c.protocol_version})"
            assert resumes, "the result arrived but the client never sent GET + Last-Event-ID (no resumption)"
            return f"result ok after {len(resumes)} GET + Last-Event-ID resumption(s) ({resumes[0][2]})"

        await chk.run("list_tools", list_tools)
        await chk.run("list_resources", list_resources)
        await chk.run("list_prompts", list_prompts)
        await chk.run("echo", echo)
        await chk.run("long_running_operation", long_running)
        await chk.run("sample_llm", sample_llm)
        await chk.run("ask_user", ask_user)
        await chk.run("test_reconnection", reconnection)
    finally:
        if connected is not None:
            try:
                async with asyncio.timeout(10):
                    await client.__aexit__(None, None, None)
            except Exception as e:  # noqa: BLE001
                print(f"note: closing the client failed: {type(e).__name__}: {e}", flush=True)
        await http_client.aclose()

    failed = [n for n, ok, _ in chk.results if not ok]
    print(f"client_check.py ({args.mode}): {len(chk.results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--mode", choices=["legacy", "auto"], default="auto")
    parser.add_argument("--expect-version", help="fail unless this protocol version is negotiated")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per check (default 20)")
    parser.add_argument("--no-resume-check", action="store_true",
                        help="test_reconnection: check the result only (a server behind a stdio bridge cannot close the HTTP stream)")
    parser.add_argument("--via-bridge", metavar="BIN", help="connect over stdio through `BIN bridge URL`")
    parser.add_argument("--sse", action="store_true", help="the 2024-11-05 HTTP+SSE client at URL (the SSE path)")
    args = parser.parse_args()
    try:
        return asyncio.run(asyncio.wait_for(main_async(args), timeout=args.timeout * 12))
    except asyncio.TimeoutError:
        print(f"FAIL overall: the whole run exceeded {args.timeout * 12:.0f} s")
        return 1


if __name__ == "__main__":
    sys.exit(main())
