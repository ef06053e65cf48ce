"""The pipeline's smoke test: the wheel built from this tree is installed and is what the tests import."""

import importlib
from pathlib import Path

import codex_client

SOURCE_TREE = Path(__file__).resolve().parents[1] / "python"
CODEX_VERSION = Path(__file__).resolve().parents[2] / "codex-client-protocol" / "CODEX_VERSION"


def test_the_version_is_the_pinned_codex_version():
    assert codex_client.__version__ == "0.163.0"
    assert codex_client.__version__ == CODEX_VERSION.read_text().strip()


def test_the_native_module_is_importable():
    native = importlib.import_module("codex_client._native")
    assert native.__version__ == codex_client.__version__


def test_the_package_is_the_installed_wheel_not_the_source_tree():
    package = Path(codex_client.__file__).resolve()
    assert SOURCE_TREE not in package.parents, package
