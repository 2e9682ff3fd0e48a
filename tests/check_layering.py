#!/usr/bin/env python3
"""The house's shape, checked: every include between folders goes in the direction the
libraries link (read from the CMakeLists, so the order is said once, there), no source
file passes 800 lines, and no function passes 80 lines except the tables named in
LONG_FUNCTIONS_ALLOWED. Tests (*_test.cc) may include anything."""

import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80
# (file, function name): why it reads better whole.
LONG_FUNCTIONS_ALLOWED = {
    ("daemon/state/projections.cc", "apply"): "the one switch over event kinds that folds the sessions projection",
}
# Folders still being split (each entry names its issue); empty once done.
LONG_FILES_ALLOWED = {
}
# The folders whose code this checks, and the CMake target each one's code is in.
FOLDER_TARGETS = {"cli": "tether_cli_core", "ui": "ui_core", "daemon": "daemon_core"}

LINK_RE = re.compile(r"(?:tether_folder_library\((\w+)\s+DEPENDS|target_link_libraries\((\S+)\s+(?:PUBLIC|PRIVATE))([^)]*)\)")


def link_graph():
    """target -> the tether targets it links directly, from every CMakeLists.txt."""
    graph = {}
    for folder in ("daemon", "cli", "ui"):
        path = os.path.join(ROOT, folder, "CMakeLists.txt")
        if not os.path.exists(path):
            continue
        text = re.sub(r"#.*", "", open(path).read())
        for m in LINK_RE.finditer(text):
            target = "tether_" + m.group(1) if m.group(1) else m.group(2)
            deps = [d for d in m.group(3).split() if d.startswith(("tether_", "daemon_core", "ui_"))]
            graph.setdefault(target, set()).update(deps)
    return graph


def closure(graph, target):
    seen, todo = set(), [target]
    while todo:
        t = todo.pop()
        for d in graph.get(t, ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def target_of(rel):
    """The CMake target a source file belongs to, by its folder."""
    parts = rel.split(os.sep)
    if parts[0] == "daemon" and len(parts) > 2:
        return "tether_" + parts[1]
    return FOLDER_TARGETS.get(parts[0])


def header_target(include):
    """The target a daemon header belongs to: "wire/client.h" -> tether_wire."""
    parts = include.split("/")
    if len(parts) == 2 and os.path.isdir(os.path.join(ROOT, "daemon", parts[0])):
        return "tether_" + parts[0]
    if len(parts) == 1 and os.path.exists(os.path.join(ROOT, "daemon", include)):
        return "daemon_core"
    return None


def functions(lines):
    """(name, first line, length) of each function defined at column 0 and closed by a
    '}' at column 0, the house's layout for functions outside a class."""
    start = name = None
    for i, line in enumerate(lines):
        if start is None:
            m = re.match(r"^[A-Za-z].*?([\w:~]+)\(.*\)\s*(const\s*)?(->.*)?\{\s*$", line)
            if m and not line.startswith(("namespace", "struct", "class", "enum", "union", "extern")):
                start, name = i, m.group(1)
        elif line.startswith("}"):
            yield name, start + 1, i - start + 1
            start = None


def main():
    graph = link_graph()
    problems = []
    for folder in ("daemon", "cli", "ui", "holder", "hook", "plugins"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in sorted(files):
                if not f.endswith((".cc", ".h", ".c", ".hpp")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, ROOT)
                lines = open(path, encoding="utf-8", errors="replace").read().split("\n")
                if len(lines) > MAX_FILE_LINES and rel not in LONG_FILES_ALLOWED:
                    problems.append("%s: %d lines (at most %d)" % (rel, len(lines), MAX_FILE_LINES))
                for name, line, n in functions(lines):
                    if n > MAX_FUNCTION_LINES and (rel, name) not in LONG_FUNCTIONS_ALLOWED:
                        problems.append("%s:%d: %s is %d lines (at most %d)" % (rel, line, name, n, MAX_FUNCTION_LINES))
                own = target_of(rel)
                if f.endswith("_test.cc") or own is None:
                    continue
                allowed = closure(graph, own) | {own}
                for i, line in enumerate(lines, 1):
                    m = re.match(r'#include "([^"]+)"', line)
                    if not m:
                        continue
                    t = header_target(m.group(1))
                    if t and t not in allowed:
                        problems.append("%s:%d: includes %s (%s), which %s does not link" % (rel, i, m.group(1), t, own))
    for p in problems:
        print(p)
    if problems:
        print("%d problem(s); the link order is in daemon/CMakeLists.txt" % len(problems))
        return 1
    print("layering: every include follows the link order; sizes within bounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
