"""Reference numbers: random, not sequential, easy to read out at a counter, with a check character.

Format: a one-letter prefix for the kind, 8 characters from an alphabet without 0/O/1/I/L, and a check
character (Luhn mod N over the same alphabet), e.g. A7K3M9QX2P. A typo in one character, or two
neighbours swapped, fails the check.
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BODY_LENGTH = 8


def _check_character(text: str) -> str:
    base = len(ALPHABET)
    factor, total = 2, 0
    for char in reversed(text):
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // base + addend % base
    return ALPHABET[(base - total % base) % base]


def new_reference(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return prefix + body + _check_character(body)


def normalize_reference(text: str) -> str:
    return "".join(text.split()).replace("-", "").upper()


def is_valid_reference(text: str, prefix: str | None = None) -> bool:
    ref = normalize_reference(text)
    if len(ref) != BODY_LENGTH + 2 or (prefix and not ref.startswith(prefix)):
        return False
    body, check = ref[1:-1], ref[-1]
    return all(char in ALPHABET for char in body + check) and _check_character(body) == check
