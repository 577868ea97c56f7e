"""Charts and exports on Matrix: uploaded encrypted in an encrypted chat (m.image / m.file)."""

from __future__ import annotations

import io
from typing import Any

from aiohttp import ClientSession
from conftest import MatrixWorld
from nio import RoomEncryptedFile, RoomEncryptedImage
from nio.crypto.attachments import decrypt_attachment
from openpyxl import load_workbook
from PIL import Image


async def test_chart_and_xlsx_arrive_encrypted(world: MatrixWorld) -> None:
    await world.start_bot()
    person, room = await world.caseworker("MK")
    files: list[Any] = []

    async def on_file(_room: object, event: Any) -> None:
        files.append(event)

    person.client.add_event_callback(on_file, (RoomEncryptedImage, RoomEncryptedFile))
    # A chart needs direct hours (issue 14: no empty chart); MK logs some in JB's case.
    logged = await person.ask(room, "!stunden 1,5 HB-2026-011", world.bot_id)
    assert logged.body.startswith("Erfasst"), logged.body
    answer = await person.ask(room, "!quartal", world.bot_id)
    assert answer.encrypted and answer.body.startswith("Stundencontrolling Q2/2025")
    await person.wait(lambda: len(files) >= 2, "the chart and the XLSX")
    image, document = files
    assert isinstance(image, RoomEncryptedImage) and isinstance(document, RoomEncryptedFile)
    token = person.client.access_token

    async def fetch(event: Any) -> bytes:
        server, media_id = event.url.removeprefix("mxc://").split("/", 1)
        async with (
            ClientSession() as http,
            http.get(
                f"{world.synapse.url}/_matrix/client/v1/media/download/{server}/{media_id}",
                headers={"Authorization": f"Bearer {token}"},
            ) as resp,
        ):
            assert resp.status == 200, await resp.text()
            ciphertext = await resp.read()
        return decrypt_attachment(ciphertext, event.key["k"], event.hashes["sha256"], event.iv)

    png = await fetch(image)
    assert Image.open(io.BytesIO(png)).size == (800, 450)
    book = load_workbook(io.BytesIO(await fetch(document)))
    assert book.sheetnames[0] == "Übersicht"
