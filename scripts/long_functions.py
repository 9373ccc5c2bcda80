#!/usr/bin/env python3
"""Fails (exit 1) when a production function of the crate is longer than 120 lines.

Reads the production code of every file under src/ (every `#[cfg(test)]` item removed; files of
test modules, `tests.rs` and `testutil.rs`, are tests and left out), finds every `fn` with a body,
and counts the lines from its signature to its closing brace, nested functions and closures
included. Braces inside strings, chars and comments are skipped.

Also fails when a file holds more than 1,000 lines of production code (lines that are not blank
once the tests are removed; comments count, they are part of what a reader reads).

    python3 scripts/long_functions.py          # from the repository root; .ci/run runs it too
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
TEST_FILES = {"tests.rs", "testutil.rs"}
MAX_FN_LINES = 120
MAX_FILE_LINES = 1000
FN = re.compile(r"\bfn\s+(\w+)")


def production(text: str) -> str:
    """The text with every `#[cfg(test)]` item (a `mod tests;` line or a braced block) blanked."""
    code = blank_literals(text)
    out = list(text)
    for m in re.finditer(r"^[ \t]*#\[cfg\(test\)\]", code, re.M):
        j, depth = m.end(), 0
        while j < len(code):
            if code[j] == ";" and depth == 0:
                break
            if code[j] == "{":
                depth += 1
            elif code[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        for k in range(m.start(), min(j + 1, len(code))):
            if out[k] != "\n":
                out[k] = " "
    return "".join(out)


def code_lines(text: str) -> int:
    """Lines that hold code (not blank once tests are removed)."""
    return sum(1 for line in text.splitlines() if line.strip())


def blank_literals(code: str) -> str:
    """The code with comments, strings and char literals replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(code)
    while i < n:
        c = code[i]
        if code.startswith("//", i):
            j = code.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif code.startswith("/*", i):
            j = code.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", code[i:j]))
            i = j
        elif re.match(r'b?r(#*)"', code[i:i + 12]) and (i == 0 or not (code[i - 1].isalnum() or code[i - 1] == "_")):
            m = re.match(r'b?r(#*)"', code[i:])
            end = '"' + m.group(1)
            j = code.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", code[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and code[j] != '"':
                j += 2 if code[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", code[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", code[i:])
            if m:  # a char literal; otherwise a lifetime
                out.append(" " * m.end())
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(code: str):
    """(name, first line, last line) of every fn with a body."""
    for m in FN.finditer(code):
        depth, j = 0, m.end()
        # the body opens at the first `{` outside parentheses/brackets/angle args; `;` first: no body
        paren = 0
        while j < len(code):
            ch = code[j]
            if ch in "([":
                paren += 1
            elif ch in ")]":
                paren -= 1
            elif ch == ";" and paren == 0:
                j = -1
                break
            elif ch == "{" and paren == 0:
                break
            j += 1
        if j < 0 or j >= len(code):
            continue
        k = j
        while k < len(code):
            if code[k] == "{":
                depth += 1
            elif code[k] == "}":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        first = code.count("\n", 0, m.start()) + 1
        last = code.count("\n", 0, k) + 1
        yield m.group(1), first, last


def main() -> int:
    bad = 0
    for f in sorted(SRC.rglob("*.rs")):
        if f.name in TEST_FILES:
            continue
        code = production(f.read_text(encoding="utf-8"))
        rel = f.relative_to(SRC.parent)
        lines = code_lines(code)
        if lines > MAX_FILE_LINES:
            bad += 1
            print(f"{rel}: {lines} lines of production code (at most {MAX_FILE_LINES})")
        for name, first, last in functions(blank_literals(code)):
            length = last - first + 1
            if length > MAX_FN_LINES:
                bad += 1
                print(f"{rel}:{first}: fn {name} is {length} lines (at most {MAX_FN_LINES})")
    if bad:
        return 1
    print(f"no function over {MAX_FN_LINES} lines, no file over {MAX_FILE_LINES} lines of production code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
