"""Speech recognition (Whisper) and text-to-speech (Aura, MeloTTS) tasks.

This is part of a development and test double, not Workers AI: it hears nothing and says nothing.
Directives cannot be spoken, so a transcript is steered by the audio's bytes instead:

- `tagged_wav(text, language=…, translation=…)` builds a valid, silent WAV file with an extra
  `ocfT` RIFF chunk holding `language=xx`, optionally `translation=…`, and the transcript. The
  emulator "hears" that transcript (and `emulate:` directives inside it work as usual), reports
  that language, and answers `task: "translate"` with the translation line (else the transcript).
- Any other audio is heard as a few words picked from its SHA-256, in English: same bytes, same
  transcript.

Each word lasts 0.5 s; segments end at sentence ends. Speech answers are tiny but well-formed: MP3
frames (one per 20 characters of text), a WAV header over silence, or the format's magic bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from typing import Any

from starlette.responses import Response

from .context import RunContext, TaskHandler
from .errors import EmulatorError, success_response

WORD_SECONDS = 0.5
_CHUNK = b"ocfT"
_FIELDS = ("language", "translation")
_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")
# One MPEG-1 Layer III frame: 128 kbit/s, 44.1 kHz, no padding → 417 bytes, header + silence.
_MP3_FRAME = b"\xff\xfb\x90\x64" + bytes(413)


def tagged_wav(text: str, *, language: str = "en", translation: str | None = None) -> bytes:
    """A silent WAV file that the emulator hears as `text` spoken in `language`."""
    lines = [f"language={language}"] + ([f"translation={translation}"] if translation is not None else [])
    payload = ("\n".join(lines) + "\n" + text).encode()
    if len(payload) % 2:
        payload += b"\n"  # RIFF chunks are word-aligned
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 16000, 32000, 2, 16)
    chunks = fmt + _CHUNK + struct.pack("<I", len(payload)) + payload + b"data" + struct.pack("<I", 0)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def _tag(data: bytes) -> dict[str, str] | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    offset = 12
    while offset + 8 <= len(data):
        name, size = data[offset : offset + 4], struct.unpack("<I", data[offset + 4 : offset + 8])[0]
        if name == _CHUNK:
            lines = data[offset + 8 : offset + 8 + size].decode("utf-8", "replace").split("\n")
            fields = {key: value for key, _, value in (line.partition("=") for line in lines) if key in _FIELDS}
            spoken = [line for line in lines if line.partition("=")[0] not in _FIELDS]
            return {**fields, "text": "\n".join(spoken).strip()}
        offset += 8 + size + (size % 2)
    return None


def _audio_bytes(body: dict[str, Any]) -> bytes:
    audio = body.get("audio")
    if isinstance(audio, str):
        try:
            return base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            raise EmulatorError(5006, detail="Type mismatch of '/audio': not base64") from None
    if isinstance(audio, list):
        return bytes(int(v) & 0xFF for v in audio if isinstance(v, int | float))
    return b""


def heard(body: dict[str, Any]) -> dict[str, str]:
    """What the emulator hears in a request's audio: `text`, `language`, maybe `translation`."""
    data = _audio_bytes(body)
    tag = _tag(data)
    if tag is not None:
        return {"language": "en", **tag}
    digest = hashlib.sha256(data).digest()
    words = [_WORDS[b % len(_WORDS)] for b in digest[: 3 + digest[0] % 5]]
    return {"language": "en", "text": " ".join(words).capitalize() + "."}


def _timed_words(text: str) -> list[dict[str, Any]]:
    return [
        {"word": word, "start": round(i * WORD_SECONDS, 3), "end": round((i + 1) * WORD_SECONDS, 3)}
        for i, word in enumerate(text.split())
    ]


def _segments(words: list[dict[str, Any]]) -> list[dict[str, Any]]:
    segments: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for word in [*words, None]:
        if word is not None:
            current.append(word)
        if current and (word is None or str(word["word"]).endswith((".", "?", "!"))):
            segments.append({
                "start": current[0]["start"], "end": current[-1]["end"],
                "text": " " + " ".join(w["word"] for w in current), "temperature": 0.0,
                "avg_logprob": -0.25, "compression_ratio": 1.2, "no_speech_prob": 0.01, "words": current,
            })  # fmt: skip
            current = []
    return segments


def _vtt(segments: list[dict[str, Any]]) -> str:
    def clock(seconds: float) -> str:
        return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}:{seconds % 60:06.3f}"

    return "WEBVTT\n\n" + "".join(
        f"{clock(s['start'])} --> {clock(s['end'])}\n{s['text'].strip()}\n\n" for s in segments
    )


async def run_speech_recognition(ctx: RunContext) -> Response:
    hearing = heard(ctx.body)
    translate = ctx.body.get("task") == "translate"
    text = hearing.get("translation", hearing["text"]) if translate else hearing["text"]
    words = _timed_words(text)
    segments = _segments(words)
    if "transcription_info" not in str(ctx.info.output_schema):
        # The older Whisper models: text and words only.
        return success_response({"text": text, "word_count": len(words), "words": words, "vtt": _vtt(segments)})
    duration = words[-1]["end"] if words else 0.0
    info = {"language": hearing["language"], "language_probability": 0.99, "duration": duration,
            "duration_after_vad": duration}  # fmt: skip
    return success_response(
        {
            "transcription_info": info,
            "text": text,
            "word_count": len(words),
            "segments": segments,
            "vtt": _vtt(segments),
        }
    )


def _silence(encoding: str, container: str, seconds: float) -> tuple[bytes, str]:
    samples = bytes(int(24000 * seconds) * 2)
    if encoding == "linear16" and container == "wav":
        fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, 24000, 48000, 2, 16)
        chunks = fmt + b"data" + struct.pack("<I", len(samples)) + samples
        return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks, "audio/wav"
    if encoding == "linear16":
        return samples, "audio/pcm"
    magic = {"flac": (b"fLaC", "audio/flac"), "opus": (b"OggS", "audio/ogg"), "aac": (b"\xff\xf1\x50\x80", "audio/aac")}
    prefix, content_type = magic.get(encoding, (b"", "application/octet-stream"))
    return prefix + bytes(64), content_type


async def run_text_to_speech(ctx: RunContext) -> Response:
    text = str(ctx.body.get("text") or ctx.body.get("prompt") or "")
    mp3 = _MP3_FRAME * max(1, len(text) // 20)
    if "prompt" in ctx.body:  # MeloTTS answers with base64 in the envelope
        return success_response({"audio": base64.b64encode(mp3).decode()})
    encoding = str(ctx.body.get("encoding") or "mp3")
    if encoding == "mp3":
        return Response(mp3, media_type="audio/mpeg")
    content, content_type = _silence(encoding, str(ctx.body.get("container") or "none"), len(text) / 20 * 0.5)
    return Response(content, media_type=content_type)


def _speech_text(body: dict[str, Any]) -> str:
    return str(body.get("text") or body.get("prompt") or "")


SPEECH_RECOGNITION_HANDLER = TaskHandler(directive_text=lambda body: heard(body)["text"], run=run_speech_recognition)
TEXT_TO_SPEECH_HANDLER = TaskHandler(directive_text=_speech_text, run=run_text_to_speech)
