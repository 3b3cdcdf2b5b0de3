"""The layout promises of design.md: platform/ is a source root, never a package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_platform_is_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_import_platform_from_repository_root_is_the_standard_library():
    out = run_python("import platform; print(platform.__file__); print(platform.python_version())", ROOT)
    module_file, version = out.splitlines()
    assert not module_file.startswith(str(ROOT)), module_file
    assert version.count(".") == 2


def test_inrzoo_and_zoo_import_from_any_directory(tmp_path):
    out = run_python("import inrzoo, inrzoo.zoo, inrzoo.config; print(inrzoo.__file__); print(inrzoo.zoo.__file__)", tmp_path)
    lib, zoo = out.splitlines()
    assert Path(lib) == ROOT / "platform" / "inrzoo" / "__init__.py"
    assert Path(zoo) == ROOT / "zoo" / "__init__.py"
