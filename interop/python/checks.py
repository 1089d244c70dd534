"""What the interop check scripts share: a check runner that prints `PASS name: detail` /
`FAIL name: reason` per check (a check that cannot run is a FAIL with the reason, never
skipped), and small helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import mcp.types as types


class Checker:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.results: list[tuple[str, bool, str]] = []

    def record(self, name: str, ok: bool, detail: str) -> bool:
        self.results.append((name, ok, detail))
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        return ok

    async def run(self, name: str, fn: Callable[[], Awaitable[str]], timeout: float | None = None) -> bool:
        """Runs one check; it passes when fn returns a detail string, fails on any exception."""
        limit = timeout or self.timeout
        try:
            # asyncio.timeout, not wait_for: the check must run in this task (the SDK's cancel scopes).
            async with asyncio.timeout(limit):
                detail = await fn()
        except AssertionError as e:
            return self.record(name, False, str(e) or "assertion failed")
        except TimeoutError:
            return self.record(name, False, f"timed out after {limit:.0f} s")
        except Exception as e:  # noqa: BLE001 (any error fails the check, with its reason)
            return self.record(name, False, describe(e))
        return self.record(name, True, detail)


def describe(e: BaseException) -> str:
    """The leaf errors of an exception (group), e.g. the real cause inside the SDK's task groups."""
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(describe(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}"


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def answering_sampling(seen: list[types.CreateMessageRequestParams], text: str) -> Callable[..., Awaitable[types.CreateMessageResult]]:
    """A sampling callback that records each request in `seen` and answers `text`."""

    async def on_sampling(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        seen.append(params)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=text),
            model="interop-check-model",
            stop_reason="endTurn",
        )

    return on_sampling


def answering_elicitation(seen: list[types.ElicitRequestParams], name: str) -> Callable[..., Awaitable[types.ElicitResult]]:
    """An elicitation callback that records each request in `seen` and accepts with `name`."""

    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        seen.append(params)
        return types.ElicitResult(action="accept", content={"name": name, "proceed": True})

    return on_elicit
