"""The Python SDK client authenticates against `mcp-http serve --auth-issuer` through a real
authorization server (oidc-provider, interop/node/oauth-as.mjs) and calls a tool.

    oauth_client_check.py MCP_URL [--mode legacy|auto]

Its `OAuthClientProvider` does discovery (401 -> protected resource metadata -> AS metadata),
DCR, PKCE and the token request; the redirect handler here is the auto-approving "browser": it
follows the authorization server's redirects with a cookie jar until the (never bound) loopback
redirect URI and hands the code to the callback handler. Prints PASS/FAIL lines; exits 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

REDIRECT = "http://127.0.0.1:53682/callback"


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--mode", default="legacy")
    args = parser.parse_args()
    result: dict[str, AuthorizationCodeResult] = {}
    visited: list[str] = []

    async def browse(url: str) -> None:
        # The user agent: follow redirects with cookies until the redirect URI (20 hops at most).
        async with httpx2.AsyncClient(timeout=10.0) as browser:
            for _ in range(20):
                visited.append(url)
                answer = await browser.get(url)
                location = answer.headers.get("location")
                if location is None:
                    raise RuntimeError(f"no redirect from {url}: HTTP {answer.status_code}")
                location = urljoin(url, location)
                if location.startswith(REDIRECT):
                    query = parse_qs(urlparse(location).query)
                    result["code"] = AuthorizationCodeResult(
                        code=query["code"][0],
                        state=query.get("state", [None])[0],
                        iss=query.get("iss", [None])[0],
                    )
                    return
                url = location
        raise RuntimeError("the authorization flow did not reach the redirect URI")

    async def callback() -> AuthorizationCodeResult:
        return result.pop("code")

    storage = MemoryStorage()
    auth = OAuthClientProvider(
        server_url=args.url,
        client_metadata=OAuthClientMetadata(
            client_name="mcp-http interop (Python SDK)",
            redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=browse,
        callback_handler=callback,
    )
    failed = 0
    try:
        http_client = httpx2.AsyncClient(auth=auth, timeout=httpx2.Timeout(30.0, read=60.0))
        async with Client(streamable_http_client(args.url, http_client=http_client), mode=args.mode) as client:
            answer = await client.call_tool("echo", {"message": "oauth"})
            text = "".join(c.text for c in answer.content if getattr(c, "type", "") == "text")
            if text != "oauth":
                raise RuntimeError(f"echo answered {text!r}")
        print(f"PASS python oauth: authorized through {len(visited)} redirects, echo answered")
    except Exception as e:  # noqa: BLE001 - one line per failure
        failed += 1
        print(f"FAIL python oauth: {type(e).__name__}: {e}")
    if storage.tokens is None:
        failed += 1
        print("FAIL python oauth: no token was stored")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
