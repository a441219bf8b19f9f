"""The Soul's tools, and the registry that builds the toolset of a run."""
