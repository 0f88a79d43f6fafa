"""Fake secrets (generated, realistic-looking, never real) and ordinary text for redaction tests.

``POSITIVE``: (label, text, secret) — the secret must not survive redaction.
``NEGATIVE``: ordinary text and JSON that must come back unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
import uuid

import orjson

_rng = random.Random(20261207)
_ALNUM = string.ascii_letters + string.digits
_UPPER_DIGITS = string.ascii_uppercase + string.digits
_B64 = _ALNUM + "+/"


def _pick(alphabet: str, n: int) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt() -> str:
    header = _b64url(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    payload = _b64url(orjson.dumps({"sub": "user-42", "iat": 1733540455, "role": "agent"}))
    return f"{header}.{payload}.{_b64url(_rng.randbytes(32))}"


def fake_aws_secret() -> str:
    while True:  # realistic: mixed case, digits, a slash
        s = _pick(_B64, 40)
        if (
            sum(c.isupper() for c in s) >= 3
            and sum(c.islower() for c in s) >= 3
            and any(c.isdigit() for c in s)
            and s.count("/") <= 3
        ):
            return s


def fake_pem(kind: str = "RSA ") -> str:
    body = base64.b64encode(_rng.randbytes(300)).decode()
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{lines}\n-----END {kind}PRIVATE KEY-----"


AWS_ID = "AKIA" + _pick(_UPPER_DIGITS, 16)
AWS_SECRET = fake_aws_secret()
GITHUB = "ghp_" + _pick(_ALNUM, 36)
GITHUB_PAT = "github_pat_11" + _pick(_UPPER_DIGITS, 20) + "_" + _pick(_ALNUM, 59)
GITLAB = "glpat-" + _pick(_ALNUM, 20)
SLACK = f"xoxb-{_pick(string.digits, 11)}-{_pick(string.digits, 12)}-{_pick(_ALNUM, 24)}"
STRIPE_LIVE = "sk_live_" + _pick(_ALNUM, 24)
STRIPE_TEST = "sk_test_" + _pick(_ALNUM, 99)
GOOGLE = "AIza" + _pick(_ALNUM + "-_", 35)
OPENAI_LEGACY = "sk-" + _pick(_ALNUM, 20) + "T3BlbkFJ" + _pick(_ALNUM, 20)
OPENAI_PROJECT = "sk-proj-" + _pick(_ALNUM + "-_", 120)
ANTHROPIC = "sk-ant-api03-" + _pick(_ALNUM + "-_", 93) + "AA"
JWT = fake_jwt()
BEARER = _pick(_ALNUM, 40)
BASIC = base64.b64encode(b"support-bot:" + _pick(_ALNUM, 16).encode()).decode()
PASSWORD = "hunter2-" + _pick(_ALNUM, 6)
PEM = fake_pem()
OPENSSH = fake_pem("OPENSSH ")

POSITIVE: list[tuple[str, str, str]] = [
    ("aws key id", f"creds {AWS_ID} loaded", AWS_ID),
    ("aws secret assigned", f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    ("aws secret quoted", f'AWS_SECRET_KEY="{AWS_SECRET}"', AWS_SECRET),
    ("aws secret alone", f"the secret part is {AWS_SECRET} (rotated)", AWS_SECRET),
    ("aws secret in json text", orjson.dumps({"SecretAccessKey": AWS_SECRET}).decode(), AWS_SECRET),
    ("github", f"token {GITHUB} in a note", GITHUB),
    ("github fine-grained", f"push with {GITHUB_PAT}", GITHUB_PAT),
    ("gitlab", f"CI uses {GITLAB}", GITLAB),
    ("slack", f"slack: {SLACK}", SLACK),
    ("stripe live", f"charge with {STRIPE_LIVE}", STRIPE_LIVE),
    ("stripe test", f"charge with {STRIPE_TEST}", STRIPE_TEST),
    ("google", f"maps key {GOOGLE}", GOOGLE),
    ("openai legacy", f"OPENAI {OPENAI_LEGACY}", OPENAI_LEGACY),
    ("openai project", f"client = OpenAI({OPENAI_PROJECT})", OPENAI_PROJECT),
    ("anthropic", f"key: {ANTHROPIC}", ANTHROPIC),
    ("jwt", f"session {JWT} expires", JWT),
    ("jwt signature", f"session {JWT} expires", JWT.rsplit(".", 1)[1]),
    ("bearer header", f"Authorization: Bearer {BEARER}", BEARER),
    (
        "bearer in json text",
        orjson.dumps({"headers": {"auth": f"Bearer {BEARER}"}}).decode(),
        BEARER,
    ),
    ("basic header", f"Authorization: Basic {BASIC}", BASIC),
    ("basic auth url", f"postgres://app:{PASSWORD}@db.internal:5432/shop", PASSWORD),
    ("pem block", f"key:\n{PEM}\nend", PEM.splitlines()[3]),
    ("openssh block", f"{OPENSSH}", OPENSSH.splitlines()[2]),
    ("pem truncated", PEM[:200], PEM.splitlines()[1]),
    ("password= in string", f"login failed for password={PASSWORD} user=bob", PASSWORD),
    ("password: in yaml", f"db:\n  password: {PASSWORD}\n", PASSWORD),
    ("env assignment", f"DB_PASSWORD={PASSWORD}", PASSWORD),
    ("api_key in json text", orjson.dumps({"api_key": PASSWORD, "q": "x"}).decode(), PASSWORD),
    ("quoted with spaces", '{"password": "correct horse battery staple"}', "horse battery"),
    (
        "escaped json in json",
        orjson.dumps(orjson.dumps({"token": PASSWORD}).decode()).decode(),
        PASSWORD,
    ),
    ("header x-api-key", f"X-Api-Key: {PASSWORD}", PASSWORD),
    ("query token", f"https://api.example.com/v1?access_token={PASSWORD}&page=2", PASSWORD),
    ("client secret camel", f"clientSecret={PASSWORD}", PASSWORD),
]

NESTED_SECRET_KEYS: list[tuple[dict[str, object], str]] = [
    ({"config": {"db": {"password": PASSWORD}}}, PASSWORD),
    ({"headers": {"Authorization": f"Basic {BASIC}"}}, BASIC),
    ({"apiKey": "plain-looking-value"}, "plain-looking-value"),
    ({"creds": [{"aws_secret_access_key": "abc"}]}, '"abc"'),
    ({"X-Api-Key": "k1"}, '"k1"'),
    ({"refresh_token": "r-123"}, "r-123"),
    ({"stripe": {"secret_key": 12345678}}, "12345678"),
]

_SHA256 = hashlib.sha256(b"agentdeck").hexdigest()
_SHA1 = hashlib.sha1(b"agentdeck").hexdigest()
_PNG = "data:image/png;base64," + base64.b64encode(_rng.randbytes(3000)).decode()
_UUIDS = [str(uuid.UUID(int=_rng.getrandbits(128), version=4)) for _ in range(5)]

SUPPORT_RESULT = {
    "order_id": "ORD-12345",
    "status": "shipped",
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "customer": {"id": "cus_NffrFeUfNV2Hib", "name": "Carol Diaz", "tier": "gold"},
    "items": [
        {"sku": "SKU-88213-BLK", "qty": 2, "price": 19.99},
        {"sku": "SKU-10020-RED", "qty": 1, "price": 129.0},
    ],
    "charge": "ch_3MmlLrLkdIwHu7ix0snN0B15",
    "refund_eligible": True,
    "has_api_key": False,
    "password_reset_sent": False,
    "token_type": "Bearer",
    "usage": {"prompt_tokens": 512, "completion_tokens": 88, "max_tokens": 1024},
    "idempotency_key": "idem-2026-12-07-0001",
    "public_key_id": "pk-01",
    "created_at": "2026-12-07T02:20:55Z",
    "receipt_url": "https://shop.example.com/orders/ORD-12345/receipt?utm_source=mail",
    "notes": "Customer asked to leave the parcel with the neighbour.",
}

NEGATIVE: list[str] = [
    "Order ORD-12345 shipped on 2026-12-07; ORD-2024-000123 is still pending.",
    *(f"request {u} done" for u in _UUIDS),
    _UUIDS[0].upper(),
    f"sha256:{_SHA256}",
    f"sha1 {_SHA1}",
    f"fixed in commit {_SHA1} (short {_SHA1[:7]})",
    _PNG,
    f'<img src="{_PNG}" alt="receipt">',
    "card on file ends in 4242; invoice 2026000123456789; phone +1 415 555 0100",
    "timestamp 1733540455123, amount 129.00 USD, 99.5% uptime",
    "Your password has been reset. The secret to great support is listening; "
    "tokens used this month: 512. Our basic plan includes 3 seats. "
    "API keys can be rotated in the settings page. The bearer of this note may collect it.",
    "To reset your password, click the link we sent to your inbox.",
    "INFO 2026-12-07 02:20:55 user=alice action=login result=ok latency_ms=42",
    "ssh://git@github.com/acme/support-bot.git and https://example.com:8443/a/b",
    "s3://invoices/2026/12/INV-2026-000123.pdf",
    'Traceback (most recent call last):\n  File "agent.py", line 12, in run\n'
    "KeyError: 'order_id'",
    orjson.dumps(SUPPORT_RESULT).decode(),
    orjson.dumps(SUPPORT_RESULT, option=orjson.OPT_INDENT_2).decode(),
]
