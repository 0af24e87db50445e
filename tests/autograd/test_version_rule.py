"""The version-counter rule has one home (TensorBase._bump_version): no module writes the
counter by hand, so that no in-place writer can forget the check on saved tensors."""

import re
from pathlib import Path

import chainrule as cr

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "chainrule"
BY_HAND = re.compile(r"_version_box\[0\]\s*(\+=|=[^=])")


def _writes_by_hand():
    for path in PACKAGE.rglob("*.py"):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            inside_the_helper = any("def _bump_version" in before
                                    for before in lines[max(0, number - 3):number])
            if BY_HAND.search(line) and not inside_the_helper:
                yield f"{path.relative_to(PACKAGE)}:{number + 1}: {line.strip()}"


def test_every_in_place_writer_bumps_through_the_one_helper():
    offenders = list(_writes_by_hand())
    assert not offenders, "call tensor._bump_version() instead:\n" + "\n".join(offenders)


def test_a_view_and_its_base_share_one_counter():
    base = cr.zeros(4)
    view, detached = base[1:3], base.detach()
    before = base._version
    view.add_(1)
    assert base._version == detached._version == view._version == before + 1
