#!/usr/bin/env python3
"""Stand-in for the mcp-http built-in server, written with the official Python SDK (mcp==2.3.0).

    $PEERS_PY interop/python/standin_server.py PORT [--legacy-only] [--no-event-store] [--stateless] [--json-response]

Serves Streamable HTTP at http://127.0.0.1:PORT/mcp (stateful sessions, SSE responses, an in-memory
event store so that streams can be resumed with GET + Last-Event-ID). It exposes the same tools
as the mcp-http built-in server, so the interop clients can be developed before that server exists:

    echo{message}  add{a,b}  long_running_operation{duration, steps}  sample_llm{prompt, maxTokens?}
    ask_user{message}  test_reconnection

and, for the 2026-07-28 checks of scripts/interop-modern.sh, ask_name (elicitation with a
default), trigger_tool_change (publishes
tools/list_changed to subscriptions/listen streams), slow{seconds} and last_cancelled (whether the
last slow call was cancelled, by the client closing its stream)

plus the conformance suite's server fixtures (test_simple_text, ..., resources test://..., prompts
test_*), so scripts/conformance.sh can be exercised against it too.

--legacy-only makes it behave like a 2025-11-25-only server: the 2026-07-28 `server/discover` probe of
the Python client's auto mode is refused (JSON-RPC -32601, which the SDK's HTTP layer sends with
status 404), so auto mode falls back to the initialize handshake, as it must against mcp-http.
Without it, auto mode negotiates 2026-07-28 with this server.

Limitation: one event store serves all sessions and the SDK keys streams by request id, so two
sessions resuming the same request id at the same moment could see each other's events. Fine for
sequential test runs; mcp-http must scope replay to the session (spec-checklist T-36).

--no-event-store: no priming events and no resumption (test_reconnection cannot close the stream);
the suites then report warnings in server-sse-polling, which exercises scripts/conformance.sh.

--stateless (the SDK's `stateless_http=True`): no sessions, a fresh transport per request and no
event store (the SDK drops it in that mode), so streams cannot be resumed.
--json-response (the SDK's `json_response=True`): every answer is one JSON document. The SDK then
drops every message related to a request (progress, logs, sampling and elicitation requests; see
the message router in mcp/server/streamable_http.py), so only unrelated messages reach the client,
on the GET stream.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import logging
import sys
from typing import Annotated, Any

import mcp.types as types
from pydantic import BaseModel, Field
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit, MCPServer, Resolve, Sample
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from mcp.server.transport_security import TransportSecuritySettings

log = logging.getLogger("standin")

# 1x1 transparent PNG and a tiny (44-byte header, 0 samples) WAV file.
TINY_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
TINY_WAV = base64.b64encode(
    b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00\x02\x00\x10\x00data\x00\x00\x00\x00"
).decode()


class InMemoryEventStore(EventStore):
    """Keeps every event of every stream in memory (bounded: oldest dropped past max_events).

    Event ids are "<stream_id>:<n>" with n global, so they are unique across the session and a
    Last-Event-ID maps back to its stream (spec T-31, T-32)."""

    def __init__(self, max_events: int = 10_000) -> None:
        self._events: list[tuple[str, str, types.JSONRPCMessage | None]] = []
        self._counter = itertools.count(1)
        self._max = max_events

    async def store_event(self, stream_id: str, message: types.JSONRPCMessage | None) -> str:
        event_id = f"{stream_id}:{next(self._counter)}"
        self._events.append((event_id, stream_id, message))
        if len(self._events) > self._max:
            del self._events[: len(self._events) - self._max]
        return event_id

    async def replay_events_after(self, last_event_id: str, send_callback: EventCallback) -> str | None:
        index = next((i for i, e in enumerate(self._events) if e[0] == last_event_id), None)
        if index is None:
            return None
        stream_id = self._events[index][1]
        for event_id, sid, message in self._events[index + 1 :]:
            if sid == stream_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream_id


# sample_llm and ask_user use the SDK's resolvers (Resolve + Sample / Elicit): on 2025-11-25 the
# SDK sends sampling/createMessage and elicitation/create mid-call on the POST stream (what
# mcp-http does); on 2026-07-28 (the Python client's auto mode against this server) it returns an
# InputRequiredResult and the client retries the call with the answers (no back-channel there,
# so ctx.session.create_message would fail with "no back-channel").
def _sample(prompt: str, maxTokens: int = 100) -> Sample:  # noqa: N803 (wire name)
    return Sample(
        [types.SamplingMessage(role="user", content=types.TextContent(type="text", text=prompt))],
        max_tokens=maxTokens,
    )


class AskForm(BaseModel):
    name: str = Field(description="Your name")
    proceed: bool = Field(description="Proceed?")


class NameForm(BaseModel):
    name: str = Field(default="Ada", description="Your name")


def _ask_name() -> Elicit[NameForm]:
    return Elicit("Your name?", NameForm)


def _ask(message: str) -> Elicit[AskForm]:
    return Elicit(message, AskForm)


def build_server(legacy_only: bool) -> MCPServer:
    mcp = MCPServer(name="mcp-http-standin", version="0.0.1")

    # ---- the mcp-http built-in tools -------------------------------------------------------
    @mcp.tool(description="Echoes back the input message")
    def echo(message: str) -> str:
        return message

    @mcp.tool(description="Adds two numbers")
    def add(a: float, b: float) -> str:
        total = a + b
        return str(int(total)) if total == int(total) else str(total)

    @mcp.tool(description="Runs for `duration` seconds in `steps` steps, reporting progress and logging each step")
    async def long_running_operation(ctx: Context, duration: float = 10, steps: int = 5) -> str:
        for step in range(1, steps + 1):
            await asyncio.sleep(duration / steps)
            await ctx.report_progress(step, steps, f"step {step}/{steps}")
            await ctx.info(f"long_running_operation: step {step} of {steps}")
        return f"Long running operation completed. Duration: {duration} seconds, Steps: {steps}."

    @mcp.tool(name="sample_llm", description="Asks the client's LLM (sampling/createMessage)")
    async def sample_llm(
        prompt: str,
        sampled: Annotated[types.CreateMessageResult, Resolve(_sample)],
        maxTokens: int = 100,  # noqa: N803 (wire name)
    ) -> str:
        content = sampled.content
        text = content.text if isinstance(content, types.TextContent) else json.dumps(content.model_dump())
        return f"LLM response: {text}"

    @mcp.tool(name="ask_user", description="Asks the user (elicitation/create, form mode)")
    async def ask_user(message: str, answer: Annotated[ElicitationResult[AskForm], Resolve(_ask)]) -> str:
        content = answer.data.model_dump() if isinstance(answer, AcceptedElicitation) else None
        return f"User answered: action={answer.action}, content={json.dumps(content)}"

    @mcp.tool(name="test_reconnection", description="Closes the SSE stream mid-call; the client must resume")
    async def test_reconnection(ctx: Context) -> str:
        await asyncio.sleep(0.1)
        # The SDK offers the callback only with an event store and a 2025-11-25 client; otherwise
        # close_sse_stream() is a no-op, and the result says so (checks must not pass on that).
        closes = getattr(ctx.request_context, "close_sse_stream", None) is not None
        await ctx.close_sse_stream()  # the result is replayed on GET + Last-Event-ID
        await asyncio.sleep(0.2)
        how = "the server closed the stream mid-call" if closes else "the stream was not closed: no event store"
        return f"Reconnection test completed successfully ({how})"

    # ---- the 2026-07-28 checks of scripts/interop-modern.sh ------------------------------------
    cancelled = {"last": False}

    @mcp.tool(name="ask_name", description="Asks the user for a name (elicitation, a default given)")
    async def ask_name(answer: Annotated[ElicitationResult[NameForm], Resolve(_ask_name)]) -> str:
        name = answer.data.name if isinstance(answer, AcceptedElicitation) else None
        return f"Hello, {name}"

    @mcp.tool(description="Publishes tools/list_changed to subscriptions/listen streams")
    async def trigger_tool_change(ctx: Context) -> str:
        await ctx.notify_tools_changed()
        return "ok"

    @mcp.tool(description="Waits `seconds`; closing the stream cancels it")
    async def slow(seconds: float) -> str:
        cancelled["last"] = False
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            cancelled["last"] = True
            raise
        return "done"

    @mcp.tool(description="Whether the last `slow` call was cancelled")
    def last_cancelled() -> str:
        return "cancelled" if cancelled["last"] else "not cancelled"

    # ---- conformance suite fixtures ----------------------------------------------------------
    @mcp.tool(description="Returns simple text")
    def test_simple_text() -> str:
        return "This is a simple text response for testing."

    @mcp.tool(description="Returns an image")
    def test_image_content() -> list[types.ContentBlock]:
        return [types.ImageContent(type="image", data=TINY_PNG, mime_type="image/png")]

    @mcp.tool(description="Returns audio")
    def test_audio_content() -> list[types.ContentBlock]:
        return [types.AudioContent(type="audio", data=TINY_WAV, mime_type="audio/wav")]

    def _embedded() -> types.EmbeddedResource:
        return types.EmbeddedResource(
            type="resource",
            resource=types.TextResourceContents(
                uri="test://embedded-resource", mime_type="text/plain", text="This is an embedded resource content."
            ),
        )

    @mcp.tool(description="Returns an embedded resource")
    def test_embedded_resource() -> list[types.ContentBlock]:
        return [_embedded()]

    @mcp.tool(description="Returns text, image and resource")
    def test_multiple_content_types() -> list[types.ContentBlock]:
        return [
            types.TextContent(type="text", text="Multiple content types test:"),
            types.ImageContent(type="image", data=TINY_PNG, mime_type="image/png"),
            _embedded(),
        ]

    @mcp.tool(description="Logs three messages")
    async def test_tool_with_logging(ctx: Context) -> str:
        for text in ("Tool execution started", "Tool processing data", "Tool execution completed"):
            await ctx.info(text)
            await asyncio.sleep(0.05)
        return "Tool with logging executed successfully"

    @mcp.tool(description="Reports progress 0, 50, 100")
    async def test_tool_with_progress(ctx: Context) -> str:
        for p in (0, 50, 100):
            await ctx.report_progress(p, 100, f"Completed step {p}")
            await asyncio.sleep(0.05)
        return "Tool with progress executed successfully"

    @mcp.tool(description="Always fails")
    def test_error_handling() -> str:
        raise RuntimeError("This tool intentionally returns an error for testing")

    @mcp.tool(description="Samples")
    async def test_sampling(ctx: Context, prompt: str) -> str:
        result = await ctx.session.create_message(
            messages=[types.SamplingMessage(role="user", content=types.TextContent(type="text", text=prompt))],
            max_tokens=100,
            related_request_id=ctx.request_id,
        )
        content = result.content
        text = content.text if isinstance(content, types.TextContent) else json.dumps(content.model_dump())
        return f"LLM response: {text}"

    @mcp.tool(description="Elicits")
    async def test_elicitation(ctx: Context, message: str) -> str:
        result = await ctx.session.elicit_form(
            message=message,
            requested_schema={
                "type": "object",
                "properties": {"username": {"type": "string"}, "email": {"type": "string"}},
                "required": ["username", "email"],
            },
            related_request_id=ctx.request_id,
        )
        return f"User response: action={result.action}, content={json.dumps(result.content)}"

    @mcp.tool(description="Elicitation with SEP-1034 defaults")
    async def test_elicitation_sep1034_defaults(ctx: Context) -> str:
        result = await ctx.session.elicit_form(
            message="Please review and update the form fields with defaults",
            requested_schema={
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "User name", "default": "John Doe"},
                    "age": {"type": "integer", "description": "User age", "default": 30},
                    "score": {"type": "number", "description": "User score", "default": 95.5},
                    "status": {
                        "type": "string",
                        "description": "User status",
                        "enum": ["active", "inactive", "pending"],
                        "default": "active",
                    },
                    "verified": {"type": "boolean", "description": "Verified", "default": True},
                },
            },
            related_request_id=ctx.request_id,
        )
        return f"Elicitation completed: action={result.action}, content={json.dumps(result.content)}"

    @mcp.tool(description="Elicitation with SEP-1330 enums")
    async def test_elicitation_sep1330_enums(ctx: Context) -> str:
        opts = ["option1", "option2", "option3"]
        titled = [{"const": o, "title": o.title()} for o in opts]
        result = await ctx.session.elicit_form(
            message="Please select options from the enum fields",
            requested_schema={
                "type": "object",
                "properties": {
                    "untitledSingle": {"type": "string", "enum": opts},
                    "titledSingle": {"type": "string", "oneOf": titled},
                    "legacyEnum": {"type": "string", "enum": opts, "enumNames": ["One", "Two", "Three"]},
                    "untitledMulti": {"type": "array", "items": {"type": "string", "enum": opts}},
                    "titledMulti": {"type": "array", "items": {"anyOf": titled}},
                },
            },
            related_request_id=ctx.request_id,
        )
        return f"Elicitation completed: action={result.action}, content={json.dumps(result.content)}"

    @mcp.tool(description="Tool whose input schema uses JSON Schema 2020-12 keywords")
    def json_schema_2020_12_tool(name: str = "", address: dict[str, Any] | None = None) -> str:
        return f"ok: {name} {json.dumps(address)}"

    # MCPServer derives inputSchema from the signature; overwrite the advertised one with a raw
    # 2020-12 schema ($schema, $defs, $ref, additionalProperties:false) as the suite expects.
    tool = mcp._tool_manager.get_tool("json_schema_2020_12_tool")  # noqa: SLF001 (no public API for a raw schema)
    if tool is not None:
        tool.parameters = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                }
            },
            "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
            "additionalProperties": False,
        }

    @mcp.resource("test://static-text", name="static-text", mime_type="text/plain", description="Static text")
    def static_text() -> str:
        return "This is the content of the static text resource."

    @mcp.resource("test://static-binary", name="static-binary", mime_type="image/png", description="Static binary")
    def static_binary() -> bytes:
        return base64.b64decode(TINY_PNG)

    @mcp.resource("test://template/{id}/data", name="template", mime_type="application/json", description="Template")
    def template(id: str) -> str:  # noqa: A002 (URI template variable)
        return json.dumps({"id": id, "templateTest": True, "data": f"Data for ID: {id}"})

    @mcp.resource("test://watched-resource", name="watched-resource", mime_type="text/plain", description="Watched")
    def watched() -> str:
        return "Watched resource content"

    @mcp.prompt(description="A simple prompt")
    def test_simple_prompt() -> list[UserMessage]:
        return [UserMessage("This is a simple prompt for testing.")]

    @mcp.prompt(description="A prompt with arguments")
    def test_prompt_with_arguments(arg1: str, arg2: str) -> list[UserMessage]:
        return [UserMessage(f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")]

    @mcp.prompt(description="A prompt with an embedded resource")
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[UserMessage]:  # noqa: N803 (wire name)
        return [
            UserMessage(
                types.EmbeddedResource(
                    type="resource",
                    resource=types.TextResourceContents(
                        uri=resourceUri, mime_type="text/plain", text="Embedded resource content for testing."
                    ),
                )
            ),
            UserMessage("Please process the embedded resource above."),
        ]

    @mcp.prompt(description="A prompt with an image")
    def test_prompt_with_image() -> list[UserMessage]:
        return [
            UserMessage(types.ImageContent(type="image", data=TINY_PNG, mime_type="image/png")),
            UserMessage("Please analyze the image above."),
        ]

    @mcp.completion()
    async def complete(ref: Any, argument: Any, context: Any) -> types.Completion:
        return types.Completion(values=[], total=0, has_more=False)

    low = mcp._lowlevel_server  # noqa: SLF001 (MCPServer has no decorators for these three)

    async def set_level(ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        return types.EmptyResult()

    async def subscribe(ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
        return types.EmptyResult()

    async def unsubscribe(ctx: Any, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        return types.EmptyResult()

    low.add_request_handler("logging/setLevel", types.SetLevelRequestParams, set_level)
    low.add_request_handler("resources/subscribe", types.SubscribeRequestParams, subscribe)
    low.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, unsubscribe)

    if legacy_only:
        # Refuse the 2026-07-28 `server/discover` probe like a 2025-11-25-only server would.
        async def no_discover(ctx: Any, params: types.RequestParams) -> types.EmptyResult:
            from mcp.shared.exceptions import MCPError

            raise MCPError(code=types.METHOD_NOT_FOUND, message="Method not found: server/discover")

        low.add_request_handler("server/discover", types.RequestParams, no_discover)

    return mcp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int, nargs="?", default=0)
    parser.add_argument("--stdio", action="store_true", help="serve over stdin/stdout (behind mcp-http bridge)")
    parser.add_argument("--legacy-only", action="store_true", help="refuse server/discover (2025-11-25 only)")
    parser.add_argument(
        "--no-event-store",
        action="store_true",
        help="no event store: no priming events, test_reconnection cannot close the stream (suite warnings)",
    )
    parser.add_argument("--stateless", action="store_true", help="stateless_http=True: no sessions")
    parser.add_argument("--json-response", action="store_true", help="json_response=True: JSON answers, no SSE")
    parser.add_argument("--retry-ms", type=int, default=500, help="SSE retry hint sent in priming events")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    mcp = build_server(args.legacy_only)
    if args.stdio:
        mcp.run(transport="stdio")
        return 0
    mcp.run(
        transport="streamable-http",
        host="127.0.0.1",
        port=args.port,
        streamable_http_path="/mcp",
        stateless_http=args.stateless,
        json_response=args.json_response,
        event_store=None if args.no_event_store else InMemoryEventStore(),
        retry_interval=args.retry_ms,
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
