"""Speech through the official SDK: bytes streamed back with the format's content type."""

from __future__ import annotations

import base64

import openai
import pytest
from openai import OpenAI

MP3_FRAME = b"\xff\xfb\x90\x64"


def test_tts_1_answers_mp3(client: OpenAI) -> None:
    # When tts-1 speaks with a classic voice
    with client.audio.speech.with_streaming_response.create(model="tts-1", voice="alloy", input="Hello there!") as r:
        audio = r.read()
        content_type = r.headers["content-type"]
    # Then the body is MP3 frames, sent as audio/mpeg
    assert content_type == "audio/mpeg"
    assert audio.startswith(MP3_FRAME) and len(audio) % 417 == 0


@pytest.mark.parametrize(
    ("response_format", "content_type", "magic"),
    [
        ("wav", "audio/wav", b"RIFF"),
        ("flac", "audio/flac", b"fLaC"),
        ("opus", "audio/ogg", b"OggS"),
        ("aac", "audio/aac", b"\xff\xf1"),
        ("pcm", "audio/pcm", b"\x00\x00"),
    ],
)
def test_aura_offers_every_format(client: OpenAI, response_format: str, content_type: str, magic: bytes) -> None:
    answer = client.audio.speech.with_raw_response.create(
        model="tts-1-hd",
        voice="nova",
        input="Some words to say.",
        response_format=response_format,  # type: ignore[arg-type]
    )
    assert answer.headers["content-type"] == content_type
    assert answer.content.startswith(magic)


@pytest.mark.parametrize("voice", ["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage",
                                   "shimmer", "verse", "marin", "cedar", "luna"])  # fmt: skip
def test_every_openai_voice_maps_to_a_real_speaker(client: OpenAI, voice: str) -> None:
    # The emulator validates `speaker` against the model's enum: a 200 means the mapping is real.
    for model in ("tts-1", "@cf/deepgram/aura-1"):
        assert client.audio.speech.create(model=model, voice=voice, input="Hi.").content.startswith(MP3_FRAME)


def test_melotts_answers_mp3_from_base64(client: OpenAI) -> None:
    audio = client.audio.speech.create(model="@cf/myshell-ai/melotts", voice="echo", input="Bonjour.").content
    assert audio.startswith(MP3_FRAME)
    assert base64.b64encode(audio)  # bytes, not the envelope's base64 text


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"model": "tts-9"}, "model"),
        ({"model": "@cf/openai/whisper"}, "model"),
        ({"voice": "robot"}, "voice"),
        ({"voice": {"id": "voice_123"}}, "voice"),
        ({"input": ""}, "input"),
        ({"input": "x" * 4097}, "input"),
        ({"speed": 1.5}, "speed"),
        ({"speed": 9}, "speed"),
        ({"instructions": "Whisper it."}, "instructions"),
        ({"response_format": "ogg"}, "response_format"),
        ({"model": "@cf/myshell-ai/melotts", "response_format": "wav"}, "response_format"),
        ({"stream_format": "sse"}, "stream_format"),
    ],
)
def test_bad_input_is_a_400_naming_the_param(client: OpenAI, kwargs: dict[str, object], param: str) -> None:
    arguments: dict[str, object] = {"model": "tts-1", "voice": "alloy", "input": "Hello.", **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(**arguments)  # type: ignore[arg-type]
    assert caught.value.body["param"] == param  # type: ignore[index]


def test_upstream_failures_keep_their_meaning(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.audio.speech.create(model="tts-1", voice="alloy", input="emulate:error=3040")
