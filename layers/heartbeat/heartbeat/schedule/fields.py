"""The grammar both cron dialects share: a field is a comma list of terms, a term is `*`, `N`,
`N-M`, each optionally followed by `/STEP`. `N/STEP` means `N-<field max>/STEP` (Debian cron as
cronsim reads it, Quartz and EventBridge alike). Values are numbers or, where the field has them,
three-letter names in any case."""

from __future__ import annotations

from dataclasses import dataclass

from heartbeat.schedule.errors import ScheduleError

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class Field:
    """One cron field: its name in messages, its value range, and its names (`names[i]` is the
    value `first_named + i`)."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    first_named: int = 0
    sunday_is_7: bool = False  # standard cron's day of week: 7 is Sunday as well as 0

    def expand(self, text: str) -> frozenset[int]:
        """Every value a whole field (a comma list of terms) selects."""
        values: set[int] = set()
        for term in text.split(","):
            if not term:
                raise ScheduleError(f"{self.name} list '{text}' has an empty item: remove the extra comma")
            values |= self.expand_term(term)
        return frozenset(values)

    def expand_term(self, term: str) -> set[int]:
        body, slash, step_text = term.partition("/")
        step = self._step(step_text, term) if slash else 1
        if body == "*":
            first, last = self.low, self.high
        else:
            first_text, dash, last_text = body.partition("-")
            if not first_text or (dash and not last_text):
                raise ScheduleError(f"{self.name} '{term}' is incomplete: a range is written N-M")
            first = self.value(first_text)
            last = self.value(last_text) if dash else (self.high if slash else first)
            if last < first:
                raise ScheduleError(self._backwards(first_text, last_text, first, last))
        return set(range(first, last + 1, step))

    def value(self, text: str) -> int:
        if text.isdigit() and text.isascii():
            number = int(text)
            if not self.low <= number <= self.high:
                raise ScheduleError(f"{self.name} {number} is out of range {self.low}-{self.high}")
            return number
        if text.upper() in self.names:
            return self.names.index(text.upper()) + self.first_named
        names = f" or a name ({self.names[0]}-{self.names[-1]})" if self.names else ""
        raise ScheduleError(f"{self.name} '{text}' is not a number{names}")

    def _step(self, text: str, term: str) -> int:
        if not (text.isdigit() and text.isascii()) or int(text) == 0:
            raise ScheduleError(f"{self.name} step in '{term}' must be a whole number of at least 1")
        return int(text)

    def _backwards(self, first_text: str, last_text: str, first: int, last: int) -> str:
        problem = f"{self.name} range {first_text}-{last_text} runs backwards"
        if self.sunday_is_7 and last == 0:
            return f"{problem}: write {first_text}-7 (7 is Sunday too)"
        return f"{problem}: write it as two ranges, {first}-{self.high},{self.low}-{last}"
