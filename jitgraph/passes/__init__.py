"""Graph passes: each `Graph -> Graph` (or `Graph -> Plan`), pure, listed in order in pipeline.py."""
