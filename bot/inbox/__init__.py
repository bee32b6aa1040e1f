"""Receiving: acknowledged platform requests wait in the inbox table until a worker runs them (issue 12)."""
