"""AES-256-CBC on the interpreter's OpenSSL (bot/wecom/aes.py): the same bytes as `cryptography`,
the same refusals, and the serving path no longer loads `cryptography` (~7.5 MB resident)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.wecom import aes


def _reference(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    work = cipher.encryptor() if encrypt else cipher.decryptor()
    return work.update(data) + work.finalize()


def test_the_interpreters_openssl_is_used_on_linux() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("the libcrypto is found through /proc on Linux")
    assert aes.backend()[0] == "openssl"


@pytest.mark.parametrize("size", [0, 16, 32, 48, 4096, 20 * 1024 * 1024 // 16 * 16 + 16])
def test_same_bytes_as_cryptography_both_ways(size: int) -> None:
    key, iv, data = os.urandom(32), os.urandom(16), os.urandom(size)
    cipher = aes.encrypt(key, iv, data)
    assert cipher == _reference(key, iv, data, True)
    assert aes.decrypt(key, iv, cipher) == data
    assert aes.decrypt(key, iv, data) == _reference(key, iv, data, False)


def test_the_fallback_gives_the_same_bytes() -> None:
    key, iv, data = os.urandom(32), os.urandom(16), os.urandom(96)
    assert aes._with_cryptography(key, iv, data, True) == aes.encrypt(key, iv, data)
    assert aes._with_cryptography(key, iv, data, False) == aes.decrypt(key, iv, data)


@pytest.mark.parametrize(
    ("key", "iv", "data"),
    [
        (b"k" * 31, b"i" * 16, b"d" * 16),
        (b"k" * 32, b"i" * 15, b"d" * 16),
        (b"k" * 32, b"i" * 16, b"d" * 17),
        (b"k" * 32, b"i" * 16, b"d" * 15),
    ],
)
def test_wrong_lengths_are_refused(key: bytes, iv: bytes, data: bytes) -> None:
    for run in (aes.encrypt, aes.decrypt):
        with pytest.raises(ValueError):
            run(key, iv, data)


def test_the_callback_path_does_not_load_cryptography() -> None:
    """A callback's decryption and its reply's encryption, in a fresh interpreter."""
    code = (
        "import sys\n"
        "from bot.wecom.crypto import WeComCrypto\n"
        "from bot.wecombot.media import decrypt_media\n"
        "c = WeComCrypto('token', 'a' * 43, 'corp')\n"
        "assert c.decrypt(c.encrypt('政务信息')) == '政务信息'\n"
        "print('cryptography' in sys.modules)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
