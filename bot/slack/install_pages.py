"""The pages an admin's browser shows at the end of an install (OAuth distribution, issue 16): ours, in the
default language and then the other, instead of bolt's English ones. bolt decides success or failure and
stores the installation; these only say so, and on a failure where to start again."""

from __future__ import annotations

import html
import logging

from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.response import BoltResponse

from handlers.models import LOCALES
from nudges.texts.catalog import TextCatalog

log = logging.getLogger(__name__)


def install_pages(catalog: TextCatalog, default_locale: str, install_path: str) -> AsyncCallbackOptions:
    locales = (default_locale, *(other for other in LOCALES if other != default_locale))

    def page(status: int, key: str, **values: str) -> BoltResponse:
        paragraphs = "".join(f'<p lang="{locale}">{html.escape(catalog.text(locale, key, **values))}</p>'
                             for locale in locales)
        body = (f'<!DOCTYPE html><html lang="{default_locale}"><head><meta charset="utf-8"><title>vraagbot</title>'
                f"</head><body>{paragraphs}</body></html>")
        return BoltResponse(status=status, body=body, headers={"Content-Type": "text/html; charset=utf-8"})

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
