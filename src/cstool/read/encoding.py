"""Bytes → UTF-8 bytes: BOMs, a strict UTF-8 check, GB18030 and Big5, honest hints.

Encoding is decided strictly, never guessed from a few bytes: a BOM if there is one, else
UTF-8 if the whole file decodes, else GB18030 or Big5 if exactly one of them decodes the
file into real Chinese text, else an error that proposes only encodings that decode every
byte of the file into clean text.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import sys
from pathlib import Path

from cstool.errors import DataError, UsageError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Codecs that look up but do not turn a file's bytes into its text.
_NOT_FILE_ENCODINGS = frozenset(
    {"undefined", "unicode-escape", "raw-unicode-escape", "unicode-internal", "idna", "punycode"}
)

# Candidates proposed in hints, in the order preferred when equally plausible.
CANDIDATES = (
    "utf-8",
    "big5",
    "gb18030",
    "cp932",
    "euc-kr",
    "cp1252",
    "latin-1",
    "cp1251",
    "utf-16",
)

# Frequent Chinese characters, simplified and traditional, and the words of customer tables:
# real text decoded with the right codec hits them often, a wrong codec's text rarely.
_COMMON_HAN = frozenset(
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家"
    "学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经"
    "头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者"
    "向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气"
    "信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活"
    "难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清"
    "物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功"
    "指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强"
    "步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版"
    "双历越史商千片容研像找友孩站广改议形委早房音际则首单据导影失拿网香似斯专石若兵弟谁校读志飞"
    "观争究包组造落视济喜离虽坏兴切"
    "這們來國說為時會對後裡麼發經頭從動兩長點現樣將實與進還過開當沒學問題"
    "機給間業東門電車報條見關數氣員書話邊總處場師讓認論義決達運遠變聯傳領"
    "結區軍產際單據視濟雖壞興號價值戶稱編碼郵件增長策略交付解決客戶名稱電子"
    "郵箱備註狀態階段標籤續約費用收入月聯繫最近日期簽計劃方案陳林黃張李王劉"
    "楊吳趙周徐孫馬朱胡郭何高羅鄭梁謝宋唐許韓馮鄧曹彭曾蕭田董袁潘蔡蔣餘杜葉"
    "程蘇魏呂丁任沈姚盧姜崔鍾譚陸汪范金石廖賈夏韋傅方鄒熊白孟秦邱江尹薛閻段"
    "客户编号价值电邮增长战略问题解决备注状态阶段标签续约费刘杨吴赵孙罗郑谢韩冯邓萧苏吕卢钟谭陆贾韦邹"
    "芳雷伟明华强丽敏静磊军洋勇艳杰娟涛超秀霞平刚桂英"
)


def text_codec(name: str, option: str = "--encoding") -> str:
    """The codec's canonical name if it turns bytes into text; else a UsageError (exit 2)."""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        raise UsageError(
            f"{option} {name!r}: unknown encoding",
            hint="use a text encoding such as utf-8, gb18030, big5, cp932, cp1252 or utf-16",
        ) from None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        raise UsageError(
            f"{option} {name!r}: is not a text encoding (it does not turn a file's bytes "
            "into text)",
            hint="use a text encoding such as utf-8, gb18030, big5, cp932, cp1252 or utf-16",
        )
    return info.name


def decode(raw: bytes, path: Path, forced: str | None = None) -> tuple[bytes, str]:
    """The file as UTF-8 bytes (no BOM) and the encoding it was read with."""
    if forced:
        text_codec(forced)
        try:
            text = raw.decode(forced)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path}: {_decode_position(raw, exc)} is not valid {forced}",
                hint=_hint(raw, "check --encoding (or [input] encoding in cstool.toml)"),
            ) from None
        return text.lstrip("\ufeff").encode("utf-8"), forced
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{path}: starts with a {codec} byte-order mark but "
                    f"{_decode_position(raw, exc)} is not valid {codec}"
                ) from None
            if codec == "utf-8-sig":
                return raw[len(bom) :], "utf-8-sig"
            return text.lstrip("\ufeff").encode("utf-8"), codec
    try:
        _check_utf8(raw)
        return raw, "utf-8"
    except UnicodeDecodeError as utf8_error:
        where = _decode_position(raw, utf8_error)
        if _mostly_utf8(raw):
            raise DataError(
                f"{path}: {where} is not UTF-8, though the rest of "
                "the file is: a row saved by another program, in another encoding?",
                hint="retype or fix that line (or name the file's encoding with --encoding)",
            ) from None
        return _chinese(raw, path, where)


def _chinese(raw: bytes, path: Path, where: str) -> tuple[bytes, str]:
    """GB18030 or Big5, when exactly one of them reads the file as real Chinese text."""
    readings: dict[str, str] = {}
    for codec in ("gb18030", "big5"):
        with contextlib.suppress(UnicodeDecodeError):
            readings[codec] = raw.decode(codec)
    share = {codec: common_han_share(text) for codec, text in readings.items()}
    plausible = [
        codec
        for codec in readings
        if share[codec] >= 0.3 or (codec == "gb18030" and _plausible_gb18030(raw))
    ]
    if len(plausible) == 2:
        gb, big5 = share["gb18030"], share["big5"]
        if gb >= 1.5 * big5 and gb >= 0.3:
            plausible = ["gb18030"]
        elif big5 >= 1.5 * gb and big5 >= 0.3:
            plausible = ["big5"]
        else:
            raise DataError(
                f"{path}: {where} is not UTF-8, and the file reads as Chinese text both as "
                "GB18030 (simplified) and as Big5 (traditional)",
                hint="name the file's encoding: --encoding gb18030 or --encoding big5",
            )
    if plausible:
        codec = plausible[0]
        if _korean(raw):  # EUC-KR's Hangul bytes are GB2312's common hanzi bytes too
            raise DataError(
                f"{path}: {where} is not UTF-8, and the file reads as Korean text (EUC-KR) "
                f"as well as Chinese ({codec.upper()})",
                hint="name the file's encoding: --encoding euc-kr (Korean) or "
                f"--encoding {codec} (Chinese); check that the names read right",
            )
        return readings[codec].encode("utf-8"), codec
    if readings:
        message = (
            f"{path}: {where} is not UTF-8, and read as "
            f"{' or '.join(c.upper() for c in readings)} the file gives unlikely text: it "
            "looks like another encoding (Windows-1252 or Latin-1 for European text, "
            "Shift-JIS for Japanese)"
        )
    else:
        message = f"{path}: {where} is neither UTF-8 nor GB18030 nor Big5"
    raise DataError(message, hint=_hint(raw, "name the file's encoding with --encoding"))


def _hangul_share(text: str) -> float:
    """Share of the non-ASCII characters of `text` that are Hangul syllables."""
    wide = re.findall(r"[^\x00-\x7f]", text)
    if not wide:
        return 0.0
    return len(re.findall(r"[\uac00-\ud7a3]", text)) / len(wide)


def _korean(raw: bytes) -> bool:
    """Whether the file reads as Korean: EUC-KR decodes it into (nearly) only Hangul.

    Chinese GB2312 text read as EUC-KR gives Hanja for its many characters with a lead byte
    above 0xC8 (or fails to decode), so real Chinese text beyond a few characters is not
    taken for Korean."""
    try:
        text = raw.decode("euc-kr")
    except UnicodeDecodeError:
        return False
    return _hangul_share(text) >= 0.9


def common_han_share(text: str) -> float:
    """Share of the Chinese characters in `text` that are frequent ones (0 with none)."""
    han = re.findall(r"[\u4e00-\u9fff]", text)
    if not han:
        return 0.0
    return sum(ch in _COMMON_HAN for ch in han) / len(han)


_STRAY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def encoding_candidates(raw: bytes) -> list[str]:
    """Encodings that decode every byte of `raw` into clean text, most plausible first.

    Clean: no replacement characters and no control characters other than tab and line
    breaks. Big5/GB18030 are ranked by how much of their text is frequent Chinese, cp932 by
    its share of kana and frequent kanji, cp1252 (then latin-1) by how many high bytes stand
    alone as accented letters do; UTF-16 only when its text is mostly ASCII.
    """
    return [codec for codec, _ in ranked_encodings(raw)]


def ranked_encodings(raw: bytes) -> list[tuple[str, float]]:
    """`encoding_candidates` with each one's plausibility (0 to 1; higher is likelier)."""
    sample = raw[: 1 << 22]
    if len(raw) > len(sample):  # do not cut a multi-byte character: end on a line break
        cut = sample.rfind(b"\n")
        sample = sample[: cut + 1] if cut > 0 else sample
    scored: list[tuple[float, int, str]] = []
    for order, codec in enumerate(CANDIDATES):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            continue
        if _STRAY.search(text):
            continue
        scored.append((-_plausibility(codec, sample, text), order, codec))
    ranked = sorted(scored)
    likely = [(codec, -score) for score, _, codec in ranked if score < 0]  # above 0
    return likely or [(codec, max(-score, 0.0)) for score, _, codec in ranked]


def _plausibility(codec: str, raw: bytes, text: str) -> float:
    if codec == "utf-8":
        return 1.0
    if codec in ("big5", "gb18030"):
        return common_han_share(text)
    if codec == "cp932":
        # Japanese text is kana and kanji; many frequent kanji are frequent hanzi too, so a
        # file of names in kanji only (東京商事) still counts, while European text read as
        # cp932 turns into rare kanji and half-width kana mixed with Latin letters.
        wide = re.findall(r"[^\x00-\x7f]", text)
        if not wide:
            return 0.0
        kana = re.findall(r"[\u3040-\u30ff\uff66-\uff9f]", text)
        common = sum(ch in _COMMON_HAN for ch in wide)
        return (len(kana) + common) / len(wide)
    if codec == "euc-kr":
        return _hangul_share(text)
    if codec == "cp1251":
        # Cyrillic words are Cyrillic letters side by side; Western text read as cp1251 puts
        # a lone Cyrillic letter inside a Latin word (Renée → Renйe).
        # Other bytes (Shift-JIS lead bytes) land on its symbols and rare letters (Ђ, ‚, Ќ):
        # below most of the text in words, no candidate at all.
        non_ascii = len(re.findall(r"[^\x00-\x7f]", text))
        in_words = len(_CYRILLIC_IN_WORD.findall(text))
        fit = min(in_words / non_ascii, 1.0) if non_ascii else 0.0
        return fit if fit >= 0.6 else 0.0
    if codec == "utf-16":
        ascii_share = sum(ch < "\x80" for ch in text) / max(len(text), 1)
        return ascii_share if ascii_share >= 0.8 else -1.0
    runs = re.findall(rb"[\x80-\xff]+", raw)
    alone = sum(len(r) == 1 for r in runs) / len(runs) if runs else 0.0
    # Western text puts its accented letters inside words (Renée, Müller) and its curly
    # quotes and dashes among words; Big5 or Shift-JIS bytes read this way give symbols
    # (¥, ©, °) next to punctuation instead.
    non_ascii = len(re.findall(r"[^\x00-\x7f]", text))
    in_words = len(_IN_WORD.findall(text))
    fit = min(in_words / non_ascii, 1.0) if non_ascii else 0.0
    return alone * fit - (0.001 if codec == "latin-1" else 0.0)  # cp1252 first when equal


_IN_WORD = re.compile(
    r"(?<=[A-Za-z\u00c0-\u024f])[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]"
    r"|[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f](?=[A-Za-z\u00c0-\u024f])"
    r"|[\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u20ac\u00a3]"
)


_CYRILLIC = "\u0410-\u044f\u0401\u0451\u0406\u0456\u0407\u0457\u0404\u0454\u0490\u0491\u040e\u045e"
_CYRILLIC_IN_WORD = re.compile(
    rf"(?<![A-Za-z])[{_CYRILLIC}](?=[{_CYRILLIC}])|(?<=[{_CYRILLIC}])[{_CYRILLIC}](?![A-Za-z])"
)


_NAMES = {
    "euc-kr": "Korean (EUC-KR)",
    "cp1251": "Cyrillic (Windows-1251)",
    "cp932": "Japanese (Shift-JIS, cp932)",
    "big5": "Traditional Chinese (Big5)",
    "gb18030": "Simplified Chinese (GB18030)",
    "cp1252": "Western European (Windows-1252)",
    "latin-1": "Western European (Latin-1)",
    "utf-16": "UTF-16",
}


def _hint(raw: bytes, fallback: str) -> str:
    ranked = [(c, score) for c, score in ranked_encodings(raw) if c != "utf-8"]
    if not ranked:
        return (
            f"{fallback}; none of {', '.join(CANDIDATES)} decodes it cleanly: is it a text export?"
        )
    listed = ", ".join(f"--encoding {c}" for c, _ in ranked[:3])
    best = ranked[0][1]
    # latin-1 passes only where cp1252 reads the same text (no byte 0x80-0x9f): not a rival
    rivals = [score for c, score in ranked[1:] if (ranked[0][0], c) != ("cp1252", "latin-1")]
    second = rivals[0] if rivals else 0.0
    if best >= 0.5 and best >= 1.5 * second:
        return f"name the file's encoding; it reads as {_NAMES[ranked[0][0]]} text: {listed}"
    return (
        "name the file's encoding with --encoding; not sure which: these decode it cleanly, "
        f"most likely first (check that the names read right): {listed}"
    )


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _mostly_utf8(raw: bytes) -> bool:
    """Whether most non-ASCII bytes of a file that is not all UTF-8 form UTF-8 characters.

    Such a file is UTF-8 with a few rows from elsewhere (a Windows-1252 line pasted in);
    read as GB18030 every accented letter of it would turn into a Chinese character.
    GBK text makes UTF-8 characters only by chance, for a small share of its bytes.
    """
    import numpy as np

    high = int(np.count_nonzero(np.frombuffer(raw, dtype=np.uint8) >= 0x80))
    covered = sum(map(len, _UTF8_SEQUENCE.findall(raw)))
    return high > 0 and covered * 2 >= high


def _plausible_gb18030(raw: bytes) -> bool:
    """Whether bytes that decode as GB18030 look like Chinese text rather than Latin-1.

    Chinese characters are two bytes, both high, and GB18030's four-byte ones go high,
    digit, high, digit, so runs of them have even lengths, and most two-byte characters of
    real text are GB2312's symbols and common hanzi (lead 0xA1-0xD7, trail 0xA1-0xFE).
    Windows-1252, Latin-1 and Shift-JIS text decoded as GB18030 breaks one or the other:
    lone accented letters between ASCII ones ("Renée"), or pairs of lowercase accented
    letters ("ção") and Japanese lead bytes that land in rare parts of the table.
    """
    import numpy as np

    data = np.frombuffer(raw, dtype=np.uint8)
    high = data >= 0x80
    digit = (data >= 0x30) & (data <= 0x39)
    four = np.flatnonzero(high[:-3] & digit[1:-2] & high[2:-1] & digit[3:])
    high[four + 1] = True  # a four-byte character counts as one run of four
    high[four + 3] = True
    edges = np.flatnonzero(np.diff(np.concatenate(([False], high, [False])).astype(np.int8)))
    starts = edges[0::2]
    lengths = edges[1::2] - starts
    if not len(lengths):
        return True
    if np.count_nonzero(lengths % 2) > len(lengths) // 2:
        return False
    pairs = lengths // 2
    run = np.repeat(np.arange(len(starts)), pairs)
    within = np.arange(int(pairs.sum())) - np.repeat(np.cumsum(pairs) - pairs, pairs)
    leads = starts[run] + 2 * within
    lead, trail = data[leads], data[np.minimum(leads + 1, len(data) - 1)]
    two_byte = trail >= 0x80  # four-byte characters (digit trails) are not judged here
    common = two_byte & (lead >= 0xA1) & (lead <= 0xD7) & (trail >= 0xA1)
    judged = int(np.count_nonzero(two_byte))
    return judged == 0 or int(np.count_nonzero(common)) >= 0.8 * judged


def _check_utf8(raw: bytes, chunk: int = 1 << 23) -> None:
    """Raise UnicodeDecodeError unless all of `raw` is UTF-8, without a full-size copy.

    When Arrow is loaded (a whole table is being read) its validator does it ~10× faster;
    the `log` path, which reads a header only, does not load Arrow for it.
    """
    if "pyarrow" in sys.modules and _arrow_says_utf8(raw):
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    try:
        for start in range(0, len(raw), chunk):
            decoder.decode(view[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raw.decode("utf-8")  # the error again, with its position in the whole file
        raise


def _arrow_says_utf8(raw: bytes) -> bool:
    import numpy as np
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int64))
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(raw)])
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _decode_position(raw: bytes, exc: UnicodeDecodeError) -> str:
    line = raw.count(b"\n", 0, exc.start) + 1
    return f"byte {exc.start} (line {line}, byte 0x{raw[exc.start]:02x})"
