from __future__ import annotations

import subprocess
import sys

import govcompare
from govcompare import _EXPORTS


def test_all_is_sorted_and_complete() -> None:
    assert govcompare.__all__ == sorted(govcompare.__all__)
    assert set(govcompare.__all__) == set(_EXPORTS)
    for name in govcompare.__all__:
        assert getattr(govcompare, name) is not None, name


def test_importing_the_package_stays_light() -> None:
    code = "import sys, govcompare, govcompare.cli; print(sorted(m for m in ('pandas', 'sklearn', 'matplotlib', 'weasyprint') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "govcompare", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    assert "validate" in result.stdout
