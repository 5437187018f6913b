"""Without the ``testing`` extra: the plugin and the scripting types still import, and
FakeProvider explains how to install what it needs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .test_cli import python_env

BLOCK_EXTRA = """
import sys
sys.modules["starlette"] = None  # import starlette -> ImportError, as when not installed
sys.modules["uvicorn"] = None
"""


def run_python(*parts: str) -> subprocess.CompletedProcess[str]:
    code = "\n".join(textwrap.dedent(part) for part in parts)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=python_env(),
        timeout=60,
        check=False,
    )


def test_fake_provider_names_the_extra_when_starlette_is_missing() -> None:
    result = run_python(
        BLOCK_EXTRA,
        """
        import failover.testing._pytest_plugin  # pytest loads this for every user
        from failover.testing import Fault, Reply, Schedule, closed_port_url
        try:
            from failover.testing import FakeProvider
        except ImportError as exc:
            print(exc)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "failover[testing]"' in result.stdout


def test_cli_reports_the_missing_extra() -> None:
    result = run_python(
        BLOCK_EXTRA,
        """
        from failover.testing._cli import main
        sys.exit(main(["fake-server", "--port", "0"]))
        """,
    )
    assert result.returncode == 2
    assert 'pip install "failover[testing]"' in result.stderr


def test_plugin_import_stays_light() -> None:
    result = run_python("""
        import sys
        import failover.testing._pytest_plugin
        print(sorted(m for m in ("starlette", "uvicorn") if m in sys.modules))
        """)
    assert result.stdout.strip() == "[]", result.stderr
