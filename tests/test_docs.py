"""What the documentation and the packaging promise, checked against the repository itself, so the
two cannot drift apart: the Slack scopes README lists, references that stay inside the repository,
links that resolve, and a Docker build context without local state."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Pointers to material outside the repository (a design brief and a protocol-facts file that only the
# original authors had); docs/architecture.md holds what a reader needs of them.
OUTSIDE_REFERENCE = re.compile(r"\.\./shared|/work/shared|\bFACTS [A-Z]\d|\bDESIGN\.md\b|\bDESIGN section\b")
THIS_FILE = Path(__file__).resolve().relative_to(ROOT).as_posix()


def repository_files() -> list[str]:
    """Tracked files plus new ones not ignored: what a clone (or the next commit) contains."""
    result = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        pytest.skip(f"not a git checkout: {result.stderr.strip()}")
    return sorted({name for name in result.stdout.splitlines() if (ROOT / name).is_file()})


def readme_scope_sentence() -> tuple[set[str], set[str]]:
    """The scopes and events README's Slack set-up says the manifest asks for."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("exactly the scopes")
    sentence = readme[start:readme.index("\n2. ", start)]
    scopes_part, _, events_part = sentence.partition("events")
    return set(re.findall(r"`([^`]+)`", scopes_part)), set(re.findall(r"`([^`]+)`", events_part))


def test_readme_lists_exactly_the_manifests_scopes_and_events():
    manifest = json.loads((ROOT / "manifest.json").read_text())
    scopes, events = readme_scope_sentence()
    assert scopes == set(manifest["oauth_config"]["scopes"]["bot"])
    assert events == set(manifest["settings"]["event_subscriptions"]["bot_events"])


def test_no_file_points_outside_the_repository():
    found = []
    for name in repository_files():
        if name == THIS_FILE:
            continue
        try:
            lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue  # binary: icons, models
        for number, line in enumerate(lines, 1):
            if OUTSIDE_REFERENCE.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "point to docs/architecture.md instead:\n" + "\n".join(found)


def test_relative_links_in_the_documentation_resolve():
    broken = []
    for doc in [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            path = target.split("#", 1)[0]
            if path and not re.match(r"[a-z]+:", path) and not (doc.parent / path).exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore line as Docker reads it: relative to the context's root, `*` within one path
    segment, `**` across any number of them (`**/x` is x at any depth)."""
    regex, rest = "", pattern.strip("/")
    while rest:
        if rest.startswith("**/"):
            regex, rest = regex + "(?:.*/)?", rest[3:]
        elif rest.startswith("**"):
            regex, rest = regex + ".*", rest[2:]
        elif rest[0] == "*":
            regex, rest = regex + "[^/]*", rest[1:]
        elif rest[0] == "?":
            regex, rest = regex + "[^/]", rest[1:]
        else:
            regex, rest = regex + re.escape(rest[0]), rest[1:]
    return re.compile(regex + r"\Z")


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` out of the build context: the last matching line wins, `!`
    brings a path back, and a line matching a folder leaves out everything under it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    verdict = False
    for line in patterns:
        negated = line.startswith("!")
        regex = _pattern_regex(line.removeprefix("!"))
        if any(regex.match(prefix) for prefix in prefixes):
            verdict = not negated
    return verdict


def test_the_docker_build_context_leaves_out_local_state():
    patterns = dockerignore_patterns()
    for local in [".venv/bin/python", ".git/HEAD", "vraagbot.db", "data/vraagbot.db", "vraagbot.db-wal",
                  ".env", "bot/__pycache__/app.cpython-311.pyc", ".pytest_cache/README.md",
                  ".ruff_cache/CACHEDIR.TAG", ".hypothesis/examples/x", "vraagbot.egg-info/PKG-INFO"]:
        assert ignored(local, patterns), local


def test_the_docker_build_context_keeps_what_the_dockerfile_copies():
    patterns = dockerignore_patterns()
    sources = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += words[1:-1]
    assert sources, "the Dockerfile copies nothing from the build context?"
    packaged = {"pyproject.toml", "README.md"}
    for source in sources:
        assert (ROOT / source).exists(), source
        kept = [name for name in repository_files() if name == source or name.startswith(source + "/")]
        assert kept and not any(ignored(name, patterns) for name in kept if not name.endswith(".pyc")), source
        packaged.discard(source)
    assert not packaged, f"the build needs {packaged}"
