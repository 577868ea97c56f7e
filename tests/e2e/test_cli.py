"""The `koopbot` command line around the chat: demo, org, invite, db upgrade, bad settings."""

from __future__ import annotations

import subprocess

import pytest

from tests.e2e.driver import INVITE_CODE, KOOPBOT, Console, Installation, parse_demo_codes

PROVIDER = "Familienhilfe Weserufer e. V."


def test_demo_prints_one_invite_code_per_person_and_keeps_the_data(koopbot: Installation) -> None:
    first = koopbot.run("demo")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == "Demo-Organisation angelegt."
    assert lines[1].startswith("Einladungscodes zum Ausprobieren")
    codes = parse_demo_codes(first.stdout)
    assert sorted(codes) == ["EL", "JB", "LW", "MK", "TB", "TS"]
    assert len(set(codes.values())) == 6
    assert "  " + codes["MK"] + "  Mara Koch (MK), Träger, Koordination" in lines
    assert "  " + codes["TB"] + "  Tobias Brandt (TB), ASD, Fallführung" in lines
    assert "  " + codes["EL"] + "  Eva Lind (EL), ASD, Leitung" in lines  # as welcomed
    assert (koopbot.data_dir / "koopbot.db").exists()

    again = koopbot.run("demo")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == "Demo-Organisation ist schon da."
    fresh = parse_demo_codes(again.stdout)
    assert sorted(fresh) == sorted(codes)
    assert not set(fresh.values()) & set(codes.values()), "codes are one-time, new ones each run"


def test_chat_demo_prints_codes_before_the_first_prompt(koopbot: Installation) -> None:
    console = koopbot.chat("anna", "--demo")
    codes = parse_demo_codes(console.banner)
    assert len(codes) == 6
    assert console.banner.rstrip().endswith("/hilfe zeigt die Befehle, /ende beendet.")
    assert console.say(f"/start {codes['LW']}").startswith("Willkommen, Lea Wolf!")
    assert console.end() == "Tschüss!\n"


def test_invite_from_the_command_line_registers_a_new_person(koopbot: Installation) -> None:
    added = koopbot.run("org", "add", PROVIDER, "--kind", "provider")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"Organisation {PROVIDER!r} (provider) angelegt."

    invite = koopbot.run("invite", "--org", PROVIDER, "--role", "caseworker", "--type", "fachkraft")
    assert invite.returncode == 0, invite.stderr
    code = invite.stdout.strip()
    assert INVITE_CODE.fullmatch(code), invite.stdout

    console = koopbot.chat("anna")
    assert console.say(f"/start {code} Anna Beispiel") == (
        "Willkommen, Anna Beispiel! Du bist registriert als Mitarbeiter*in beim freien Träger "
        f"({PROVIDER}, Kürzel AB).\n"
        "Datenschutz: Fälle nur mit Aktenzeichen (z. B. HB-2025-017), niemals Namen von "
        "Klient*innen oder Familien eingeben.\n"
        "/hilfe zeigt, was du tun kannst."
    )
    help_text = console.say("/hilfe")
    assert help_text.splitlines()[0] == (
        f"Anna Beispiel (AB) – Mitarbeiter*in beim freien Träger, {PROVIDER}"
    )
    assert console.say("/faelle") == "Du hast zurzeit keine offenen Fälle."
    assert console.end() == "Tschüss!\n"

    # The code was used up; a second person needs a new one, and must give a name.
    other = koopbot.chat("bert")
    assert other.say(f"/start {code} Bert Beispiel").startswith(
        "Dieser Einladungscode ist ungültig, abgelaufen oder schon benutzt."
    )
    second = koopbot.run("invite", "--org", PROVIDER.upper(), "--role", "coordinator")
    assert second.returncode == 0, second.stderr
    assert other.say(f"/start {second.stdout.strip()}") == (
        "Bitte gib bei der Registrierung deinen Namen an, z. B.: /start CODE Anna Beispiel"
    )
    welcome = other.say(f"/start {second.stdout.strip().lower()}   Bert Beispiel")
    assert welcome.startswith("Willkommen, Bert Beispiel! Du bist registriert als Koordination")
    assert ", Kürzel BB)" in welcome


def test_cli_refusals_exit_2_with_a_message(koopbot: Installation, codes: dict[str, str]) -> None:
    for args, message in [
        (
            ["invite", "--org", "Nirgendwo e. V.", "--role", "caseworker"],
            "koopbot: keine Organisation namens 'Nirgendwo e. V.' (koopbot org add ...)",
        ),
        (
            [
                "invite",
                "--org",
                "ASD Stadtteilbüro Nord",
                "--role",
                "caseworker",
                "--type",
                "fachkraft",
            ],
            "koopbot: --type gilt nur für Mitarbeitende eines freien Trägers",
        ),
        (
            ["org", "add", PROVIDER, "--kind", "provider"],
            f"koopbot: die Organisation {PROVIDER!r} gibt es schon",
        ),
    ]:
        result = koopbot.run(*args)
        assert result.returncode == 2, args
        assert result.stderr.strip() == message
        assert result.stdout == ""


def test_db_upgrade_creates_the_schema_and_is_repeatable(koopbot: Installation) -> None:
    for _ in range(2):
        result = koopbot.run("db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == (
            f"Das Schema ist aktuell (sqlite:///{koopbot.data_dir / 'koopbot.db'})."
        )
        assert result.stderr == ""
    assert (koopbot.data_dir / "koopbot.db").stat().st_size > 0


def test_database_url_overrides_the_data_dir(koopbot: Installation) -> None:
    elsewhere = koopbot.root / "elsewhere" / "bot.db"
    env = {"KOOPBOT_DATABASE_URL": f"sqlite:///{elsewhere}"}
    result = koopbot.run("demo", env=env)
    assert result.returncode == 0, result.stderr
    assert elsewhere.exists()
    assert not (koopbot.data_dir / "koopbot.db").exists()
    console = koopbot.chat("anna", env=env)
    assert console.say(f"/start {parse_demo_codes(result.stdout)['JB']}").startswith(
        "Willkommen, Jonas Berg!"
    )


@pytest.mark.parametrize("command", [["chat", "--user", "anna"], ["db", "upgrade"]])
def test_bad_workdays_setting_exits_2_naming_the_key(
    koopbot: Installation, command: list[str]
) -> None:
    result = koopbot.run(*command, input="/hilfe\n", env={"KOOPBOT_WORKDAYS": "tue-sun"})
    assert result.returncode == 2
    assert result.stdout == ""  # no prompt, no half-started chat
    assert result.stderr.startswith("koopbot: ungültige Konfiguration: workdays = 'tue-sun': ")
    assert "erlaubt ist 'mon-fri' oder 'mon-sat'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (koopbot.data_dir / "koopbot.db").exists()


def test_several_bad_settings_are_all_named_at_once(koopbot: Installation) -> None:
    env = {
        "KOOPBOT_TIMEZONE": "Mars/Olympus_Mons",
        "KOOPBOT_BUNDESLAND": "XY",
        "KOOPBOT_MAX_MESSAGE_CHARS": "viele",
        "KOOPBOT_PERIODS__ACTION_PLAN_WEEKS": "0",
        "KOOPBOT_CLOSING_DAYS": '["32.12."]',
    }
    result = koopbot.run("chat", "--user", "anna", input="/hilfe\n", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for key in (  # the key and the bad value
        "timezone = 'Mars/Olympus_Mons': ",
        "bundesland = 'XY': ",
        "max_message_chars = 'viele': ",
        "periods.action_plan_weeks = '0': ",
        "closing_days = ['32.12.']: ",
    ):
        assert key in result.stderr, (key, result.stderr)


def test_bad_config_file_names_the_key(koopbot: Installation) -> None:
    missing = koopbot.run("--config", str(koopbot.root / "nope.toml"), "db", "upgrade")
    assert missing.returncode == 2
    assert "nope.toml gibt es nicht" in missing.stderr

    toml = koopbot.root / "koopbot.toml"
    toml.write_text('workdays = "mon-fri"\nunbekannt = 1\n', encoding="utf-8")
    unknown = koopbot.run("--config", str(toml), "db", "upgrade")
    assert unknown.returncode == 2
    assert "unbekannt = 1: unbekannte Einstellung" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_config_is_accepted_after_the_subcommand(koopbot: Installation) -> None:
    """Issue 14, item 16: `koopbot chat --config f.toml` as well as `koopbot --config f.toml chat`."""
    toml = koopbot.root / "f.toml"
    toml.write_text('workdays = "mon-sat"\n', encoding="utf-8")
    after = koopbot.run("db", "upgrade", "--config", str(toml))
    assert after.returncode == 0, after.stderr
    before = koopbot.run("--config", str(toml), "db", "upgrade")
    assert before.returncode == 0, before.stderr
    missing = koopbot.root / "nope.toml"
    for args in (["chat", "--config", str(missing)], ["--config", str(missing), "chat"]):
        result = koopbot.run(*args, input="/hilfe\n")
        assert result.returncode == 2, args
        assert "nope.toml gibt es nicht" in result.stderr, args
    # Given in both places, the one after the subcommand wins (it is nearer).
    both = koopbot.run("--config", str(missing), "db", "upgrade", "--config", str(toml))
    assert both.returncode == 0, both.stderr


def test_usage_errors_are_german(koopbot: Installation) -> None:
    """Issue 14, item 15: argparse's errors in German, exit 2, no traceback."""
    for args, message in [
        (["chat", "--bogus"], "koopbot: Fehler: unbekannte Angaben: --bogus"),
        (["invite", "--role", "caseworker"], "koopbot invite: Fehler: es fehlt: --org"),
        (
            ["invite", "--org", "X", "--role", "chef"],
            "koopbot invite: Fehler: --role: 'chef' gibt es nicht "
            "(möglich: 'caseworker', 'coordinator')",
        ),
        (["export", "2025-Q3", "--org"], "koopbot export: Fehler: --org braucht einen Wert"),
    ]:
        result = koopbot.run(*args)
        assert result.returncode == 2, args
        assert result.stderr.startswith("Aufruf: koopbot"), result.stderr
        assert result.stderr.splitlines()[-1] == message, result.stderr
        assert "Traceback" not in result.stderr


def test_export_refusals_are_german(koopbot: Installation, codes: dict[str, str]) -> None:
    wrong = koopbot.run("export", "letztes", "--org", "Familienhilfe Weserufer")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == (
        "koopbot: 'letztes' ist weder ein Quartal (2025-Q3) noch ein Jahr (2025)"
    )
    nobody = koopbot.run("export", "2025-Q3", "--org", "Weserufer")
    assert nobody.returncode == 2
    assert nobody.stderr.strip() == "koopbot: kein freier Träger namens 'Weserufer'"


def test_chat_in_another_folder_refuses_instead_of_creating_an_empty_database(
    koopbot: Installation, codes: dict[str, str]
) -> None:
    """Issue 14, item 17: no silent empty ./data/koopbot.db; a config file's relative
    data_dir means beside the file, wherever koopbot is started."""
    elsewhere = koopbot.root / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in koopbot.env.items() if k != "KOOPBOT_DATA_DIR"}
    chat = subprocess.run(
        [str(KOOPBOT), "chat", "--user", "mara"],
        input="/fristen\n",
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=elsewhere,
        timeout=60,
        check=False,
    )
    assert chat.returncode == 2
    assert chat.stdout == ""
    assert chat.stderr.startswith(
        f"koopbot: in {elsewhere / 'data' / 'koopbot.db'} gibt es keine Datenbank."
    )
    assert "koopbot chat --demo" in chat.stderr
    assert not (elsewhere / "data").exists()

    toml = koopbot.root / "koopbot.toml"
    toml.write_text('data_dir = "data"\n', encoding="utf-8")  # beside the file: root/data
    console = Console(
        [str(KOOPBOT), "chat", "--config", str(toml), "--user", "mara"], env, elsewhere
    )
    koopbot.consoles.append(console)
    assert console.say(f"/start {codes['MK']}").startswith("Willkommen, Mara Koch!")
    assert not (elsewhere / "data").exists()
