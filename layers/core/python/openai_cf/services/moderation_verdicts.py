"""Llama Guard 3's verdicts read, and mapped onto OpenAI's moderation categories.

Llama Guard answers with a verdict, not probabilities: `safe`, or `unsafe` and the hazard codes
S1-S14 it found (as text, `"unsafe\\nS1,S10"`, or, in JSON mode, `{"safe": false, "categories":
["S1", "S10"]}`; Workers AI may send either). A category is true when a code maps to it, and its
score is then 1.0, else 0.0. `docs/moderations.md` holds the table and the reasoning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from openai_cf.errors import BadGatewayError
from openai_cf.schemas.moderations import CATEGORIES, Moderation

# Llama Guard 3's hazard taxonomy (MLCommons) → OpenAI's categories. Codes with no OpenAI
# counterpart (S6 specialized advice, S7 privacy, S8 intellectual property, S13 elections) map to
# nothing, so they do not flag: OpenAI's `flagged` means "some category is true".
HAZARDS: dict[str, tuple[str, ...]] = {
    "S1": ("violence", "illicit/violent"),  # violent crimes
    "S2": ("illicit",),  # non-violent crimes
    "S3": ("sexual", "illicit"),  # sex-related crimes
    "S4": ("sexual/minors",),  # child sexual exploitation
    "S5": ("harassment",),  # defamation
    "S6": (),  # specialized advice
    "S7": (),  # privacy
    "S8": (),  # intellectual property
    "S9": ("violence", "illicit/violent"),  # indiscriminate weapons
    "S10": ("hate",),  # hate
    "S11": ("self-harm",),  # suicide and self-harm
    "S12": ("sexual",),  # sexual content
    "S13": (),  # elections
    "S14": ("illicit",),  # code interpreter abuse
}
_CODE = re.compile(r"\bS(\d{1,2})\b")


@dataclass(frozen=True)
class Verdict:
    safe: bool
    codes: tuple[str, ...] = ()


def read_verdict(result: Any) -> Verdict:
    """Workers AI's `result` for a Llama Guard run → its verdict (a 502 if it holds none)."""
    response = result.get("response") if isinstance(result, dict) else None
    if isinstance(response, dict) and isinstance(response.get("safe"), bool):
        codes = response.get("categories") or []
        return Verdict(response["safe"], _codes(" ".join(str(c) for c in codes if isinstance(c, str))))
    if isinstance(response, str):
        first, _, rest = response.strip().partition("\n")
        word = first.strip().lower()
        if word == "safe":
            return Verdict(True)
        if word == "unsafe":
            return Verdict(False, _codes(rest))
    raise BadGatewayError("Workers AI answered a moderation request without a Llama Guard verdict.")


def _codes(text: str) -> tuple[str, ...]:
    found = (f"S{int(number)}" for number in _CODE.findall(text))
    return tuple(dict.fromkeys(code for code in found if code in HAZARDS))


def to_moderation(verdict: Verdict) -> Moderation:
    """All 13 categories, true where a hazard code maps to them; a subcategory implies its parent
    (`illicit/violent` → `illicit`), as OpenAI's results have it."""
    hit: set[str] = set()
    if not verdict.safe:
        for code in verdict.codes:
            for category in HAZARDS[code]:
                hit.add(category)
                hit.add(category.split("/")[0])
    return Moderation(
        flagged=bool(hit),
        categories={name: name in hit for name in CATEGORIES},
        category_scores={name: 1.0 if name in hit else 0.0 for name in CATEGORIES},
        category_applied_input_types={name: ["text"] for name in CATEGORIES},
    )
