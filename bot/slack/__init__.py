"""Slack adapter: everything that imports slack_bolt or slack_sdk lives in this folder."""
