"""The engine's client for a Pexip node's admin console over SSH (installation and security wizards).

Host keys are checked strictly against pins recorded by an explicit pin step (:mod:`.pins`); prompts
are read and answered expect-style (:mod:`.expect`); passwords never reach a log or a transcript.
"""
