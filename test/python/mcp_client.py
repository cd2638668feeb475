"""A small client of the official MCP Python SDK (PyPI ``mcp``), as a user would write it.

Run by test/integration/python-client.test.ts with the SDK the install script pinned:
``python mcp_client.py <url> <mode>``, ``mode`` being ``auto`` (the SDK's default: probe
``server/discover``, fall back to ``initialize``), ``legacy`` or a revision to pin (``2026-07-28``).
It lists the tools, calls ``ask_name`` (whose backend asks for a name by elicitation, answered
here with "Ada"), and prints one JSON line saying what happened, for the test to check.
"""

import asyncio
import json
import sys

import mcp_types as types
from mcp import Client


async def main(url: str, mode: str) -> None:
    asked: list[str] = []

    async def elicit(_context, params):
        asked.append(params.message)
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    info = types.Implementation(name=f"python-{mode}", version="2.3.0")
    async with Client(url, mode=mode, elicitation_callback=elicit, client_info=info) as client:
        tools = await client.list_tools()
        called = await client.call_tool("ask_name", {})
        session = client.session
        print(
            json.dumps(
                {
                    "protocolVersion": client.protocol_version,
                    "discovered": session.discover_result is not None,
                    "initialized": session.initialize_result is not None,
                    "tools": sorted(t.name for t in tools.tools),
                    "text": "".join(c.text for c in called.content if isinstance(c, types.TextContent)),
                    "isError": bool(called.is_error),
                    "asked": asked,
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
