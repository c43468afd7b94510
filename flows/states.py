"""Final run states that tell the truth: a flow whose controls do not all hold ends Failed, naming them.

The flow still hands its outcome to the caller (the CLI, the pipeline calling a stage): the Failed
state carries it as data, and :func:`outcome_of` reads it back whatever the final state was.

Outcomes leave a flow quoted (:func:`unwalked`, with Prefect's ``quote``): when a flow returns, Prefect
walks every field of the value looking for futures to resolve, and a stage's hundreds of results (each
with its transcript and evidence) made that walk a tenth of a 20-node verify's CPU. An outcome holds no
futures.
"""

from __future__ import annotations

from typing import TypeVar, Union

from prefect.client.schemas.objects import State
from prefect.states import Failed
from prefect.utilities.annotations import quote

from securemode.redact import redact

T = TypeVar("T")
FlowReturn = Union[T, quote, State[quote]]  # noqa: UP007 - a generic alias: FlowReturn[StageOutcome]

MESSAGE_MAX = 2000


def unwalked(outcome: T) -> quote:
    """A flow's outcome, marked for Prefect not to walk into."""
    return quote(outcome)


def failed_with(outcome: T, message: str) -> State[quote]:
    """A Failed final state whose message (shown in the UI's runs list) names what does not hold."""
    text = redact(message)
    return Failed(message=text if len(text) <= MESSAGE_MAX else text[: MESSAGE_MAX - 1] + "…", data=unwalked(outcome))


def outcome_of(state: object, kind: type[T]) -> T:
    """The outcome a flow returned, whether it ended Completed or Failed; re-raise what made it crash.

    ``state`` is what a flow call with ``return_state=True`` gave back (typed ``object`` because
    Prefect's call signature does not say that the flag changes the return type).
    """
    if not isinstance(state, State):
        raise TypeError(f"expected a flow run state, got {type(state).__name__}")
    value = state.result(raise_on_failure=False)
    if isinstance(value, quote):
        value = value.unwrap()
    if isinstance(value, kind):
        return value
    if isinstance(value, BaseException):
        raise value
    raise TypeError(f"flow run ended {state.type.value} without a {kind.__name__}: {state.message}")



