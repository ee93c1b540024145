"""Public tests for 04_bptt."""
import numpy as np

from course_lib.grading.spec import as_array, expect_close, test

rng = np.random.default_rng(4)
B, H, M = 2, 4, 3
DY, DHN = rng.normal(size=(B, M)), rng.normal(size=(B, H))
W_HY, W_HH = rng.normal(size=(M, H)), rng.normal(size=(H, H))
HT = np.tanh(rng.normal(size=(B, H)))


@test("delta_h_step", points=1)
def matches_the_lecture(student):
    """δ_h^t = (W_hyᵀ δ_y^t + W_hhᵀ δ_h^{t+1}) ⊙ (1 − h_t²)"""
    out = as_array(student.call("delta_h_step", DY, DHN, W_HY, W_HH, HT), "delta_h_step(...)", shape=(B, H))
    expect_close(out, (DY @ W_HY + DHN @ W_HH) * (1 - HT ** 2),
                 "δ_h^t differs from (W_hyᵀ δ_y^t + W_hhᵀ δ_h^(t+1)) ⊙ (1 − h_t²)")


@test("grad_W_hh", points=1)
def one_step_is_an_outer_product(student):
    """T = 1: ∂E/∂W_hh = δ_h^1 h_0ᵀ"""
    h = rng.normal(size=(1, 2, H))
    dh = rng.normal(size=(1, 1, H))
    out = as_array(student.call("grad_W_hh", h, dh), "grad_W_hh(...)", shape=(H, H))
    expect_close(out, np.outer(dh[0, 0], h[0, 0]), "with one step, ∂E/∂W_hh = δ_h^1 h_0ᵀ (h_0, not h_1)")


@test("jacobian_norm", points=1)
def one_step_norm(student):
    """one step: ‖diag(1 − h_1²) W_hh‖₂"""
    h = np.tanh(rng.normal(size=(3, H)))
    got = student.call("jacobian_norm", W_HH, h, 0, 1)
    expect_close(got, np.linalg.norm((1 - h[1] ** 2)[:, None] * W_HH, 2),
                 "one step back: the spectral norm of diag(1 − h_1²) W_hh")
