"""The lab: vcsim build, the Pexip twin, service launchers, lab CA."""
