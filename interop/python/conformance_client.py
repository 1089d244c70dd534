#!/usr/bin/env python3
"""A conformance-suite client entry point built on the official Python SDK (mcp==2.3.0).

    scripts/conformance-client.sh "$PEERS_PY $PWD/interop/python/conformance_client.py" py-client

The suite runs `<command> <server-url>` with env MCP_CONFORMANCE_SCENARIO. This is a reference
peer for scripts/conformance-client.sh (and a yardstick for the mcp-http client later), not part
of mcp-http. Legacy mode: the mock servers speak 2025-11-25 (or older).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import mcp.types as types
from mcp import Client


async def elicit_with_defaults(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    # Accept, filling every field from the schema's defaults (SEP-1034).
    schema = getattr(params, "requested_schema", None) or {}
    props = schema.get("properties", {}) if isinstance(schema, dict) else {}
    content = {k: v["default"] for k, v in props.items() if isinstance(v, dict) and "default" in v}
    return types.ElicitResult(action="accept", content=content)


async def run(url: str, scenario: str) -> None:
    async with Client(url, mode="legacy", elicitation_callback=elicit_with_defaults, read_timeout_seconds=20) as c:
        if scenario == "initialize":
            return
        if scenario == "tools_call":
            await c.list_tools()
            await c.call_tool("add_numbers", {"a": 5, "b": 3})
        elif scenario == "elicitation-sep1034-client-defaults":
            await c.call_tool("test_client_elicitation_defaults", {})
        elif scenario == "sse-retry":
            await c.call_tool("test_reconnection", {})
        elif scenario == "json-schema-2020-12-preservation":
            tools = await c.list_tools()
            tool = next((t for t in tools.tools if t.name == "json_schema_2020_12_tool"), None)
            if tool is None:
                raise RuntimeError("json_schema_2020_12_tool not listed")
            await c.call_tool("json_schema_echo", {"schema": tool.input_schema})
        else:
            raise RuntimeError(f"unknown scenario {scenario!r}")


def main() -> int:
    if len(sys.argv) < 2:
        print("usage: conformance_client.py <server-url>", file=sys.stderr)
        return 2
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "initialize")
    try:
        asyncio.run(asyncio.wait_for(run(sys.argv[-1], scenario), timeout=25))
    except Exception as e:  # noqa: BLE001 (report and fail)
        print(f"conformance_client: {scenario}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
