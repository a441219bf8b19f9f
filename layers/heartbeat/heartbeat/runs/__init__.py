"""Runs seen from the API: run now, run history (`service.RunsService`), and how a run is handed to
the executor (`invoker`)."""
