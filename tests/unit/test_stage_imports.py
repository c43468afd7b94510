"""Loading the stages does not import Prefect (CPU only).

The CLI loads every stage (to check control ids) before it points Prefect at the managed server; Prefect
reads its settings when first imported, so an earlier import left runs on a temporary server (or none).
"""

from __future__ import annotations

import subprocess
import sys


def test_loading_every_stage_leaves_prefect_unimported() -> None:
    code = (
        "import sys\n"
        "from securemode.flows import stages\n"
        "stages.bound_names()\n"
        "assert len(stages.available()) == 8, stages.available()\n"
        "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout
