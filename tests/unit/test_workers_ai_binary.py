"""`open_binary`: speech audio streamed as it arrives, or the envelope's result (MeloTTS)."""

from __future__ import annotations

from openai_cf.workers_ai.client import BinaryStream

from .test_workers_ai_client import FakeSession, client, make_response, ok


def test_audio_answers_are_streamed_not_held() -> None:
    # Given an upstream answering raw audio/mpeg
    session = FakeSession(make_response(200, b"\xff\xfb" * 40_000, content_type="audio/mpeg"))
    # When it is opened
    answer = client(session, []).open_binary("@cf/deepgram/aura-2-en", {"text": "hi", "speaker": "luna"})
    # Then the caller gets a stream (the request was sent with stream=True) that yields every byte
    assert isinstance(answer, BinaryStream) and answer.content_type == "audio/mpeg"
    assert session.calls[0]["stream"] is True
    chunks = list(answer)
    assert len(chunks) > 1 and b"".join(chunks) == b"\xff\xfb" * 40_000


def test_a_json_envelope_is_its_result() -> None:
    session = FakeSession(ok({"audio": "//s="}))
    assert client(session, []).open_binary("@cf/myshell-ai/melotts", {"prompt": "hi"}) == {"audio": "//s="}
