"""Run one site's pipeline through the CLI's driver, with the test device stages (a process of its own).

Usage: python -m tests.scale.run_device_pipeline SITE.yaml — prints ``compliant`` or ``not compliant``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from securemode.catalogue import Stage
from securemode.cli.driver import drive
from securemode.flows import stages
from tests.pipeline import device_stage


def main(site: Path) -> int:
    with stages.substituted({Stage.HOST: device_stage.SPEC, Stage.VMS: device_stage.SECOND}):
        code = drive(site, ["host", "vms"], "run", ["host.lockdown"], ["vms.bios.supervisor-password"],
                          "fleet-test", site.parent / "report", interactive=False, console=Console(width=200))
    print("compliant" if code == 0 else "not compliant", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
