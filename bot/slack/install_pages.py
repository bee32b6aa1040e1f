"""The pages an admin's browser shows during an install (OAuth distribution, issue 16): ours, in the default
language and then the other, instead of bolt's English ones. The first one links to Slack's authorize URL
bolt built (with its state); bolt decides success or failure and stores the installation; the last pages
only say so, and on a failure where to start again."""

from __future__ import annotations

import html
import logging
from typing import Any

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from handlers.models import LOCALES
from nudges.texts.catalog import TextCatalog

log = logging.getLogger(__name__)


def _locales(default_locale: str) -> tuple[str, ...]:
    return (default_locale, *(other for other in LOCALES if other != default_locale))


def _document(default_locale: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="{default_locale}"><head><meta charset="utf-8"><title>vraagbot</title>'
            f"</head><body>{body}</body></html>")


class InstallFlow(AsyncOAuthFlow):
    """bolt's install flow, with our first page: what the app does and the link to add it, in both languages."""

    def __init__(self, *, catalog: TextCatalog, default_locale: str, **flow: Any) -> None:
        super().__init__(**flow)
        self._catalog = catalog
        self._default_locale = default_locale

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        locales = _locales(self._default_locale)
        intro = "".join(f'<p lang="{locale}">{html.escape(self._catalog.text(locale, "install.intro"))}</p>'
                        for locale in locales)
        label = " / ".join(html.escape(self._catalog.text(locale, "install.add")) for locale in locales)
        return _document(self._default_locale, f'{intro}<p><a href="{html.escape(url, quote=True)}">{label}</a></p>')


def install_pages(catalog: TextCatalog, default_locale: str, install_path: str) -> AsyncCallbackOptions:
    locales = _locales(default_locale)

    def page(status: int, key: str, **values: str) -> BoltResponse:
        paragraphs = "".join(f'<p lang="{locale}">{html.escape(catalog.text(locale, key, **values))}</p>'
                             for locale in locales)
        return BoltResponse(status=status, body=_document(default_locale, paragraphs),
                            headers={"Content-Type": "text/html; charset=utf-8"})

    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        where = installation.team_name or installation.enterprise_name or installation.team_id or ""
        return page(200, "install.done", workspace=where)

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        # bolt's reason (invalid_state, access_denied, ...) goes to the log, not to the page.
        log.warning("slack: an install did not finish: %s", args.reason)
        key = "install.cancelled" if args.reason == "access_denied" else "install.failed"  # the admin said no
        return page(args.suggested_status_code, key, start=install_path)

    return AsyncCallbackOptions(success=success, failure=failure)
