"""The README's "Past one machine" block is commands, and this test runs exactly those lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from securemode.deployments import postgres, prefect_server
from tests.scale.fleet_helpers import REPO, cli_env, own_state


def readme_block() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Past one machine"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's 'Past one machine' has no sh block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.split("#", 1)[0].strip()]


def test_the_readme_commands_run_as_written() -> None:
    lines = readme_block()
    assert lines[0].startswith("securemode server start --database postgresql")
    with own_state() as state:
        env = cli_env(state, device_stages=False)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        outputs = []
        for line in lines:
            done = subprocess.run(["bash", "-c", line], env=env, cwd=REPO, capture_output=True, text=True,
                                  timeout=180, check=False)
            assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"
            outputs.append((line, done.stdout))
            if line == "securemode worker status":
                pids = [int(p) for p in re.findall(r"\(pid (\d+)\)", done.stdout)]
        text = "\n".join(f"$ {line}\n{output}" for line, output in outputs)
        assert "database postgresql" in text
        assert "deployed: secure-mode-deployment/" in text and "deployed: reverify/" in text
        assert "running: worker worker-1 on pool sites" in text and "running: worker worker-2 on pool sites" in text
        assert "stopped: worker-1, worker-2" in text
        assert len(pids) == 2
        for pid in pids:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        assert prefect_server.current() is None and postgres.current() is None
