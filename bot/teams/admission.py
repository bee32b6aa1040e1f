"""Which authenticated activities the bot serves: Teams ones (the Bot Framework Emulator's only with the
local-testing switch), from an allowed Bot Framework service URL, in an allowed tenant. Checked before the
turn runs, so a refused activity stores nothing and makes the bot contact nobody."""

from __future__ import annotations

from dataclasses import dataclass

from botbuilder.schema import Activity

from bot.teams.service_urls import ServiceUrls

TEAMS = "msteams"
EMULATOR = "emulator"


def conversation_tenant(activity: Activity) -> str | None:
    """conversation.tenantId. botbuilder's model maps the key "tenantID", so the "tenantId" Teams sends
    lands among the additional properties."""
    conversation = activity.conversation
    if conversation is None:
        return None
    tenant = conversation.tenant_id or (conversation.additional_properties or {}).get("tenantId")
    return tenant if isinstance(tenant, str) and tenant else None


def channel_data_tenant(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant").get("id") if isinstance(data.get("tenant"), dict) else None
    return tenant if isinstance(tenant, str) and tenant else None


def activity_tenant(activity: Activity) -> str | None:
    """conversation.tenantId; Teams leaves it out of some activities (personal chats, card actions and
    conversation updates in its own documentation), which carry only channelData.tenant.id. The
    admission check refuses an activity whose two disagree, so either names the same tenant."""
    return conversation_tenant(activity) or channel_data_tenant(activity)


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str  # for the log line (user input in it is repr'd, so it cannot forge a line)
    message: str  # for the HTTP answer


@dataclass(frozen=True)
class Admission:
    service_urls: ServiceUrls
    tenants: frozenset[str]  # empty: any tenant
    emulator: bool  # the local-testing switch is on

    def refusal(self, activity: Activity) -> Refusal | None:
        """Why `activity` is not served, or None when it is."""
        channel = activity.channel_id
        if channel != TEAMS and not (self.emulator and channel == EMULATOR):
            return Refusal(400, f"channelId {channel!r:.40} is not {TEAMS}", f"only {TEAMS} activities are served")
        if not self.service_urls.allows(activity.service_url):
            return Refusal(400, f"serviceUrl {activity.service_url!r:.120} is not on VRAAGBOT_TEAMS_SERVICE_URLS",
                           "serviceUrl is not an allowed Bot Framework service URL")
        return self._tenant_refusal(activity)

    def _tenant_refusal(self, activity: Activity) -> Refusal | None:
        tenant, data_tenant = conversation_tenant(activity), channel_data_tenant(activity)
        if tenant is not None and data_tenant is not None and data_tenant != tenant:
            return Refusal(400, f"channelData tenant {data_tenant!r:.60} is not conversation.tenantId {tenant!r:.60}",
                           "the activity names two tenants")
        tenant = tenant or data_tenant
        if tenant is None:
            if activity.channel_id == EMULATOR and not self.tenants:
                return None  # the Emulator names no tenant
            return Refusal(400, "no tenant (conversation.tenantId or channelData.tenant.id)", "a tenant id is required")
        if self.tenants and tenant not in self.tenants:
            return Refusal(403, f"tenant {tenant!r:.60} is not on VRAAGBOT_TEAMS_TENANTS", "tenant not served")
        return None
