"""WeCom callback crypto: the SHA1 message signature and AES-256-CBC with 32-byte PKCS#7 blocks.

Our own implementation (PROTOCOL.md §1.4–1.5; AES on the interpreter's OpenSSL: bot/wecom/aes.py). Unlike the official sample and
wechatpy, every length and pad read from the wire is bounds-checked before use, so a truncated or
tampered ciphertext is refused with a precise reason instead of an IndexError or garbage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct

from bot.wecom import aes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16
RANDOM_LEN = 16
LEN_FIELD = 4

# Error codes of the official WXBizMsgCrypt samples (PROTOCOL.md §1.7).
SIGNATURE_INVALID = -40001
PARSE_XML_ERROR = -40002
ILLEGAL_AES_KEY = -40004
RECEIVE_ID_INVALID = -40005
DECRYPT_ERROR = -40007
ILLEGAL_BUFFER = -40008
DECODE_BASE64_ERROR = -40010

_AES_KEY_RE = re.compile(r"[A-Za-z0-9]{43}")


class WeComCryptoError(Exception):
    """A refused signature or ciphertext; `code` is the official sample's error code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """SHA1 over the lexicographically sorted, concatenated four strings (lowercase hex)."""
    joined = "".join(sorted([token, timestamp, nonce, encrypted]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def pkcs7_pad(data: bytes, block: int = BLOCK) -> bytes:
    amount = block - len(data) % block  # 1..block; a full block when already aligned
    return data + bytes([amount]) * amount


def pkcs7_unpad(data: bytes, block: int = BLOCK) -> bytes:
    """Strip and verify the pad: value 1..block, all pad bytes equal, never longer than the data."""
    if not data:
        raise WeComCryptoError(ILLEGAL_BUFFER, "empty plaintext")
    amount = data[-1]
    if not 1 <= amount <= block or amount > len(data):
        raise WeComCryptoError(ILLEGAL_BUFFER, f"bad pad value {amount}")
    if data[-amount:] != bytes([amount]) * amount:
        raise WeComCryptoError(ILLEGAL_BUFFER, "inconsistent pad bytes")
    return data[:-amount]


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """EncodingAESKey (43 chars of [A-Za-z0-9]) → the 32-byte AES key."""
    if not isinstance(encoding_aes_key, str) or not _AES_KEY_RE.fullmatch(encoding_aes_key):
        raise WeComCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey must be 43 letters/digits")
    key = base64.b64decode(encoding_aes_key + "=")
    if len(key) != 32:  # pragma: no cover - 43 base64 chars always give 32 bytes
        raise WeComCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey does not decode to 32 bytes")
    return key


class WeComCrypto:
    """Signature check, decryption and encryption for one app (token, key, receive id).

    `receive_id` is the CorpID for a self-built app (PROTOCOL.md §1.5).
    """

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        self.receive_id = receive_id
        self._receive_id_bytes = receive_id.encode("utf-8")
        self._key = decode_aes_key(encoding_aes_key)
        self._iv = self._key[:16]

    # --- signature ---------------------------------------------------------------------------

    def sign(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raise unless `msg_signature` matches (constant-time comparison)."""
        expected = self.sign(timestamp, nonce, encrypted)
        given = (msg_signature or "").strip().lower()
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise WeComCryptoError(SIGNATURE_INVALID, "signature mismatch")

    # --- AES -----------------------------------------------------------------------------------

    def encrypt(self, msg: str, *, random_prefix: bytes | None = None) -> str:
        """random(16) ‖ len(msg, 4 bytes BE) ‖ msg ‖ receive_id, padded to 32, AES-CBC, base64."""
        prefix = secrets.token_bytes(RANDOM_LEN) if random_prefix is None else random_prefix
        if len(prefix) != RANDOM_LEN:
            raise ValueError("random prefix must be 16 bytes")
        body = msg.encode("utf-8")
        plain = prefix + struct.pack(">I", len(body)) + body + self._receive_id_bytes
        cipher = aes.encrypt(self._key, self._iv, pkcs7_pad(plain))
        return base64.b64encode(cipher).decode("ascii")

    def decrypt(self, encrypted: str) -> str:
        """The inverse of `encrypt`, refusing anything malformed; returns the msg part."""
        try:
            cipher = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WeComCryptoError(DECODE_BASE64_ERROR, "ciphertext is not valid base64") from exc
        if len(cipher) < BLOCK or len(cipher) % 16:
            raise WeComCryptoError(ILLEGAL_BUFFER, f"ciphertext length {len(cipher)} is invalid")
        try:
            padded = aes.decrypt(self._key, self._iv, cipher)
        except ValueError as exc:  # pragma: no cover - length already checked
            raise WeComCryptoError(DECRYPT_ERROR, "AES decryption failed") from exc
        plain = pkcs7_unpad(padded)
        if len(plain) < RANDOM_LEN + LEN_FIELD:
            raise WeComCryptoError(ILLEGAL_BUFFER, "plaintext shorter than its header")
        (msg_len,) = struct.unpack(">I", plain[RANDOM_LEN : RANDOM_LEN + LEN_FIELD])
        start = RANDOM_LEN + LEN_FIELD
        if msg_len > len(plain) - start:
            raise WeComCryptoError(ILLEGAL_BUFFER, f"message length {msg_len} exceeds the buffer")
        msg = plain[start : start + msg_len]
        tail = plain[start + msg_len :]
        if not hmac.compare_digest(tail, self._receive_id_bytes):
            raise WeComCryptoError(RECEIVE_ID_INVALID, "receive id (corp id) mismatch")
        try:
            return msg.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WeComCryptoError(ILLEGAL_BUFFER, "message is not UTF-8") from exc

    # --- both ----------------------------------------------------------------------------------

    def verify_and_decrypt(
        self, msg_signature: str, timestamp: str, nonce: str, encrypted: str
    ) -> str:
        self.verify(msg_signature, timestamp, nonce, encrypted)
        return self.decrypt(encrypted)

    def encrypt_envelope(
        self, msg: str, timestamp: str, nonce: str, *, random_prefix: bytes | None = None
    ) -> tuple[str, str]:
        """Encrypt `msg` and sign it: returns (Encrypt, MsgSignature) for a reply envelope."""
        encrypted = self.encrypt(msg, random_prefix=random_prefix)
        return encrypted, self.sign(timestamp, nonce, encrypted)
