"""The schedule engine: standard cron (and `every`/`at` schedules) in the user's time zone, run
exactly on EventBridge Scheduler. Pure functions, no AWS calls.

    sched = parse_schedule("0 18 * * *", "America/New_York", now=now)
    sched.eventbridge()      # [EventBridgeSchedule("cron(0 18 * * ? *)", "America/New_York")]
    sched.next_after(now)    # when EventBridge fires next: the task's state.next_run_at

The pieces: `cron` reads standard cron into sets of values, `eventbridge` writes them as
EventBridge expressions and evaluates any EventBridge expression (`next_fire`, which the local
stack's scheduler uses too), `zones` holds the time zones and the DST rule, `schedules` the
schedule types the Tasks API takes."""

from heartbeat.schedule.errors import ScheduleError
from heartbeat.schedule.schedules import EventBridgeSchedule, Schedule, parse_schedule

__all__ = ["EventBridgeSchedule", "Schedule", "ScheduleError", "parse_schedule"]
