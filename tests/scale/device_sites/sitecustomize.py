"""Put on PYTHONPATH of a worker by the tests: every flow run it starts uses the test device stages.

A worker runs each flow run in a fresh Python process, where the tests cannot substitute stages
in-process; Python imports this module at start-up of each of those processes.
"""

from securemode.catalogue import Stage
from securemode.flows import stages
from tests.pipeline import device_stage

stages._OVERRIDES.update({Stage.HOST: device_stage.SPEC, Stage.VMS: device_stage.SECOND})
