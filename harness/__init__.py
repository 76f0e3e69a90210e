"""Space-XNet: a packet-level harness for mixture-of-experts LLMs on LEO satellite constellations."""

__version__ = "0.1.0"
