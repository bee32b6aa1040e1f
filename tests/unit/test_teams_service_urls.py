"""The Bot Framework service URL allow-list and the Teams settings around it (issue 11, finding 2)."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings
from bot.teams.service_urls import ServiceUrls, is_loopback_host

DEFAULT = ServiceUrls.parse(load_settings().teams_service_urls)


@pytest.mark.parametrize("url", [
    "https://smba.trafficmanager.net/amer/",
    "https://smba.trafficmanager.net/teams/",
    "https://smba.trafficmanager.net/emea/56653e9d-2158-46ee-90d7-675c39642038/",
    "https://SMBA.TrafficManager.net/apac/",
    "https://smba.trafficmanager.net:443/amer/",
    "https://smba.infra.gcc.teams.microsoft.com/gcc",
    "https://smba.infra.gov.teams.microsoft.us/gcch",
    "https://smba.infra.dod.teams.microsoft.us/teams",
])
def test_microsofts_teams_service_urls_are_allowed_by_default(url):
    assert DEFAULT.allows(url)


@pytest.mark.parametrize("url", [
    "http://smba.trafficmanager.net/amer/",  # the bot's token would travel in the clear
    "https://smba.trafficmanager.net.attacker.example/amer/",
    "https://attacker.example/smba.trafficmanager.net/",
    "https://user:pw@smba.trafficmanager.net/amer/",
    "https://smba.trafficmanager.net@attacker.example/",
    "https://smba.trafficmanager.net\\@attacker.example/",
    "https://smba.trafficmanager.net:8443/amer/",
    "https://smba.trafficmanager.net:99999/amer/",
    "https://smba.trafficmanager.net./amer/",
    "https://smba.trafficmanager.net/amer/?next=https://attacker.example",
    "https://smba.trafficmanager.net/amer/#x",
    " https://smba.trafficmanager.net/amer/",
    "https://smba.trafficmanager.net/amer/\n",
    "https://smba.trafficmanager.net/am er/",
    "https://attacker.example/x",
    "http://127.0.0.1:1/",
    "https://localhost/",
    "https://skype.botframework.com/",  # other Bot Framework channels: only Teams is served
    "ftp://smba.trafficmanager.net/",
    "//smba.trafficmanager.net/amer/",
    "smba.trafficmanager.net",
    "",
    None,
    42,
    ["https://smba.trafficmanager.net/amer/"],
])
def test_anything_else_is_refused(url):
    assert not DEFAULT.allows(url)


def test_a_test_connector_on_loopback_is_allowed_only_when_listed_with_its_port():
    urls = ServiceUrls.parse("http://127.0.0.1:39101")
    assert urls.allows("http://127.0.0.1:39101/teams/")
    assert not urls.allows("http://127.0.0.1:39102/teams/")
    assert not urls.allows("https://smba.trafficmanager.net/amer/")  # the list replaces the default


@pytest.mark.parametrize(("value", "message"), [
    ("", "at least one"),
    ("smba.trafficmanager.net", "https://host"),
    ("http://bot-connector.example", "https is required"),
    ("https://*.botframework.com", "exact host"),
    ("https://smba.trafficmanager.net/amer/", "no path"),
    ("https://user@smba.trafficmanager.net", "https://host"),
    ("https://smba.trafficmanager.net?x", "https://host"),
])
def test_a_wrong_service_url_list_is_one_clear_line(value, message):
    with pytest.raises(SettingsError) as error:
        load_settings(teams_service_urls=value)
    [line] = str(error.value).splitlines()
    assert line.startswith("VRAAGBOT_TEAMS_SERVICE_URLS: ") and message in line, line


def test_tenants_are_a_comma_separated_list_and_empty_means_any():
    assert load_settings().teams_tenant_ids == frozenset()
    assert load_settings(teams_tenants=" t-1, t-2 ,").teams_tenant_ids == {"t-1", "t-2"}


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.5", "10.0.0.1", "bot.example.com",
                                  "localhost.example.com", "127.0.0.1.example.com"])
def test_not_loopback_hosts(host):
    assert not is_loopback_host(host)


def test_teams_is_served_only_with_an_app_id_or_the_local_switch():
    assert not load_settings().teams_enabled
    assert load_settings(teams_local_testing=True).teams_enabled
    assert load_settings(MICROSOFT_APP_ID="app", MICROSOFT_APP_PASSWORD="pw").teams_enabled
