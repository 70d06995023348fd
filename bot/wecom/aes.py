"""AES-256-CBC without padding (the callers pad: WeCom pads to 32 bytes, not AES's 16), on the
OpenSSL the interpreter has loaded already for `ssl` and `hashlib`, through ctypes.

Why not `cryptography`: its extension carries an OpenSSL of its own, and loading it made the
serving process ~7.5 MB larger (resident), for the two AES calls of a message that the
interpreter's libcrypto does as well (bench/notes.md). Where that libcrypto cannot be found or
lacks the calls (not seen on Linux), `cryptography` is used instead: the same bytes either way
(tests/test_wecom_aes.py compares them).

    plain = decrypt(key, iv, cipher)   # key: 32 bytes, iv: 16, len(cipher) % 16 == 0
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache

KEY_LEN = 32
IV_LEN = 16
AES_BLOCK = 16

Run = Callable[[bytes, bytes, bytes, bool], bytes]


def _check(key: bytes, iv: bytes, data: bytes) -> None:
    if len(key) != KEY_LEN or len(iv) != IV_LEN:
        raise ValueError("AES-256-CBC takes a 32-byte key and a 16-byte IV")
    if len(data) % AES_BLOCK:
        raise ValueError("the data is not a whole number of AES blocks")


def _libcrypto_path() -> str | None:
    """The libcrypto `hashlib` is linked to (mapped into this process), else the system's."""
    import _hashlib  # noqa: F401  (maps the interpreter's libcrypto)

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip()
                if "/libcrypto" in path and ".so" in path:
                    return path
    except OSError:
        pass
    return ctypes.util.find_library("crypto")


class _OpenSSL:
    """The EVP calls of one libcrypto, declared once (every pointer typed: no int truncation)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        c_void_p, c_char_p, c_int = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        int_p = ctypes.POINTER(c_int)
        self.new = lib.EVP_CIPHER_CTX_new
        self.new.argtypes, self.new.restype = [], c_void_p
        self.free = lib.EVP_CIPHER_CTX_free
        self.free.argtypes, self.free.restype = [c_void_p], None
        aes = lib.EVP_aes_256_cbc
        aes.argtypes, aes.restype = [], c_void_p
        self.init = lib.EVP_CipherInit_ex
        self.init.argtypes = [c_void_p, c_void_p, c_void_p, c_char_p, c_char_p, c_int]
        self.init.restype = c_int
        self.padding = lib.EVP_CIPHER_CTX_set_padding
        self.padding.argtypes, self.padding.restype = [c_void_p, c_int], c_int
        self.update = lib.EVP_CipherUpdate
        self.update.argtypes = [c_void_p, c_char_p, int_p, c_char_p, c_int]
        self.update.restype = c_int
        self.final = lib.EVP_CipherFinal_ex
        self.final.argtypes, self.final.restype = [c_void_p, c_char_p, int_p], c_int
        self.cipher = aes()
        if not self.cipher:
            raise OSError("libcrypto has no AES-256-CBC")

    def run(self, key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
        _check(key, iv, data)
        ctx = self.new()
        if not ctx:
            raise MemoryError("EVP_CIPHER_CTX_new failed")
        try:
            out = ctypes.create_string_buffer(len(data) + AES_BLOCK)
            tail = ctypes.create_string_buffer(2 * AES_BLOCK)
            done, more = ctypes.c_int(0), ctypes.c_int(0)
            if (
                self.init(ctx, self.cipher, None, key, iv, 1 if encrypt else 0) != 1
                or self.padding(ctx, 0) != 1
                or self.update(ctx, out, ctypes.byref(done), data, len(data)) != 1
                or self.final(ctx, tail, ctypes.byref(more)) != 1
            ):
                raise ValueError("AES-256-CBC failed")
            return out.raw[: done.value] + tail.raw[: more.value]
        finally:
            self.free(ctx)


def _with_cryptography(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    _check(key, iv, data)
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    work = cipher.encryptor() if encrypt else cipher.decryptor()
    return work.update(data) + work.finalize()


@cache
def backend() -> tuple[str, Run]:
    """("openssl", its run) when the interpreter's libcrypto answers, else ("cryptography", …)."""
    try:
        path = _libcrypto_path()
        if path:
            return "openssl", _OpenSSL(ctypes.CDLL(path)).run
    except (OSError, AttributeError):  # not found, or without the EVP calls
        pass
    return "cryptography", _with_cryptography


def encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-256-CBC of `data` (already padded to whole blocks), no padding added."""
    return backend()[1](key, iv, data, True)


def decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """The inverse of `encrypt`: the padded plaintext, no padding removed."""
    return backend()[1](key, iv, data, False)
