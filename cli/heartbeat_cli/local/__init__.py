"""The local stack: all of Heartbeat on one machine, no Docker (`heartbeat local`)."""
