#!/usr/bin/env python3
"""Turns a file into a C source defining `const char SYMBOL[]` with its bytes (NUL-terminated)
and `const unsigned long SYMBOL_len`. Used at build time to embed the default world."""
import sys

src, dst, symbol = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
with open(dst, 'w') as out:
    out.write('/* Generated from %s by scripts/embed.py; do not edit. */\n' % src.split('/')[-1])
    out.write('const char %s[] = {\n' % symbol)
    for i in range(0, len(data), 16):
        out.write('    ' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',\n')
    out.write('    0x00\n};\n')
    out.write('const unsigned long %s_len = %d;\n' % (symbol, len(data)))
