"""The site's live gradient-decay widget draws what the notebook's Python widget draws.

The page redraws from curves measured at build time (course_lib.site_widget) and computes clipping itself
from the unclipped curve; here both are checked against ``gradient_flow.measure``, which the Python widget
calls. (The browser test checks that the page's script draws this data and redraws when a slider moves.)"""
import numpy as np
import pytest
import torch

from course_lib import site_widget
from course_lib.gradient_flow import FlowSettings, measure


@pytest.mark.parametrize("cell,extra", [("rnn", {"rho": 0.95}), ("rnn", {"rho": 1.3, "activation": "relu"}),
                                        ("lstm", {"rho": 1.0, "memory_bias": 2.0}), ("gru", {"rho": 0.75})])
def test_a_grid_entry_is_the_widgets_measurement(cell, extra):
    s = FlowSettings(cell=cell, T=50, hidden=site_widget.HIDDEN, seed=site_widget.SEED, **extra)
    assert s in site_widget.settings_grid()
    e = site_widget.entry(s)
    r = measure(s, dtype=torch.float32)
    got = 10.0 ** np.array([np.nan if v is None else v for v in e["g"]])
    np.testing.assert_allclose(got, r.grad_norm, rtol=0.01)     # 3 decimals of log10: under 0.7 %
    assert len(e["sv"]) == int((~np.isnan(r.jac_sv[:, 0])).sum())


@pytest.mark.parametrize("cell,clip", [("rnn", 0.5), ("rnn", 3.0), ("lstm", 0.1), ("gru", 1e-2)])
def test_clipping_from_the_unclipped_curve_equals_clipping_by_autograd(cell, clip):
    base = FlowSettings(cell=cell, T=60, hidden=16, rho=1.4, input_scale=0.5)
    unclipped = measure(base).grad_norm
    by_autograd = measure(base, clip=clip).grad_norm
    np.testing.assert_allclose(site_widget.clipped(unclipped, clip), by_autograd, rtol=1e-9, atol=1e-300)
    assert site_widget.horizon(by_autograd) == measure(base, clip=clip).horizon


def test_clipping_changes_an_exploding_curve():
    norms = np.array([1.0, 4.0, 16.0, 64.0])
    assert site_widget.clipped(norms, None).tolist() == norms.tolist()
    assert site_widget.clipped(norms, 2.0).tolist() == [1.0, 2.0, 2.0, 2.0]


def test_keys_name_every_setting_once():
    grid = site_widget.settings_grid()
    keys = [site_widget.key(s) for s in grid]
    assert len(set(keys)) == len(keys)
    assert site_widget.key(FlowSettings(rho=0.95, T=100)) == "rnn|tanh|0.95|orthogonal|100|-"
    assert site_widget.key(FlowSettings(cell="lstm", rho=1.0, T=50, memory_bias=3.0, init="gaussian")) \
        == "lstm|-|1|gaussian|50|3"


def test_the_page_starts_at_the_notebooks_setting():
    text = site_widget.html(rho=0.95, T=100, hidden=64)
    assert 'data-rho="0.95"' in text and 'data-t="100"' in text and "gradient_widget.js" in text
