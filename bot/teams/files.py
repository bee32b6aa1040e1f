"""A data export as a real file in Teams, through the file consent flow of the personal chat.

1. The bot sends a file consent card (name, size, a short description). It carries no data: only a marker
   that it is an export.
2. The person accepts or declines in Teams; Teams sends a ``fileConsent/invoke`` with ``action`` accept
   (plus ``uploadInfo``: an upload URL in their own OneDrive, the file's name, content URL and unique id)
   or decline.
3. On accept the export is produced again, at that moment and for the person who clicked (the invoke's
   sender: a consent card in a personal chat can only be clicked by that person), PUT to the upload URL in
   one piece (``Content-Range``, as OneDrive upload sessions want), and announced with a file info card.

So nothing of the export is kept between the card and the click, nor after the upload: the bytes exist
only while they are sent. The size on the card is that of the export when it was asked for; the file has
what is stored when the person accepts. Files work in personal chats only (Teams' rule), which is where
personal data goes anyway (bot.teams.privacy)."""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, Attachment
from botbuilder.schema.teams import FileConsentCard, FileInfoCard, FileUploadInfo

from bot.teams.escape import message_text
from handlers.messages import DataExport, OutgoingMessage
from handlers.ports import Catalog

FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
CONTEXT_KEY = "vraagbot"
EXPORT_CONTEXT = {CONTEXT_KEY: "data_export"}  # what the consent card sends back: nothing personal
UPLOAD_TIMEOUT_SECONDS = 30.0

log = logging.getLogger(__name__)


def export_bytes(export: DataExport) -> bytes:
    return json.dumps(export.content, ensure_ascii=False, indent=1).encode("utf-8")


def consent_activities(message: OutgoingMessage, export: DataExport, catalog: Catalog, locale: str) -> list[Activity]:
    """What the person reads, then the consent card (separate activities: Teams splits text plus an
    attachment anyway)."""
    card = FileConsentCard(description=catalog.text(locale, "teams.export_consent_description"),
                           size_in_bytes=len(export_bytes(export)),
                           accept_context=dict(EXPORT_CONTEXT), decline_context=dict(EXPORT_CONTEXT))
    consent = MessageFactory.attachment(Attachment(content_type=FILE_CONSENT, name=export.filename, content=card))
    return [MessageFactory.text(message_text(catalog.text(locale, "teams.export_consent"))), consent]


def is_export_consent(context: Any) -> bool:
    return isinstance(context, dict) and context.get(CONTEXT_KEY) == EXPORT_CONTEXT[CONTEXT_KEY]


def file_info_activity(upload: FileUploadInfo) -> Activity:
    """The card that shows the uploaded file in the chat (Teams opens it from the person's OneDrive)."""
    card = FileInfoCard(unique_id=upload.unique_id, file_type=upload.file_type)
    return MessageFactory.attachment(Attachment(content_type=FILE_INFO, name=upload.name,
                                                content_url=upload.content_url, content=card))


def upload_allowed(url: str | None) -> bool:
    """https, or http to this machine only (a local fake): the bytes are personal data."""
    if not url:
        return False
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


async def upload(url: str, data: bytes, *, timeout: float = UPLOAD_TIMEOUT_SECONDS) -> bool:  # noqa: ASYNC109
    """PUT the whole file to the upload URL Teams gave; True when the upload session took it."""
    if not upload_allowed(url):
        log.warning("teams: refused to upload an export to a URL that is not https")
        return False
    headers = {"Content-Length": str(len(data)), "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
               "Content-Type": "application/octet-stream"}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session, \
                session.put(url, data=data, headers=headers) as response:
            if response.status in (200, 201):
                return True
            log.warning("teams: export upload answered HTTP %s", response.status)
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        log.warning("teams: export upload failed: %s", type(error).__name__)
    return False
