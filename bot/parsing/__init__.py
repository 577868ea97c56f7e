"""Parsing of the German free-text arguments staff type on their phones.

Every function is pure: the current date is passed in, nothing reads the clock.
Every rejection raises `UserError` with a German message that names the input and shows
a correct example.

Token classification (for command parsers that accept arguments in any order; `dates.py`
and `durations.py` hold the shapes):

- A token is a **date** if it is a relative word (heute, gestern, vorgestern, morgen,
  übermorgen), a weekday name or abbreviation (Mo, Di., Mittwoch, ...), ISO `2025-04-17`,
  `d.m.yy` / `d.m.yyyy`, `d.m.` (trailing dot, e.g. `17.4.`), or `d.mm` **with a two-digit
  month 01-12 and no trailing dot** (e.g. `17.04`, `1.05`).
- A token is a **duration** if it is not a date and is a number with a decimal comma or dot
  (`1,5`, `1.5`, `0,25`), an integer of at most two digits (`2`), `h:mm` (`1:30`), or a number
  with a unit (`90min`, `1,5h`, `2Std.`).
- So `1.5` and `1.50` are durations, but `1.05` is the 1st of May: decimal hours should use
  the comma, which is what German keyboards suggest anyway. `parse_date` itself still accepts
  `17.4` (one-digit month, no dot) when it is told the text is a date.
"""
