"""Pause the current flow run for typed input, with a state message saying what waits and why.

Prefect's own ``pause_flow_run`` leaves the Paused state without a message, so the runs list shows a
bare "Paused". This proposes the same kind of Paused state (a run-input keyset the UI's Resume form
and the server's validation use) with a message naming the gated step and its diff, then waits.
"""

from __future__ import annotations

import time
from typing import TypeVar, cast

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.context import FlowRunContext
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput, keyset_from_paused_state
from prefect.states import Paused

from securemode.flows.artifacts import artifact_key

InputT = TypeVar("InputT", bound=RunInput)

STATE_MESSAGE_MAX = 900
FIRST_POLL_S = 0.25  # the first look for an answer; the interval then doubles up to ``poll_s``


def pause_for_input(input_type: type[InputT], description: str, message: str, key: str, timeout_s: int,
                    poll_s: float = 2.0) -> InputT:
    """Block until someone resumes this flow run with valid input; return that input."""
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        raise RuntimeError("only a flow run can pause for input")
    run_id = context.flow_run.id
    state: State[None] = Paused(timeout_seconds=timeout_s, reschedule=False, pause_key=artifact_key(key),
                   message=message[:STATE_MESSAGE_MAX])
    keyset = keyset_from_paused_state(state)
    state.state_details.run_input_keyset = {str(k): v for k, v in keyset.items()}
    form = input_type.with_initial_data(description=description)
    with get_client(sync_client=True) as client:
        accepted = client.set_flow_run_state(run_id, state).state
        if accepted is None or not accepted.is_paused():
            raise RuntimeError(f"the flow run could not pause: the server answered {accepted}")
        # After pausing: entering Paused deletes inputs stored under the keyset. Until this is saved, a
        # resume is refused ("Run input schema not found") and the run stays paused — never lost.
        form.save(keyset, flow_run_id=run_id)
        deadline = time.monotonic() + timeout_s
        wait = min(FIRST_POLL_S, poll_s)
        while time.monotonic() < deadline:
            time.sleep(wait)
            wait = min(poll_s, wait * 2)  # an answer often comes at once (a script, someone at the form)
            current = client.read_flow_run(run_id).state
            if current is not None and current.is_running():
                return cast(InputT, form.load(keyset, flow_run_id=run_id))
    raise FlowPauseTimeout(f"paused for {timeout_s} s and nobody answered: {message[:200]}")
