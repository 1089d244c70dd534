#!/usr/bin/env python3
"""Interop check: the official Python SDK client (mcp==2.3.0) against an MCP server in the
2026-07-28 era (the mcp-http built-in server: `mcp-http serve`).

    $PEERS_PY interop/python/modern_client_check.py URL [--mode auto|2026-07-28] [--timeout S]

`Client(mode="auto")` (the SDK default) probes with `server/discover` and falls back to initialize
only for a legacy server; `--mode 2026-07-28` pins the era instead. Every HTTP exchange is logged
through httpx event hooks, so the checks look at the wire as well as at the SDK's answers. One line
per check (`PASS name: detail` / `FAIL name: reason`); exits 0 only if every check passed. A check
that cannot run (e.g. the connection failed) is a FAIL with the reason, never skipped.

Checks:
  era          protocol 2026-07-28: server/discover sent, no initialize, no Mcp-Session-Id
  tools        tools/list has the built-in tools used here; `echo` answers its message
  mrtr_elicit  `ask_user` answers input_required; the SDK hands the elicitation to our callback
               and retries (a new id) with inputResponses; our answer is in the result (the
               first round has no requestState to echo: mcp-http seals one only once there are
               answers to keep)
  mrtr_sample  the same with `sample_llm` and our sampling callback
  listen       `client.listen(tools_list_changed=True)` is acknowledged; after a call of
               `test_trigger_tool_change` the subscription yields ToolsListChanged, and a
               refreshed tools/list shows the change (`test_dynamic_tool` came or went); with
               --per-instance-fixtures (instances behind a balancer) the list is not compared:
               the trigger changes the list of the instance that ran it only
  cancel       a `long_running_operation` call (10 s) whose task is cancelled: the SDK closes the
               request's stream (no notifications/cancelled POSTed), and the server's
               `test_cancellation_count` reports one more cancelled run within 5 s (counts of
               the process that ran the call: each instance behind a balancer counts its own)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time

from typing import Any

import httpx2
import mcp.types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ToolsListChanged

from checks import answering_elicitation, answering_sampling, Checker, describe, text_of

MODERN = "2026-07-28"
SAMPLED_TEXT = "hello from the python client"
ELICITED_NAME = "Py modern"
# test_cancellation_count calls that make the baseline: more than the instances behind a
# round-robin balancer (three in scripts/nginx-cluster.sh), so each is seen.
BASELINE_POLLS = 6


async def main_async(args: argparse.Namespace) -> int:
    chk = Checker(args.timeout)
    elicitations: list[types.ElicitRequestParams] = []
    samplings: list[types.CreateMessageRequestParams] = []
    # The wire: every POSTed JSON-RPC body, and every response's Mcp-Session-Id.
    posts: list[dict[str, Any]] = []
    session_ids: list[str] = []

    async def on_request(request: httpx2.Request) -> None:
        if request.method == "POST":
            try:
                posts.append(json.loads(request.content))
            except (ValueError, httpx2.RequestNotRead):
                posts.append({})

    async def on_response(response: httpx2.Response) -> None:
        if sid := response.headers.get("mcp-session-id"):
            session_ids.append(sid)

    def posted(method: str) -> list[dict[str, Any]]:
        return [p for p in posts if isinstance(p, dict) and p.get("method") == method]

    def tool_calls(tool: str) -> list[dict[str, Any]]:
        return [p for p in posted("tools/call") if p.get("params", {}).get("name") == tool]

    on_sampling = answering_sampling(samplings, SAMPLED_TEXT)
    on_elicit = answering_elicitation(elicitations, ELICITED_NAME)

    http_client = httpx2.AsyncClient(
        timeout=httpx2.Timeout(30.0, read=60.0),
        event_hooks={"request": [on_request], "response": [on_response]},
    )
    client = Client(
        streamable_http_client(args.url, http_client=http_client),
        mode=args.mode,
        sampling_callback=on_sampling,
        elicitation_callback=on_elicit,
        read_timeout_seconds=args.timeout,
    )
    connected: Client | None = None

    async def era() -> str:
        nonlocal connected
        connected = await client.__aenter__()
        version = connected.protocol_version
        assert version == MODERN, f"negotiated {version}, expected {MODERN}"
        if args.mode == "auto":
            assert posted("server/discover"), "no server/discover was sent"
        assert not posted("initialize"), "an initialize was sent"
        assert not session_ids, f"a response carried Mcp-Session-Id {session_ids[0]}"
        info = connected.server_info
        return f"mode={args.mode}, protocol {version}, server {info.name if info else '?'} {info.version if info else ''}, no session"

    try:
        if not await chk.run("era", era) or connected is None or connected.protocol_version != MODERN:
            for n in ["tools", "mrtr_elicit", "mrtr_sample", "listen", "cancel"]:
                chk.record(n, False, "not run: no 2026-07-28 connection (see era)")
            return summary(chk, args)
        c = connected

        async def run_counts() -> dict[str, int]:
            r = await c.call_tool("test_cancellation_count", {})
            assert not r.is_error, f"test_cancellation_count isError: {text_of(r)}"
            return json.loads(text_of(r))

        async def tools() -> str:
            listed = (await c.list_tools()).tools
            names = {t.name for t in listed}
            want = {"echo", "ask_user", "sample_llm", "long_running_operation", "test_trigger_tool_change",
                    "test_cancellation_count"}
            missing = sorted(want - names)
            assert not missing, f"missing tools {missing}"
            msg = "interop modern: héllo ✓ 123"
            r = await c.call_tool("echo", {"message": msg})
            assert not r.is_error, f"echo isError: {text_of(r)}"
            assert text_of(r) == msg, f"echo gave {text_of(r)!r}"
            return f"{len(listed)} tools; echo answered its message"

        async def mrtr(tool: str, arguments: dict[str, Any], handled: list[Any], expected: list[str]) -> str:
            before = len(tool_calls(tool))
            handled.clear()
            r = await c.call_tool(tool, arguments)
            assert not r.is_error, f"isError: {text_of(r)}"
            assert len(handled) == 1, f"our callback ran {len(handled)} times, expected once"
            calls = tool_calls(tool)[before:]
            assert len(calls) == 2, f"{len(calls)} tools/call POSTs, expected 2 (the call and its retry)"
            retry = calls[1]["params"]
            assert len(retry.get("inputResponses") or {}) == 1, "the retry carries no inputResponses"
            assert calls[0]["id"] != calls[1]["id"], "the retry reused the request id"
            t = text_of(r)
            for e in expected:
                assert e in t, f"result {t!r} lacks {e!r}"
            state = " + requestState" if retry.get("requestState") else ""
            return f"input_required, callback, retry with inputResponses{state}: {t!r}"

        async def listen() -> str:
            async def has_dynamic() -> bool:
                listed = (await c.list_tools(cache_mode="refresh")).tools
                return any(t.name == "test_dynamic_tool" for t in listed)

            before = await has_dynamic()
            async with c.listen(tools_list_changed=True) as sub:
                assert sub.honored.tools_list_changed, f"the server did not honour tools_list_changed: {sub.honored}"
                r = await c.call_tool("test_trigger_tool_change", {})
                assert not r.is_error, f"test_trigger_tool_change isError: {text_of(r)}"
                try:
                    async with asyncio.timeout(5):
                        event = await anext(aiter(sub))
                except TimeoutError:
                    raise AssertionError("no notifications/tools/list_changed within 5 s") from None
                assert isinstance(event, ToolsListChanged), f"got {event!r}, expected ToolsListChanged"
            head = (f"acknowledged (tools_list_changed), subscription {sub.subscription_id!r}; "
                    f"{type(event).__name__}")
            if args.per_instance_fixtures:
                return f"{head}; tools/list not compared (--per-instance-fixtures: each instance has its own list)"
            after = await has_dynamic()
            assert after != before, f"tools/list did not change (test_dynamic_tool {'still there' if before else 'still absent'})"
            return f"{head}; test_dynamic_tool {'went' if before else 'came'}"

        async def cancel() -> str:
            # The counts are per process (`process` names it): behind a balancer each instance
            # counts its own runs, so the baseline is every instance's counts (polled more times
            # than there are instances) and the run is matched by the process that counted it.
            base: dict[str, dict[str, Any]] = {}
            for _ in range(BASELINE_POLLS):
                counts = await run_counts()
                base.setdefault(counts["process"], counts)
            task = asyncio.create_task(c.call_tool("long_running_operation", {"duration": 10, "steps": 10}))
            runner = None
            for _ in range(100):
                counts = await run_counts()
                before = base.get(counts["process"])
                assert before is not None, f"process {counts['process']} was not seen before the call ({sorted(base)})"
                if counts["started"] != before["started"]:
                    assert counts["started"] == before["started"] + 1, f"{counts} after {before}"
                    runner = counts["process"]
                    break
                await asyncio.sleep(0.05)
            assert runner is not None, f"the run never started: {base}"
            cancels_before = len(posted("notifications/cancelled"))
            t0 = time.monotonic()
            task.cancel()
            try:
                async with asyncio.timeout(5):
                    await task
                outcome = "returned"
            except asyncio.CancelledError:
                outcome = "cancelled"
            except TimeoutError:
                outcome = "still pending after 5 s"
            assert outcome == "cancelled", f"the cancelled call {outcome}"
            start = base[runner]
            counts = start
            for _ in range(100):
                counts = await run_counts()
                if counts["process"] == runner and counts["cancelled"] != start["cancelled"]:
                    break
                await asyncio.sleep(0.05)
            assert counts["process"] == runner and counts["cancelled"] == start["cancelled"] + 1, (
                f"the server did not count the run as cancelled: before {start}, now {counts}")
            assert counts["completed"] == start["completed"], f"a run completed: {counts}"
            cancel_posts = len(posted("notifications/cancelled")) - cancels_before
            assert cancel_posts == 0, f"the SDK POSTed {cancel_posts} notifications/cancelled (expected the stream close alone)"
            ms = (time.monotonic() - t0) * 1000
            return (f"task cancelled; server counted the run cancelled within {ms:.0f} ms (stream closed, no "
                    f"notifications/cancelled POSTed; {len(base)} counting process(es))")

        await chk.run("tools", tools)
        await chk.run("mrtr_elicit", lambda: mrtr("ask_user", {"message": "Who are you?"}, elicitations,
                                                   ["action=accept", ELICITED_NAME]))
        await chk.run("mrtr_sample", lambda: mrtr("sample_llm", {"prompt": "Say hello"}, samplings, [SAMPLED_TEXT]))
        await chk.run("listen", listen)
        await chk.run("cancel", cancel)
    finally:
        if connected is not None:
            try:
                async with asyncio.timeout(10):
                    await client.__aexit__(None, None, None)
            except Exception as e:  # noqa: BLE001
                print(f"note: closing the client failed: {describe(e)}", flush=True)
        with contextlib.suppress(Exception):
            await http_client.aclose()

    return summary(chk, args)


def summary(chk: Checker, args: argparse.Namespace) -> int:
    failed = [n for n, ok, _ in chk.results if not ok]
    print(f"modern_client_check.py ({args.mode}): {len(chk.results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--mode", choices=["auto", MODERN], default="auto")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per check (default 20)")
    parser.add_argument("--per-instance-fixtures", action="store_true",
                        help="several instances behind a balancer: `listen` does not compare tools/list "
                             "before and after (test_trigger_tool_change changes only its instance's list)")
    args = parser.parse_args()
    try:
        return asyncio.run(asyncio.wait_for(main_async(args), timeout=args.timeout * 10))
    except TimeoutError:
        print(f"FAIL overall: the whole run exceeded {args.timeout * 10:.0f} s")
        return 1


if __name__ == "__main__":
    sys.exit(main())
