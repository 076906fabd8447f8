"""Graph passes: each `Graph -> Graph` (or a Plan pass), pure, run in order by pipeline.py."""
