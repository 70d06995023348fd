"""Callback crypto: the official known-answer vectors, wechatpy as an independent peer, and every
way a ciphertext can be broken."""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot.wecom import crypto as c
from bot.wecom.crypto import WeComCrypto, WeComCryptoError
from bot.wecom.messages import parse_message

TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP = "ww1436e0e65a779aee"

GET_SIG = "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
GET_TS, GET_NONCE = "1476416373", "47744683"
ECHOSTR = "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="

POST_SIG = "0c3914025cb4b4d68103f6bfc8db550f79dcf48e"
POST_TS, POST_NONCE = "1476422779", "1597212914"
POST_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzB"
    "hzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWc"
    "oD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7"
    "wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDG"
    "OCI8jmnKiypE+"
)

REPLY_PLAIN = (
    "<xml><ToUserName><![CDATA[ChenJiaShun]]></ToUserName><FromUserName><![CDATA[ww1436e0e65a779aee]]>"
    "</FromUserName><CreateTime>1476422779</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>"
    "<![CDATA[你好，世界]]></Content></xml>"
)
REPLY_ENCRYPT = (
    "scEag1243Fmy/fYz4Ux8D8/wrQL1AKvgqPLm3oSyWK+U9VV1AGK/YuBjwwneLN/sH7Oc8uj96zXG8a6Eflo8QajCjGO84X"
    "/Cgn09muA3WacKRoe1hjpJO6wpK1DfKm8HVAuQhTugRQA8hOYFeYTzpkZfXDscqloapoTE3VQR+9yBKD2zids2MrTi5pbB"
    "XUsQi8yxAQYjR20kHwKrEItDBliFzwazHnKcO2WWAnAEKxctYuj3kbJM+MTE2+g1AjMwpNFm9co47Jz7wxGECG1GJsPUxo"
    "RfwvhL6jTl/NzCd8ksvbEQxp5TpN7wlsQXl449QmPJ2IJExFBq96Plk3dC2ptvuSNciEoNSMCW9CMXsjZ6cY8ZtZaNuW/m"
    "KQSVt0C4"
)
REPLY_SIG = "be6012bafe8f19cccda3fe43e092e4b3e70c392b"


@pytest.fixture
def ours() -> WeComCrypto:
    return WeComCrypto(TOKEN, KEY, CORP)


@pytest.fixture
def peer() -> WeChatCrypto:
    return WeChatCrypto(TOKEN, KEY, CORP)


def raw_encrypt(plain: bytes) -> str:
    """AES-CBC of already padded bytes with the test key, to craft broken ciphertexts."""
    key = base64.b64decode(KEY + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def layout(msg: bytes, tail: bytes = CORP.encode(), length: int | None = None) -> bytes:
    n = len(msg) if length is None else length
    return b"R" * 16 + struct.pack(">I", n) + msg + tail


# --- known answers -------------------------------------------------------------------------------


def test_url_verification_vector(ours: WeComCrypto) -> None:
    assert ours.verify_and_decrypt(GET_SIG, GET_TS, GET_NONCE, ECHOSTR) == "1288432023552776189"


def test_post_vector_decrypts_to_the_sample_message(ours: WeComCrypto) -> None:
    plain = ours.verify_and_decrypt(POST_SIG, POST_TS, POST_NONCE, POST_ENCRYPT)
    msg = parse_message(plain, corp_id=CORP)
    assert (msg.sender, msg.content, msg.msg_id, msg.agent_id) == (
        "ChenJiaShun",
        "你好",
        "1456453720",
        1000002,
    )
    assert len(base64.b64decode(POST_ENCRYPT)) == 288


def test_deterministic_encrypt_vector(ours: WeComCrypto) -> None:
    encrypt, sig = ours.encrypt_envelope(
        REPLY_PLAIN, POST_TS, POST_NONCE, random_prefix=b"0123456789abcdef"
    )
    assert encrypt == REPLY_ENCRYPT
    assert sig == REPLY_SIG


def test_signature_is_sorted_sha1() -> None:
    assert c.signature(TOKEN, GET_TS, GET_NONCE, ECHOSTR) == GET_SIG


def test_pkcs7_pads_to_32_with_a_full_block_when_aligned() -> None:
    assert len(c.pkcs7_pad(b"x" * 10)) == 32
    assert c.pkcs7_pad(b"x" * 32) == b"x" * 32 + bytes([32]) * 32
    assert c.pkcs7_unpad(c.pkcs7_pad(b"abc")) == b"abc"


# --- the independent implementation --------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 11, 12, 13, 43, 44, 45, 100, 1000])
def test_wechatpy_messages_are_accepted(ours: WeComCrypto, peer: WeChatCrypto, size: int) -> None:
    msg = ("考核" * size)[:size] + "x" * (size % 7)
    envelope = peer.encrypt_message(msg, "12345", "1700000000")
    encrypt = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    sig = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    assert ours.verify_and_decrypt(sig, "1700000000", "12345", encrypt) == msg


@pytest.mark.parametrize("msg", ["", "ok", "你好，世界" * 50, "]]><xml>&amp;"])
def test_our_replies_decrypt_with_wechatpy(ours: WeComCrypto, peer: WeChatCrypto, msg: str) -> None:
    encrypt, sig = ours.encrypt_envelope(msg, "1700000000", "777")
    envelope = {"Encrypt": encrypt}
    assert peer.decrypt_message(envelope, sig, "1700000000", "777") == msg


def test_wechatpy_refuses_our_message_for_another_corp(peer: WeChatCrypto) -> None:
    other = WeComCrypto(TOKEN, KEY, "wwother")
    encrypt, sig = other.encrypt_envelope("hi", "1", "2")
    with pytest.raises(InvalidCorpIdException):
        peer.decrypt_message({"Encrypt": encrypt}, sig, "1", "2")
    with pytest.raises(InvalidSignatureException):
        peer.decrypt_message({"Encrypt": encrypt}, "0" * 40, "1", "2")


# --- refusals ------------------------------------------------------------------------------------


def refused(fn, code: int) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(WeComCryptoError) as info:
        fn()
    assert info.value.code == code, info.value
    return info.value.reason


def test_wrong_signature(ours: WeComCrypto) -> None:
    refused(lambda: ours.verify("0" * 40, POST_TS, POST_NONCE, POST_ENCRYPT), c.SIGNATURE_INVALID)
    refused(lambda: ours.verify(POST_SIG, POST_TS, "1", POST_ENCRYPT), c.SIGNATURE_INVALID)
    refused(lambda: ours.verify("", POST_TS, POST_NONCE, POST_ENCRYPT), c.SIGNATURE_INVALID)
    refused(lambda: ours.verify("é" * 40, POST_TS, POST_NONCE, POST_ENCRYPT), c.SIGNATURE_INVALID)


def test_signature_accepts_uppercase_hex(ours: WeComCrypto) -> None:
    ours.verify(POST_SIG.upper(), POST_TS, POST_NONCE, POST_ENCRYPT)


def test_wrong_corp_id() -> None:
    other = WeComCrypto(TOKEN, KEY, "ww0000000000000000")
    refused(lambda: other.decrypt(POST_ENCRYPT), c.RECEIVE_ID_INVALID)


@pytest.mark.parametrize("bad", ["not base64!", "abc", "QUJD\n", "====", POST_ENCRYPT[:-1]])
def test_bad_base64(ours: WeComCrypto, bad: str) -> None:
    refused(lambda: ours.decrypt(bad), c.DECODE_BASE64_ERROR)


@pytest.mark.parametrize("cut", [16, 17, 100])
def test_truncated_ciphertext(ours: WeComCrypto, cut: int) -> None:
    raw = base64.b64decode(POST_ENCRYPT)
    broken = base64.b64encode(raw[:-cut]).decode()
    with pytest.raises(WeComCryptoError) as info:
        ours.decrypt(broken)
    assert info.value.code in (c.ILLEGAL_BUFFER, c.RECEIVE_ID_INVALID)


def test_too_short_ciphertext(ours: WeComCrypto) -> None:
    refused(lambda: ours.decrypt(base64.b64encode(b"x" * 16).decode()), c.ILLEGAL_BUFFER)
    refused(lambda: ours.decrypt(""), c.ILLEGAL_BUFFER)


@pytest.mark.parametrize(
    "tail",
    [
        bytes([0]) * 32,  # pad value 0
        bytes([33]) * 32,  # pad value beyond the block
        bytes([200]) * 32,
        b"\x01" * 29 + b"\x02\x03\x04",  # inconsistent pad bytes
    ],
)
def test_bad_pad(ours: WeComCrypto, tail: bytes) -> None:
    body = layout(b"hello")
    body += b"z" * (-len(body) % 32)
    refused(lambda: ours.decrypt(raw_encrypt(body + tail)), c.ILLEGAL_BUFFER)


@pytest.mark.parametrize("length", [2**32 - 1, 1000, 24])
def test_length_beyond_buffer(ours: WeComCrypto, length: int) -> None:
    body = layout(b"hello", length=length)
    refused(lambda: ours.decrypt(raw_encrypt(c.pkcs7_pad(body))), c.ILLEGAL_BUFFER)


def test_plaintext_shorter_than_header(ours: WeComCrypto) -> None:
    refused(lambda: ours.decrypt(raw_encrypt(c.pkcs7_pad(b"R" * 10))), c.ILLEGAL_BUFFER)


def test_length_that_shifts_the_tail_is_a_corp_mismatch(ours: WeComCrypto) -> None:
    body = layout(b"hello", length=3)
    refused(lambda: ours.decrypt(raw_encrypt(c.pkcs7_pad(body))), c.RECEIVE_ID_INVALID)


def test_message_must_be_utf8(ours: WeComCrypto) -> None:
    body = layout(b"\xff\xfe bad")
    refused(lambda: ours.decrypt(raw_encrypt(c.pkcs7_pad(body))), c.ILLEGAL_BUFFER)


@pytest.mark.parametrize("key", ["", "short", KEY + "A", KEY[:-1] + "=", KEY[:-1] + "/"])
def test_bad_encoding_aes_key(key: str) -> None:
    refused(lambda: WeComCrypto(TOKEN, key, CORP), c.ILLEGAL_AES_KEY)


def test_random_prefix_differs_per_message(ours: WeComCrypto) -> None:
    assert ours.encrypt("same") != ours.encrypt("same")
    with pytest.raises(ValueError):
        ours.encrypt("x", random_prefix=b"short")
