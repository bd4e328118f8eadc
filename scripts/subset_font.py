#!/usr/bin/env python3
"""Regenerates assets/fonts/NotoSansSC-Canopy.otf: the Simplified Chinese face of Noto Sans CJK
cut down to what the window needs, so the Chinese interface renders on a machine without a CJK
font while the binary grows by under 2 MB (the whole face is ~16 MB).

Kept: every character of locales/zh-CN.toml (the interface itself), the 3,755 level-1 hanzi of
GB2312 (the common characters, for topics and payloads in Chinese), CJK symbols and
punctuation, full-width forms and the general punctuation Chinese text uses.

Needs: fonttools (`pip install fonttools`, gives pyftsubset) and the source face
(`apt-get install -y fonts-noto-cjk` gives /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc).
Run from the repository root: `python3 scripts/subset_font.py [SOURCE.ttc]`.
"""
import os
import subprocess
import sys
import tempfile

from fontTools.ttLib import TTCollection

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUT = os.path.join(ROOT, "assets", "fonts", "NotoSansSC-Canopy.otf")
FAMILY = "Noto Sans CJK SC"


def gb2312_level1():
    """Level 1 of GB2312: rows 0xB0..0xD7, cells 0xA1..0xFE (row 0xD7 stops at 0xF9)."""
    chars = []
    for row in range(0xB0, 0xD8):
        last = 0xF9 if row == 0xD7 else 0xFE
        for cell in range(0xA1, last + 1):
            chars.append(bytes([row, cell]).decode("gb2312"))
    return chars


def locale_chars():
    with open(os.path.join(ROOT, "locales", "zh-CN.toml"), encoding="utf-8") as f:
        return set(f.read())


def face_number(path):
    """The index of the Simplified Chinese face inside the collection."""
    for number, font in enumerate(TTCollection(path).fonts):
        if font["name"].getDebugName(1) == FAMILY:
            return number
    sys.exit(f"{path} has no face named {FAMILY}")


def main():
    chars = set(gb2312_level1()) | locale_chars()
    ranges = [(0x3000, 0x303F), (0xFF00, 0xFFEF), (0x2010, 0x2027), (0x00B7, 0x00B7)]
    for start, end in ranges:
        chars |= {chr(c) for c in range(start, end + 1)}
    # Control characters and ASCII are the built-in fonts' job.
    chars = sorted(c for c in chars if ord(c) > 0x7F)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write("".join(chars))
        text_file = f.name
    try:
        subprocess.run(
            [
                "pyftsubset", SOURCE,
                f"--font-number={face_number(SOURCE)}",
                f"--text-file={text_file}",
                f"--output-file={OUT}",
                "--layout-features=",  # egui shapes no OpenType features
                "--no-hinting",
                "--name-IDs=*",  # keep the copyright and licence names
                "--notdef-outline",
            ],
            check=True,
        )
    finally:
        os.unlink(text_file)
    print(f"{OUT}: {len(chars)} characters, {os.path.getsize(OUT):,} bytes")


if __name__ == "__main__":
    main()
