#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that every code block of one language in the docs is also in the
test sources that compile and run it.

    check-doc-snippets.py LANG --docs A.md B.md ... --sources X Y ...

A ```LANG block of a document is found when its lines, stripped of the
indentation and without the blank lines, follow one another in one of the
sources (where they may sit deeper inside a function). Exits 1 and lists
the blocks that are missing, so that an edit of the docs cannot leave the
tested copy behind (and the other way round).
"""

import re
import sys


def lines_of(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def contains(haystack, needle):
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def main(argv):
    lang = argv[1]
    docs = argv[argv.index('--docs') + 1:argv.index('--sources')]
    sources = argv[argv.index('--sources') + 1:]
    source_lines = []
    for path in sources:
        with open(path, encoding='utf-8') as f:
            source_lines.append(lines_of(f.read()))

    fence = re.compile(r'^```' + re.escape(lang) + r'\n(.*?)^```', re.S | re.M)
    missing = 0
    found = 0
    for doc in docs:
        with open(doc, encoding='utf-8') as f:
            text = f.read()
        for match in fence.finditer(text):
            block = lines_of(match.group(1))
            line_no = text.count('\n', 0, match.start()) + 1
            if any(contains(lines, block) for lines in source_lines):
                found += 1
                print(f'ok {doc}:{line_no}')
            else:
                missing += 1
                print(f'MISSING {doc}:{line_no}: a ```{lang} block not found in '
                      f'{", ".join(sources)}; first line: {block[0] if block else ""!r}')
    print(f'{found} blocks found, {missing} missing')
    return 1 if missing or not found else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
