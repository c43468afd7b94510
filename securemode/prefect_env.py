"""Prefect settings for securemode, applied before Prefect is imported.

All Prefect state lives under the project's state folder; analytics and telemetry are off (the
server's heartbeat is only stopped by PREFECT_SERVER_ANALYTICS_ENABLED=false, see
reference/prefect.md §1); task caching is opt-in; the v1 UI is the default because v2 fetches a
remote config from the browser even with analytics off.
"""

from __future__ import annotations

import os

from securemode.paths import prefect_home


def prefect_settings() -> dict[str, str]:
    """The environment Prefect needs, for this process and any server or worker we start."""
    home = prefect_home()
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_PROFILES_PATH": str(home / "profiles.toml"),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(home / "storage"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_UI_V2_ENABLED": "false",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "PREFECT_TASKS_DEFAULT_NO_CACHE": "true",
        "PREFECT_SERVER_EPHEMERAL_ENABLED": "false",
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.5",
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        # progress of long steps (a Conferencing Node's OVA upload) shows in the step's run log
        "PREFECT_LOGGING_EXTRA_LOGGERS": "securemode.tasks.nodes",
    }


def apply_prefect_settings(api_url: str | None = None) -> None:
    """Set the variables in this process; with ``api_url`` also point the client at our server."""
    os.environ.update(prefect_settings())
    if api_url:
        os.environ["PREFECT_API_URL"] = api_url
