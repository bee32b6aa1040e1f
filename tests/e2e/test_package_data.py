"""`vraagbot curtness-eval` after README's first install (`pip install .`, not editable; issue 14, bug 6):
its test split must be in the package. Building a wheel needs the network (build isolation), so this
lays out what pyproject.toml declares (the packages setuptools finds, their modules and package data),
and runs the command from a folder outside the repository with only that layout on the path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parents[2]


def installed_layout(pyproject: dict, target: Path) -> Path:
    """What a wheel built from ``pyproject`` would hold: each found package's modules and declared data."""
    setuptools = pyproject["tool"]["setuptools"]
    packages = find_namespace_packages(where=str(ROOT), include=setuptools["packages"]["find"]["include"])
    data = setuptools.get("package-data", {})
    for package in packages:
        source = ROOT.joinpath(*package.split("."))
        files = list(source.glob("*.py"))
        for pattern in data.get(package, []):
            files += [path for path in source.glob(pattern) if path.is_file()]
        for path in files:
            copy = target / path.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
    return target


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> Path:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return installed_layout(pyproject, tmp_path_factory.mktemp("site"))


# The test environment has the repository installed editable: its import hooks would find whatever the
# layout lacks in the repository's folder. Without them only the layout (and the dependencies) remain.
WITHOUT_EDITABLE_INSTALL = (
    "import sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, '__module__', '').startswith('__editable__')]; "
    "sys.path[:] = [p for p in sys.path if '__editable__' not in p]; "
)


def run_from_elsewhere(layout: Path, cwd: Path, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VRAAGBOT_")}
    env["PYTHONPATH"] = str(layout)
    return subprocess.run([sys.executable, "-c", WITHOUT_EDITABLE_INSTALL + code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def vraagbot(*args: str) -> str:
    """`vraagbot ...` as the console script runs it."""
    return f"sys.argv = ['vraagbot', *{list(args)!r}]; from bot.cli import main; main()"


def test_the_shipped_test_split_is_reachable_through_importlib_resources(layout, tmp_path):
    probe = ("import importlib.resources, curtness_eval; "
             "from curtness_eval.datasets import BUNDLED_TEST, bundled_test_split; "
             "print(curtness_eval.__file__); "
             "print(importlib.resources.files('curtness_eval').joinpath('data', BUNDLED_TEST).is_file()); "
             "print(len(bundled_test_split()))")
    result = run_from_elsewhere(layout, tmp_path, probe)
    assert result.returncode == 0, result.stderr[-2000:]
    where, found, rows = result.stdout.split()
    assert where.startswith(str(layout))  # the laid-out package, not the repository's folder
    assert found == "True" and int(rows) > 100


def test_curtness_eval_runs_from_a_folder_outside_the_repository(layout, tmp_path):
    shown = run_from_elsewhere(layout, tmp_path, vraagbot("curtness-eval", "--help"))
    assert shown.returncode == 0 and "Evaluate the curt-reply detector" in shown.stdout, shown.stderr[-2000:]
    evaluated = run_from_elsewhere(layout, tmp_path, vraagbot("curtness-eval", "--show-errors", "0"))
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    assert "shipped test split" in evaluated.stdout
    assert any(line.startswith("overall") for line in evaluated.stdout.splitlines()), evaluated.stdout


DATA_SUFFIXES = (".json", ".jsonl", ".toml", ".txt", ".csv", ".mako", ".ini", ".yaml", ".yml", ".png")


def test_every_data_file_in_the_packages_is_declared(layout):
    """A data file added later (a new catalog, a model) must not be left out of the wheel the same way."""
    folders = {path.parent for path in layout.rglob("*.py")}
    missing = [str(path.relative_to(ROOT)) for folder in folders
               for path in (ROOT / folder.relative_to(layout)).rglob("*")
               if path.suffix in DATA_SUFFIXES and path.is_file() and not (layout / path.relative_to(ROOT)).exists()]
    assert not missing, f"not in [tool.setuptools.package-data] of pyproject.toml: {missing}"
