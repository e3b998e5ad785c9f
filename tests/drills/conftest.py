"""Drills: hostile conditions run from outside against the real CLI and library.

(Minimal version from the CLI branch; the browser branch's conftest, with its hostile
servers, supersedes it at the merge. The CLI drills need no fixture from here.)
"""
