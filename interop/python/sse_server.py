#!/usr/bin/env python3
"""A 2024-11-05 HTTP+SSE server on the official Python SDK (mcp==2.3.0), for the client's fallback (T-49).

    $PEERS_PY interop/python/sse_server.py PORT

GET http://127.0.0.1:PORT/sse opens the event stream, whose first `endpoint` event names the URL
to POST messages to; a POST to /sse is refused with 405, which is what sends a Streamable HTTP
client to the fallback. Tools: echo{message}, long_running_operation{duration, steps} (progress
and info logs), sample_llm{prompt} (a sampling request back to the client over the stream).
"""

from __future__ import annotations

import asyncio
import sys

import mcp.types as types
import uvicorn
from mcp.server.mcpserver import Context, MCPServer


def build() -> MCPServer:
    mcp = MCPServer("python-sse-server")

    @mcp.tool(description="Echoes back the input message")
    def echo(message: str) -> str:
        return message

    @mcp.tool(description="Reports progress and logs each step")
    async def long_running_operation(ctx: Context, duration: float = 1, steps: int = 3) -> str:
        for step in range(1, steps + 1):
            await asyncio.sleep(duration / steps)
            await ctx.report_progress(step, steps, f"step {step}/{steps}")
            await ctx.info(f"long_running_operation: step {step} of {steps}")
        return f"Long running operation completed: {steps} steps in {duration} s"

    @mcp.tool(description="Asks the client's LLM")
    async def sample_llm(ctx: Context, prompt: str) -> str:
        result = await ctx.session.create_message(
            messages=[types.SamplingMessage(role="user", content=types.TextContent(type="text", text=prompt))],
            max_tokens=100,
        )
        content = result.content
        text = content.text if isinstance(content, types.TextContent) else str(content)
        return f"LLM sampling result: {text}"

    return mcp


def main() -> None:
    port = int(sys.argv[1])
    app = build().sse_app(host="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
