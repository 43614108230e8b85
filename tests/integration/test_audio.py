"""Transcriptions and translations through the official SDK, answered by the emulator's Whisper.

The emulator hears the transcript carried by `tagged_wav` (openai_cf.local.emulator.audio).
"""

from __future__ import annotations

import io

import openai
import pytest
from openai import OpenAI

from openai_cf.local.emulator.audio import tagged_wav
from tests.contract.validate import assert_matches

SPOKEN = "Hello there. How are you today?"


def _wav(text: str = SPOKEN, **kwargs: str) -> tuple[str, bytes, str]:
    return ("speech.wav", tagged_wav(text, **kwargs), "audio/wav")


def test_json_is_the_default(client: OpenAI) -> None:
    # Given a WAV file that says SPOKEN, when it is transcribed with whisper-1
    result = client.audio.transcriptions.with_raw_response.create(model="whisper-1", file=_wav())
    # Then the answer is OpenAI's transcription object with the text and the audio's duration
    body = result.parse()
    assert body.text == SPOKEN
    assert result.headers["content-type"].startswith("application/json")
    assert_matches("CreateTranscriptionResponseJson", result.http_response.json())
    assert result.http_response.json()["usage"] == {"type": "duration", "seconds": 3.0}


@pytest.mark.parametrize(
    ("response_format", "content_type", "expected"),
    [
        ("text", "text/plain", SPOKEN + "\n"),
        (
            "srt",
            "text/srt",
            "1\n00:00:00,000 --> 00:00:01,000\nHello there.\n\n2\n00:00:01,000 --> 00:00:03,000\nHow are you today?\n",
        ),
        (
            "vtt",
            "text/vtt",
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello there.\n\n"
            "00:00:01.000 --> 00:00:03.000\nHow are you today?\n",
        ),
    ],
)
def test_text_formats_are_plain_text(client: OpenAI, response_format: str, content_type: str, expected: str) -> None:
    # When a plain-text format is asked for
    result = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1",
        file=_wav(),
        response_format=response_format,  # type: ignore[arg-type]
    )
    # Then the SDK returns the body verbatim as a str, sent with that format's content type
    assert result.parse() == expected
    assert result.headers["content-type"].startswith(content_type)


def test_verbose_json_has_language_duration_segments_and_words(client: OpenAI) -> None:
    # Given French audio, when verbose_json with both granularities is asked for
    result = client.audio.transcriptions.with_raw_response.create(
        model="@cf/openai/whisper-large-v3-turbo",
        file=_wav("Bonjour tout le monde.", language="fr"),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="fr",
        prompt="A greeting.",
        temperature=0.2,
    )
    verbose = result.parse()
    # Then the language is named as OpenAI names it, and segments and words carry the times
    assert (verbose.language, verbose.duration, verbose.text) == ("french", 2.0, "Bonjour tout le monde.")
    assert [w.word for w in verbose.words or []] == ["Bonjour", "tout", "le", "monde."]
    assert verbose.segments and verbose.segments[0].end == 2.0 and verbose.segments[0].tokens == []
    assert_matches("CreateTranscriptionResponseVerboseJson", result.http_response.json())


def test_verbose_json_words_only_when_asked(client: OpenAI) -> None:
    verbose = client.audio.transcriptions.create(model="whisper-1", file=_wav(), response_format="verbose_json")
    assert verbose.words is None and verbose.segments and len(verbose.segments) == 2


def test_older_whisper_models_have_words_and_built_segments(client: OpenAI) -> None:
    # Given @cf/openai/whisper, which reports only text and words
    verbose = client.audio.transcriptions.create(
        model="@cf/openai/whisper", file=_wav(), response_format="verbose_json", timestamp_granularities=["word"]
    )
    # Then segments are built at sentence ends, and the language is the one asked for, else unknown
    assert verbose.language == "unknown" and verbose.duration == 3.0
    assert verbose.words and len(verbose.words) == 6
    assert verbose.segments is None


def test_nameless_upload_is_sniffed(client: OpenAI) -> None:
    # A BytesIO without a name is sent as `upload`: its WAV header says what it is.
    assert client.audio.transcriptions.create(model="whisper-1", file=io.BytesIO(tagged_wav("Hi."))).text == "Hi."


def test_translation_uses_the_models_translate_task(client: OpenAI) -> None:
    # Given German audio whose English translation the emulator knows
    audio = _wav("Guten Morgen.", language="de", translation="Good morning.")
    # When it is translated, then the text is English, in every format
    assert client.audio.translations.create(model="whisper-1", file=audio).text == "Good morning."
    text = client.audio.translations.create(model="whisper-1", file=audio, response_format="text")
    assert text == "Good morning.\n"
    verbose = client.audio.translations.with_raw_response.create(
        model="whisper-1", file=audio, response_format="verbose_json"
    )
    assert verbose.parse().language == "english"
    assert_matches("CreateTranslationResponseVerboseJson", verbose.http_response.json())
    srt = client.audio.translations.create(model="whisper-1", file=audio, response_format="srt")
    assert srt == "1\n00:00:00,000 --> 00:00:01,000\nGood morning.\n"


def test_a_model_without_a_translate_task_is_refused(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.translations.create(model="@cf/openai/whisper", file=_wav())
    assert caught.value.body["param"] == "model"  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"file": ("speech.wav", b"", "audio/wav")}, "file"),
        ({"file": ("notes.txt", b"hello", "text/plain")}, "file"),
        ({"file": io.BytesIO(b"not audio at all")}, "file"),
        ({"model": "whisper-9"}, "model"),
        ({"model": "@cf/baai/bge-m3"}, "model"),
        ({"model": "@cf/deepgram/nova-3"}, "model"),
        ({"response_format": "mp3"}, "response_format"),
        ({"temperature": 1.5}, "temperature"),
        ({"language": "english"}, "language"),
        ({"timestamp_granularities": ["word"]}, "timestamp_granularities"),
        ({"timestamp_granularities": ["char"], "response_format": "verbose_json"}, "timestamp_granularities[0]"),
        ({"include": ["logprobs"]}, "include"),
        ({"stream": True}, "stream"),
        ({"chunking_strategy": {"type": "server_vad"}}, "chunking_strategy"),
        ({"extra_body": {"diarize": "true"}}, "diarize"),
    ],
)
def test_bad_input_is_a_400_naming_the_param(client: OpenAI, kwargs: dict[str, object], param: str) -> None:
    arguments: dict[str, object] = {"model": "whisper-1", "file": _wav(), **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(**arguments)  # type: ignore[call-overload]
    assert caught.value.body["param"] == param  # type: ignore[index]


def test_a_file_over_the_binary_limit_is_a_413(sdk_for: object) -> None:
    small = sdk_for(max_binary_request_bytes=64 * 1024)  # type: ignore[operator]
    with pytest.raises(openai.APIStatusError) as caught:
        small.audio.transcriptions.create(model="whisper-1", file=("big.wav", bytes(128 * 1024), "audio/wav"))
    assert caught.value.status_code == 413


def test_upstream_failures_keep_their_meaning(client: OpenAI) -> None:
    # Directives work inside the heard transcript, as in chat text.
    with pytest.raises(openai.RateLimitError):
        client.audio.transcriptions.create(model="whisper-1", file=_wav("emulate:error=3040"))
