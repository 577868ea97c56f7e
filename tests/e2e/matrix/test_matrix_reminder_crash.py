"""Reminders over Matrix survive SIGKILL without a duplicate (issue 11): a scheduler process
sends 60 reminders to four people on a real Synapse through the Matrix messenger and is
killed four times at random moments while a row is claimed for sending, restarted each time
on the same database, device and crypto store. A row caught in a kill is sent again under the
transaction id derived from its delivery key, which Synapse answers with the event it already
has. At the end every reminder reached its person exactly once: 0 lost, 0 duplicates; no log
holds the password or the access token."""

from __future__ import annotations

from pathlib import Path

from matrix_crash import crash_run
from synapse_server import Synapse

PEOPLE, PER_PERSON, KILLS = 4, 15, 4


async def test_sigkill_while_sending_over_matrix_duplicates_nothing(
    synapse: Synapse, tmp_path: Path
) -> None:
    run = await crash_run(
        synapse, tmp_path, people_n=PEOPLE, per_person=PER_PERSON, kills=KILLS, spacing=0.35
    )
    assert run.kills == KILLS and run.starts == KILLS + 1
    assert run.statuses == {"sent": PEOPLE * PER_PERSON}
    assert run.undecryptable == 0 and run.all_encrypted
    assert len(run.reminders) == PEOPLE * PER_PERSON
    assert run.lost == [], f"lost: {run.lost}"
    assert run.duplicates == {}, run.duplicates
    assert set(run.counts) == run.reminders
    print(
        f"\n{run.kills} kills, {run.caught} rows caught in a kill and sent again, "
        f"{run.messages} messages for {len(run.reminders)} reminders, 0 duplicates"
    )
