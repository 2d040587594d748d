#!/usr/bin/env python3
"""Arranges a symbol-ordering file by where the linker found each symbol.

Usage: arrange-order.py LINK_MAP ORDER_IN > ORDER_OUT

LINK_MAP is lld's -Map output for a link of the same objects (in any order).
The linker moves input sections, not functions: a name in the ordering file
pulls its whole input section to the name's position. With function sections
that is the function itself, but the toolchain's static libraries (the
standard library's Swift.o, _Concurrency.o, libdispatch, parts of
FoundationEssentials) keep most functions in one shared .text section per
object, hundreds of kilobytes long. Left where their first hot name falls,
those sections split the hot functions into islands, each costing its own
fault-around window. So:

1. names in their own section (".text.<name>", or a shared one of at most
   16 KiB) come first, in ORDER_IN's order; a name several objects define
   (a local symbol such as "outlined destroy of String?") moves all of them;
2. a name several objects define is dropped if one of them is a large
   shared section: one hot copy would drag that whole section along (this
   is how the regex parser's 480 KB had landed in the middle of the sampling
   loop's code);
3. names in large shared sections come last, so those sections follow the hot
   functions in one piece.
Names the map does not define are dropped (they no longer exist).
"""
import re
import sys
from collections import defaultdict

# A shared section this small costs no more than one large function.
SMALL = 16 * 1024
# lld map columns: VMA, LMA, Size, Align (widths 16, 16, 8, 5, each followed
# by a space), then the output section at indent 0, an input section at 8, a
# symbol at 16.
LINE = re.compile(r'^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (\s*)(\S.*)$')


def read_map(path):
    """Input sections of the executable output sections, {id: (map text,
    section name, size)}, and where each symbol is defined, {symbol: [ids]}."""
    sections = {}
    defined = defaultdict(list)
    executable = False
    current = None
    with open(path) as f:
        for line in f:
            m = LINE.match(line.rstrip('\n'))
            if not m:
                continue
            size, indent, text = int(m.group(1), 16), len(m.group(2)), m.group(3)
            if indent == 0:
                executable = text == '.text' or text.startswith('.text.')
                current = None
            elif not executable:
                continue
            elif indent == 8:
                current = len(sections)
                # "file.o:(.text.name)" or "lib.a(member.o):(.text)"
                section = text[text.rfind(':(') + 2:-1] if text.endswith(')') else text
                sections[current] = (text, section, size)
                # The map lists global symbols only; a local function in its
                # own section is known by the section's name.
                if section.startswith('.text.'):
                    defined[section[len('.text.'):]].append(current)
            elif indent == 16 and current is not None:
                if current not in defined[text]:
                    defined[text].append(current)
    return sections, defined


def movable(section):
    """A function's own section, or a shared one no larger than a function."""
    _, name, size = section
    return name.startswith('.text.') or size <= SMALL


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: arrange-order.py LINK_MAP ORDER_IN > ORDER_OUT')
    sections, defined = read_map(sys.argv[1])
    with open(sys.argv[2]) as f:
        names = [line.strip() for line in f if line.strip()]

    own, shared = [], defaultdict(list)
    dropped_duplicate = dropped_missing = 0
    for name in dict.fromkeys(names):
        places = defined.get(name, [])
        if not places:
            dropped_missing += 1
        elif all(movable(sections[place]) for place in places):
            own.append(name)
        elif len(places) > 1:
            dropped_duplicate += 1
        else:
            shared[places[0]].append(name)

    for name in own:
        print(name)
    for section in shared:
        for name in shared[section]:
            print(name)

    shared_bytes = sum(sections[s][2] for s in shared)
    print(f'arrange-order: {len(own)} functions in their own or small sections first; '
          f'{sum(map(len, shared.values()))} in {len(shared)} shared sections '
          f'({shared_bytes // 1024} KiB) after them; dropped {dropped_duplicate} '
          f'defined in a large shared section too, {dropped_missing} no longer defined',
          file=sys.stderr)
    for section in sorted(shared, key=lambda s: -sections[s][2]):
        print(f'  {sections[section][2] // 1024:5d} KiB, {len(shared[section]):3d} hot: '
              f'{sections[section][0]}', file=sys.stderr)


if __name__ == '__main__':
    main()
