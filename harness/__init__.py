"""harness: the sensors (lint rules, contracts, gates) and actuator around nanochat."""

__version__ = "0.1.0"
