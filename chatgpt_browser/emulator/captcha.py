"""A captcha a person can read and a script cannot simply parse: the text is drawn as
jittered, rotated strokes (SVG paths, no <text>), crossed by noise curves. Tests read
the answer from the admin API instead."""

from __future__ import annotations

import math
import random
import secrets

# Stroke glyphs on a 4 x 6 grid (x right, y down); each glyph is a list of polylines.
_GLYPHS: dict[str, list[list[tuple[float, float]]]] = {
    "2": [[(0, 1), (1, 0), (3, 0), (4, 1), (4, 2), (0, 6), (4, 6)]],
    "3": [[(0, 0), (4, 0), (2, 2), (4, 3), (4, 5), (3, 6), (1, 6), (0, 5)]],
    "4": [[(3, 6), (3, 0), (0, 4), (4, 4)]],
    "5": [[(4, 0), (0, 0), (0, 3), (3, 3), (4, 4), (4, 5), (3, 6), (0, 6)]],
    "6": [[(3, 0), (1, 0), (0, 2), (0, 5), (1, 6), (3, 6), (4, 5), (4, 4), (3, 3), (0, 3)]],
    "7": [[(0, 0), (4, 0), (1, 6)]],
    "9": [[(4, 3), (1, 3), (0, 2), (0, 1), (1, 0), (3, 0), (4, 1), (4, 4), (3, 6), (1, 6)]],
    "A": [[(0, 6), (2, 0), (4, 6)], [(1, 3.5), (3, 3.5)]],
    "E": [[(4, 0), (0, 0), (0, 6), (4, 6)], [(0, 3), (3, 3)]],
    "H": [[(0, 0), (0, 6)], [(4, 0), (4, 6)], [(0, 3), (4, 3)]],
    "K": [[(0, 0), (0, 6)], [(4, 0), (0, 4)], [(1, 3), (4, 6)]],
    "L": [[(0, 0), (0, 6), (4, 6)]],
    "M": [[(0, 6), (0, 0), (2, 3), (4, 0), (4, 6)]],
    "N": [[(0, 6), (0, 0), (4, 6), (4, 0)]],
    "P": [[(0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)]],
    "R": [[(0, 6), (0, 0), (3, 0), (4, 1), (4, 2), (3, 3), (0, 3)], [(2, 3), (4, 6)]],
    "T": [[(0, 0), (4, 0)], [(2, 0), (2, 6)]],
    "V": [[(0, 0), (2, 6), (4, 0)]],
    "W": [[(0, 0), (1, 6), (2, 3), (3, 6), (4, 0)]],
    "X": [[(0, 0), (4, 6)], [(4, 0), (0, 6)]],
    "Y": [[(0, 0), (2, 3), (4, 0)], [(2, 3), (2, 6)]],
}
ALPHABET = "".join(sorted(_GLYPHS))
_SCALE, _WIDTH, _HEIGHT = 6.0, 200, 70


def new_answer(length: int = 6) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def answer_matches(answer: str | None, given: str) -> bool:
    return answer is not None and given.strip().upper() == answer.upper()


def render_svg(text: str) -> str:
    rng = random.Random(secrets.randbits(64))
    paths = []
    for index, char in enumerate(text):
        angle = math.radians(rng.uniform(-25, 25))
        cx = 22 + index * 30 + rng.uniform(-3, 3)
        cy = 35 + rng.uniform(-6, 6)
        size = _SCALE * rng.uniform(0.9, 1.2)
        for stroke in _GLYPHS[char]:
            points = []
            for x, y in stroke:
                x, y = x - 2 + rng.uniform(-0.25, 0.25), y - 3 + rng.uniform(-0.25, 0.25)
                px = cx + size * (x * math.cos(angle) - y * math.sin(angle))
                py = cy + size * (x * math.sin(angle) + y * math.cos(angle))
                points.append(f"{px:.1f},{py:.1f}")
            paths.append(
                f'<path d="M{" L".join(points)}" stroke="#223" stroke-width="2.6" fill="none" '
                'stroke-linecap="round" stroke-linejoin="round"/>'
            )
    for _ in range(5):
        x0, y0 = rng.uniform(0, 40), rng.uniform(5, 65)
        x1, y1 = rng.uniform(160, 200), rng.uniform(5, 65)
        qx, qy = rng.uniform(60, 140), rng.uniform(-20, 90)
        paths.append(
            f'<path d="M{x0:.1f},{y0:.1f} Q{qx:.1f},{qy:.1f} {x1:.1f},{y1:.1f}" '
            'stroke="#889" stroke-width="1.4" fill="none"/>'
        )
    dots = "".join(
        f'<circle cx="{rng.uniform(0, _WIDTH):.1f}" cy="{rng.uniform(0, _HEIGHT):.1f}" r="1" fill="#99a"/>'
        for _ in range(60)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}"><rect width="100%" height="100%" fill="#f4f4ee"/>'
        + dots
        + "".join(paths)
        + "</svg>"
    )
