"""Hidden tests for 04_bptt."""
import numpy as np

from course_lib.grading.spec import as_array, expect_close, test

rng = np.random.default_rng(40)
B, T, H, M = 3, 5, 4, 2
W_HY, W_HH = rng.normal(size=(M, H)), rng.normal(size=(H, H))      # W_hh not symmetric
DY, DHN, HT = rng.normal(size=(B, M)), rng.normal(size=(B, H)), np.tanh(rng.normal(size=(B, H)) * 2)
HS = np.tanh(rng.normal(size=(B, T + 1, H)))
DH = rng.normal(size=(B, T, H))


@test("delta_h_step", points=1)
def output_term_alone(student):
    """δ_h^{T+1} = 0 at the last step: only W_hyᵀ δ_y ⊙ f'"""
    out = student.call("delta_h_step", DY, np.zeros((B, H)), W_HY, W_HH, HT)
    expect_close(out, (DY @ W_HY) * (1 - HT ** 2), "at the last step δ_h = (W_hyᵀ δ_y) ⊙ (1 − h_t²): "
                 "is f'(z_t) = 1 − h_t² applied (not 1 − h_t, not tanh'(h_t))?")


@test("delta_h_step", points=1)
def recurrent_term_alone(student):
    """with δ_y = 0, only W_hhᵀ δ_h^{t+1} ⊙ f' remains (W_hh not symmetric)"""
    out = student.call("delta_h_step", np.zeros((B, M)), DHN, W_HY, W_HH, HT)
    expect_close(out, (DHN @ W_HH) * (1 - HT ** 2), "the recurrent term should be W_hhᵀ δ_h^(t+1), i.e. "
                 "delta_h_next @ W_hh for row vectors (not @ W_hh.T)")


@test("delta_h_step", points=1)
def saturated_units_pass_nothing(student):
    """units with h = ±1 (saturated tanh) get δ = 0"""
    h = np.array([[1.0, -1.0, 0.0, 0.5]] * B)
    out = as_array(student.call("delta_h_step", DY, DHN, W_HY, W_HH, h), "delta_h_step(...)", shape=(B, H))
    expect_close(out[:, :2], np.zeros((B, 2)), "a saturated unit (h = ±1) has f'(z) = 0: multiply by 1 − h_t²")


@test("grad_W_hh", points=1)
def summed_over_time_and_batch(student):
    """a (3, 5) batch of sequences"""
    out = student.call("grad_W_hh", HS, DH)
    expect_close(out, np.einsum("bti,btj->ij", DH, HS[:, :-1]),
                 "∂E/∂W_hh should be Σ_t Σ_batch δ_h^t h_(t-1)ᵀ: summed over every step, paired with the previous state")


@test("grad_W_hh", points=1)
def previous_state_not_current(student):
    """δ_h^t pairs with h_{t-1} (the slide's h^(t) is a typo)"""
    h = np.zeros((1, 3, H))
    h[0, 1] = 1.0                    # only h_1 is non-zero
    dh = np.zeros((1, 2, H))
    dh[0, 1] = rng.normal(size=H)    # only δ_h^2 is non-zero: it pairs with h_1
    out = student.call("grad_W_hh", h, dh)
    expect_close(out, np.outer(dh[0, 1], h[0, 1]), "δ_h^2 must be paired with h_1 = h_(t-1), not h_2")


@test("grad_W_hh", points=1)
def orientation(student):
    """row i, column j: only unit 2's delta and unit 0's previous state are non-zero -> only entry (2, 0)"""
    h = np.zeros((2, 4, H))
    h[:, :-1, 0] = rng.normal(size=(2, 3))          # h_{t-1} non-zero in unit j = 0 only
    dh = np.zeros((2, 3, H))
    dh[:, :, 2] = rng.normal(size=(2, 3))           # δ_h^t non-zero in unit i = 2 only
    out = as_array(student.call("grad_W_hh", h, dh), "grad_W_hh(...)", shape=(H, H))
    ref = np.zeros((H, H))
    ref[2, 0] = (dh[:, :, 2] * h[:, :-1, 0]).sum()
    expect_close(out, ref, "entry (i, j) of ∂E/∂W_hh is Σ δ_i h_j: row = the delta's unit, column = the state's unit")


def _jn(W, h, a, b):
    J = np.eye(W.shape[0])
    for i in range(a + 1, b + 1):
        J = (1 - h[i] ** 2)[:, None] * W @ J
    return np.linalg.norm(J, 2)


@test("jacobian_norm", points=1)
def many_steps(student):
    """from step 1 to step 5 of a sequence"""
    h = np.tanh(rng.normal(size=(6, H)))
    expect_close(student.call("jacobian_norm", W_HH, h, 1, 5), _jn(W_HH, h, 1, 5),
                 "the product J_5 J_4 J_3 J_2 (latest on the left, each diag(1 − h_i²) W_hh) has the wrong norm", rtol=1e-6)


@test("jacobian_norm", points=1)
def zero_steps_is_identity(student):
    """t_from = t_to: the identity, norm 1"""
    h = np.tanh(rng.normal(size=(4, H)))
    expect_close(student.call("jacobian_norm", W_HH, h, 2, 2), 1.0, "no step at all: ∂h_2/∂h_2 = I, norm 1")


@test("jacobian_norm", points=1)
def spectral_not_frobenius(student):
    """the 2-norm (largest singular value), not the Frobenius norm"""
    h = np.zeros((3, H))
    expect_close(student.call("jacobian_norm", W_HH, h, 0, 2), np.linalg.norm(W_HH @ W_HH, 2),
                 "use the spectral norm np.linalg.norm(J, 2), not the Frobenius norm", rtol=1e-6)


# ----------------------------------------------------------------------------- the full backward pass
# The autograd reference and the comparison (with its messages) are the public file's.
import importlib.util as _ilu  # noqa: E402

from course_lib.grading import paths as _paths  # noqa: E402

_spec = _ilu.spec_from_file_location("_public_04", _paths.PUBLIC_TESTS / "04_bptt.py")
_public = _ilu.module_from_spec(_spec)
_spec.loader.exec_module(_public)
bptt_case, compare_bptt = _public.bptt_case, _public.compare_bptt
ALL = ("W_xh", "W_hh", "b_h", "W_hy", "b_y", "h0")


@test("bptt", points=1)
def one_step(student):
    """T = 1: no recurrence in the backward pass at all"""
    compare_bptt(student, bptt_case(3, 1, 2, 4, 2, 101), ALL)


@test("bptt", points=1)
def longer_and_wider(student):
    """B = 4, T = 9, D = 5, H = 6, M = 3"""
    compare_bptt(student, bptt_case(4, 9, 5, 6, 3, 102), ALL)


@test("bptt", points=1)
def one_sequence_zero_start(student):
    """B = 1, h_0 = 0: ∂E/∂h_0 still flows back"""
    params, X, d, h0 = bptt_case(1, 6, 3, 5, 2, 103)
    compare_bptt(student, (params, X, d, np.zeros_like(h0)), ALL)


@test("bptt", points=1)
def saturated_units(student):
    """large inputs saturate tanh: the gradients through saturated units nearly vanish, and must match"""
    params, X, d, h0 = bptt_case(2, 5, 3, 4, 2, 104)
    compare_bptt(student, (params, X * 6, d, h0), ALL)

