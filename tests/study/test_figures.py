"""Figures check what they draw: reference lines on a dense grid, error bars at the replicate
means, labelled axes and a legend entry for every mark; no pyplot state is touched."""

import matplotlib
import numpy as np
import pytest

from csuper.study import QUESTIONS
from csuper.study.figures import FIGURES, draw, save_figure

from .test_questions import CFG, _answer, _scaling, _transition


def _check_axes(fig):
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
        labels = [h.get_label() for h in ax.get_legend_handles_labels()[0]]
        legend = ax.get_legend()
        assert legend is not None and labels
        for line in ax.get_lines():
            if line.get_label().startswith("_"):
                continue  # error-bar pieces belong to their container's entry
            assert line.get_label() in [t.get_text() for t in legend.get_texts()]


def test_q1_reference_line_is_min_x_1_on_a_dense_grid(synthetic):
    # issue 12, defect 1: the line must be y = min(x, n) (here in units of n), not a straight
    # segment between two end points on a log axis
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    res = _answer("Q1", _scaling(synthetic, lambda m: min(m.n_features, 0.5 * m.cs_capacity)))
    fig = draw(res, CFG)
    assert plt.get_fignums() == before
    a = fig.axes[0]
    ref = next(line for line in a.get_lines() if line.get_label().startswith("recovered = CS"))
    x, y = ref.get_data()
    assert x.size >= 100
    np.testing.assert_allclose(y, np.minimum(x, 1.0))
    sample = np.geomspace(x.min(), x.max(), 7)
    np.testing.assert_allclose(np.interp(sample, x, y), np.minimum(sample, 1.0), rtol=0.02)
    coef = res.data["constant"]["fit"].laws["statistical_dimension"].coefficient
    fitline = next(line for line in a.get_lines() if line.get_label().startswith("fit"))
    fx, fy = fitline.get_data()
    np.testing.assert_allclose(fy, np.minimum(coef * fx, 1.0))
    # the plotted points are the replicate means of the recovered fraction, with their SE
    models = res.data["constant"]["models"]
    container = a.containers[0]
    px, py = container.lines[0].get_data()
    np.testing.assert_allclose(px, [m.cs_capacity / m.n_features for m in models])
    np.testing.assert_allclose(
        py, [np.mean([r.recovered / m.n_features for r in m.replicates]) for m in models]
    )
    assert a.get_xscale() == "log"
    _check_axes(fig)


def test_q4_draws_the_bracket_and_the_prediction():
    res = _answer("Q4", [_transition(0.9, 1.1, 1.0)])
    fig = draw(res, CFG)
    ax = fig.axes[0]
    spans = [p for p in ax.patches if p.get_label().endswith("located bracket")]
    assert len(spans) == 1
    span = spans[0]
    x0 = span.get_x() if hasattr(span, "get_x") else span.get_xy()[:, 0].min()
    x1 = x0 + span.get_width() if hasattr(span, "get_width") else span.get_xy()[:, 0].max()
    assert (x0, x1) == pytest.approx((0.9, 1.1))
    pred = next(line for line in ax.get_lines() if line.get_label().endswith("prediction"))
    assert pred.get_xdata()[0] == pytest.approx(1.0)
    _check_axes(fig)


def test_every_question_has_a_figure_function_and_empty_answers_draw_nothing():
    assert set(FIGURES) == set(QUESTIONS)
    from csuper.study.questions import answer_questions

    for res in answer_questions([], CFG):
        assert draw(res, CFG) is None


def test_saving_leaves_the_backend_and_pyplot_alone(tmp_path, synthetic):
    import matplotlib.pyplot as plt

    backend = matplotlib.get_backend()
    figs = plt.get_fignums()
    res = _answer("Q1", _scaling(synthetic, lambda m: 2.0 * m.n_dims))
    save_figure(draw(res, CFG), tmp_path / "q1.png")
    assert (tmp_path / "q1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert matplotlib.get_backend() == backend and plt.get_fignums() == figs
