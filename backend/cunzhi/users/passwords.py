"""Password rules: at least 12 characters, not a common or guessable password.

The list holds the most common passwords of 12 characters or more seen in public breach corpora (shorter
ones fail the length rule anyway), including the keyboard and pinyin patterns common in China, plus the
product's own names. A password is compared case-insensitively and with a trailing run of digits or
punctuation removed, so ``Password1234!`` counts as ``password``.
"""

from __future__ import annotations

import re

MIN_LENGTH = 12

COMMON = frozenset("""
123456789012 1234567890123 12345678901234 123456789123 111111111111 000000000000 123123123123
1234567890qwe 1q2w3e4r5t6y 1qaz2wsx3edc 1qaz2wsx3edc4rfv qwertyuiop12 qwertyuiop123 qwertyuiopas
qwerty123456 qwertyuiop asdfghjkl123 zxcvbnm12345 qazwsxedcrfv q1w2e3r4t5y6 a1b2c3d4e5f6
abcdefghijkl abcdefg12345 abc123456789 abcd12345678 aa1234567890 aaaaaaaaaaaa password1234 password12345
password123456 passw0rd1234 p@ssw0rd1234 p@ssword1234 iloveyou1234 iloveyou12345 welcome12345 welcome123456
letmein12345 administrator admin1234567 admin12345678 admin123456789 administrator1 root12345678
changeme1234 changeme12345 default12345 guest1234567 user12345678 test12345678 testtest1234 superman1234
football1234 baseball1234 sunshine1234 princess1234 starwars1234 dragon123456 monkey123456 shadow123456
master123456 michael12345 jennifer1234 trustno11234 whatever1234 computer1234 internet1234 freedom12345
woaini1314520 woaini521521 woaini123456 woaini5201314 5201314520 520131452013 1314520520 iloveyou5201314
zhangwei1234 wangwei12345 liuyang12345 zhang1234567 wang12345678 li1234567890 woaiwojia123 woainima1234
wodemima1234 mima12345678 mima123456789 nihao1234567 nihao123456789 zhongguo1234 zhongguo123456
beijing12345 shanghai1234 huaiyuan1234 anhui1234567 qq1234567890 qq123456789 wechat123456 weixin123456
baidu1234567 taobao123456 cunzhi123456 cunzhi-demo cunzhidemo123 cunzhi-admin cunzhi-password
cunzhiadmin123 mediator1234 mediation123 tiaojie12345 tiaojieyuan123 wanggeyuan123 cunweihui123
zonghzi123456 zongzhi12345 sifasuo12345 zhenzhengfu123 xiangzhen1234
""".split())

# words that, with digits or punctuation after them, make most "strong-looking" weak passwords
BASE_WORDS = frozenset("""
password passw0rd p@ssw0rd p@ssword iloveyou welcome qwerty qwertyuiop asdfghjkl zxcvbnm admin administrator
root letmein changeme default guest user test woaini wodemima mima nihao zhongguo cunzhi cunzhidemo abc abcd
abcdef qazwsx qazwsxedc
""".split())

_TAIL = re.compile(r"[\d\W_]+$")


def password_problem(password: str, username: str = "") -> str | None:
    """The reason a password is refused (a field error code), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "password_too_short"
    low = password.lower()
    core = _TAIL.sub("", low)
    if low in COMMON or core in COMMON or core in BASE_WORDS or len(core) < 4:
        return "password_too_common"
    if len(set(low)) <= 3:  # aaaaaaaaaaaa, abababababab, 121212121212
        return "password_too_common"
    if _sequential(low):
        return "password_too_common"
    name = username.lower()
    if name and (name in low or low in name):
        return "password_contains_username"
    if "cunzhi" in low and ("demo" in low or "admin" in low):
        return "password_too_common"
    return None


def _sequential(s: str) -> bool:
    """Runs like 123456789012 or abcdefghijkl (ascending or descending, wrapping digits)."""
    if not s.isalnum():
        return False
    steps = {(ord(b) - ord(a)) % 10 if a.isdigit() and b.isdigit() else ord(b) - ord(a) for a, b in zip(s, s[1:], strict=False)}
    return len(steps) == 1 and next(iter(steps)) in (1, -1, 9)
