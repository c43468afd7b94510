"""The catalogue's table of gate names is the set of gated steps the built stages have."""

from __future__ import annotations

from securemode.catalogue.gates import GATES
from securemode.cli.checks import gated_steps
from securemode.flows import stages


def test_the_catalogue_names_every_gated_step_of_the_built_stages_and_no_other() -> None:
    built = stages.available()
    assert sorted(gated_steps(built)) == sorted(name for name, stage in GATES.items() if stage in built)


def test_each_gate_belongs_to_the_stage_that_has_the_step() -> None:
    for stage in stages.available():
        for step in stages.load(stage).steps:
            if step.gated:
                assert GATES[step.gated] is stage, step.gated
