"""The offline proposer: edits config defaults in place and walks knobs by the ledger's evidence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.research.offline import KnobError, OfflineProposer, read_point, read_value, write_value
from harness.research.proposal import ProposalContext
from harness.research.settings import CONFIG_MODULE, Knob, ResearchSettings

ROOT = Path(__file__).parents[2]
LR = Knob("matrix_lr", "log", 0.002, 0.2)
BETA2 = Knob("adam_betas", "linear", 0.5, 0.999, index=1)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "nanochat").mkdir()
    shutil.copy(ROOT / CONFIG_MODULE, tmp_path / CONFIG_MODULE)
    return tmp_path


def _context(tree: Path, history=(), ideas=(), strategy="local") -> ProposalContext:
    return ProposalContext(tree, ResearchSettings(), list(history), {}, list(ideas), strategy)


def test_write_value_changes_only_that_default(tree: Path) -> None:
    source = (tree / CONFIG_MODULE).read_text()
    edited = write_value(source, BETA2, 0.99)
    assert read_value(edited, BETA2) == 0.99
    assert read_value(edited, Knob("adam_betas", index=0)) == 0.8
    changed = [
        (a, b) for a, b in zip(source.splitlines(), edited.splitlines(), strict=True) if a != b
    ]
    assert changed == [
        (
            "    adam_betas: tuple[float, float] = (0.8, 0.95)",
            "    adam_betas: tuple[float, float] = (0.8, 0.99)",
        )
    ]


def test_a_knob_that_names_no_field_is_a_one_line_error(tree: Path) -> None:
    with pytest.raises(KnobError, match=r"knob 'no_such_lr' matches no field defaults"):
        read_value((tree / CONFIG_MODULE).read_text(), Knob("no_such_lr"))


def test_first_proposal_doubles_the_first_knob(tree: Path) -> None:
    proposer = OfflineProposer(ResearchSettings(knobs=(LR, BETA2)))
    proposal = proposer.propose(_context(tree))
    assert proposal.move == {"knob": "matrix_lr", "from": 0.02, "to": 0.04}
    assert proposal.point == {"matrix_lr": 0.04, "adam_betas[1]": 0.95}
    assert read_value(proposal.edits[CONFIG_MODULE], LR) == 0.04


def test_a_direction_that_gained_before_is_tried_first(tree: Path) -> None:
    history = [{"point": {"matrix_lr": 0.02, "adam_betas[1]": 0.9}, "move": {"knob": "adam_betas[1]", "from": 0.95, "to": 0.9},
                "decision": {"gain": 0.001}}]  # fmt: skip
    proposal = OfflineProposer(ResearchSettings(knobs=(LR, BETA2))).propose(_context(tree, history))
    assert proposal.move["knob"] == "adam_betas[1]"
    assert proposal.move["to"] < 0.95


def test_points_already_tried_are_never_proposed_again(tree: Path) -> None:
    proposer = OfflineProposer(ResearchSettings(knobs=(LR,)))
    history, seen = [], set()
    while (proposal := proposer.propose(_context(tree, history))) is not None:
        value = proposal.point["matrix_lr"]
        assert value not in seen
        seen.add(value)
        history.append(
            {"point": proposal.point, "move": proposal.move, "decision": {"gain": -0.01}}
        )
    assert seen == {0.04, 0.01, 0.0283, 0.0141, 0.0238, 0.0168}
    assert proposer.stopped_reason == "the offline search has tried every point near the best"


def test_an_assignment_idea_is_tried_before_any_search_move(tree: Path) -> None:
    ideas = [{"id": "i1", "text": "adam_betas = (0.9, 0.99)", "priority": 1}]
    proposal = OfflineProposer(ResearchSettings(knobs=(LR, BETA2))).propose(
        _context(tree, ideas=ideas)
    )
    assert proposal.idea == "i1"
    assert proposal.point == {"matrix_lr": 0.02, "adam_betas[1]": 0.99}


def test_explore_takes_larger_steps(tree: Path) -> None:
    proposal = OfflineProposer(ResearchSettings(knobs=(LR,))).propose(
        _context(tree, strategy="explore")
    )
    assert proposal.point["matrix_lr"] in (0.08, 0.005)
    assert proposal.strategy == "explore"


def test_read_point_reads_every_knob(tree: Path) -> None:
    assert read_point((tree / CONFIG_MODULE).read_text(), (LR, BETA2)) == {
        "matrix_lr": 0.02,
        "adam_betas[1]": 0.95,
    }
