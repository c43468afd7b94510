"""Which process is which: a PID plus its start time, so a reused PID is never mistaken for ours."""

from __future__ import annotations

from pathlib import Path


def start_ticks(pid: int) -> int | None:
    """The process start time in clock ticks since boot, or None when there is no such live process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == "Z":
        return None
    return int(fields[19])
