"""funcgrad.nn norms, GRUCell and attention against NumPy references (and PyTorch if installed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.errors import ArgumentError, DTypeError, ShapeError, TreeStructureError
from funcgrad.testing import check_grads


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def perturbed(params, seed=1, scale=0.3):
    """``params`` with every leaf moved off its initial value (ones/zeros hide bugs)."""
    r = rng(seed)
    return fg.tree.map(lambda p: p + scale * r.standard_normal(p.shape), params)


# ---------------------------------------------------------------------------
# NumPy references
# ---------------------------------------------------------------------------

def np_layer_norm(x, scale, bias, n_axes, eps):
    axes = tuple(range(-n_axes, 0))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * scale + bias


def np_rms_norm(x, scale, eps):
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * scale


def np_group_norm(x, groups, scale, bias, eps):
    """A loop over examples and groups."""
    out = np.empty_like(x)
    c = x.shape[-1]
    size = c // groups
    for n in range(x.shape[0]):
        for g in range(groups):
            block = x[n, ..., g * size:(g + 1) * size]
            out[n, ..., g * size:(g + 1) * size] = (block - block.mean()) / np.sqrt(
                block.var() + eps)
    return out * scale + bias


def np_gru(params, x, h):
    """PyTorch's GRUCell equations, one gate at a time."""
    hid = h.shape[-1]

    def gate(i):
        cols = slice(i * hid, (i + 1) * hid)
        return (x @ params["w_ih"][:, cols] + params["b_ih"][cols],
                h @ params["w_hh"][:, cols] + params["b_hh"][cols])

    def sig(v):
        return 1.0 / (1.0 + np.exp(-v))

    (ar, br), (az, bz), (an, bn) = gate(0), gate(1), gate(2)
    r, z = sig(ar + br), sig(az + bz)
    n = np.tanh(an + r * bn)
    return (1 - z) * n + z * h


def np_mha(params, q_in, k_in, v_in, heads, allowed=None):
    """Multi-head attention for one example, with a loop over heads and queries.

    ``allowed[h, i, j]`` (bool) says whether query i may attend to key j in head h.
    Returns the output (L, E).
    """
    def lin(p, x):
        return x @ p["w"] + p["b"]

    q, k, v = lin(params["query"], q_in), lin(params["key"], k_in), lin(params["value"], v_in)
    e = q.shape[-1]
    d = e // heads
    L, S = q.shape[0], k.shape[0]
    out = np.zeros((L, e))
    for h in range(heads):
        cols = slice(h * d, (h + 1) * d)
        for i in range(L):
            logits = np.array([q[i, cols] @ k[j, cols] / math.sqrt(d) for j in range(S)])
            keep = np.ones(S, bool) if allowed is None else allowed[h, i]
            w = np.zeros(S)
            w[keep] = np.exp(logits[keep] - logits[keep].max())
            w /= w.sum()
            out[i, cols] = w @ v[:, cols]
    return lin(params["out"], out)


# ---------------------------------------------------------------------------
# LayerNorm, RMSNorm, GroupNorm
# ---------------------------------------------------------------------------

def test_layer_norm_forward_and_shapes():
    x = rng().standard_normal((3, 5, 4)) * 3 + 2
    for shape in (4, (5, 4)):
        ln = nn.LayerNorm(shape)
        params = perturbed(ln.init(rng()))
        n_axes = 1 if shape == 4 else 2
        assert params["scale"].shape == ((4,) if shape == 4 else (5, 4))
        y = ln.apply(params, x)
        np.testing.assert_allclose(y, np_layer_norm(x, params["scale"], params["bias"], n_axes,
                                                    1e-5), rtol=1e-12, atol=1e-12)
    plain = nn.LayerNorm(4, use_scale=False, use_bias=False, eps=0.1)
    assert plain.init(rng()) == {}
    np.testing.assert_allclose(plain.apply({}, x), np_layer_norm(x, 1.0, 0.0, 1, 0.1),
                               rtol=1e-12, atol=1e-12)


def test_rms_norm_forward():
    x = rng().standard_normal((6, 3))
    norm = nn.RMSNorm(3)
    params = perturbed(norm.init(rng()))
    assert sorted(params) == ["scale"]
    np.testing.assert_allclose(norm.apply(params, x), np_rms_norm(x, params["scale"], 1e-6),
                               rtol=1e-12)


@pytest.mark.parametrize("shape,groups", [((2, 6), 3), ((2, 3, 4, 6), 2), ((3, 5, 4), 4),
                                          ((2, 5, 4), 1)])
def test_group_norm_forward_against_loop(shape, groups):
    x = rng(2).standard_normal(shape) * 2 - 1
    gn = nn.GroupNorm(groups, shape[-1])
    params = perturbed(gn.init(rng()))
    np.testing.assert_allclose(gn.apply(params, x),
                               np_group_norm(x, groups, params["scale"], params["bias"], 1e-5),
                               rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("layer,shape", [(nn.LayerNorm(3), (2, 3)),
                                         (nn.LayerNorm((2, 3)), (2, 2, 3)),
                                         (nn.RMSNorm(3), (2, 3)), (nn.GroupNorm(2, 4), (2, 3, 4))])
def test_norm_gradients(layer, shape):
    x = rng(3).standard_normal(shape)
    params = perturbed(layer.init(rng()))
    check_grads(layer.apply, (params, x), order=2)


def test_norms_float32_and_jit_vmap():
    x = rng().standard_normal((4, 6)).astype(np.float32)
    for layer in (nn.LayerNorm(6), nn.RMSNorm(6), nn.GroupNorm(3, 6)):
        params = layer.init(rng(), np.float32)
        y = layer.apply(params, x)
        assert y.dtype == np.float32
        np.testing.assert_allclose(fg.jit(layer.apply)(params, x), y, rtol=1e-5, atol=1e-6)
    ln = nn.LayerNorm(6)
    p = perturbed(ln.init(rng()))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(fg.vmap(ln.apply, in_axes=(None, 0))(p, x64), ln.apply(p, x64),
                               rtol=1e-12)


def test_norm_errors():
    ln = nn.LayerNorm(3)
    with pytest.raises(ShapeError, match=r"shape \(\.\.\., 3\), got x.shape=\(2, 4\)"):
        ln.apply(ln.init(rng()), np.ones((2, 4)))
    with pytest.raises(ShapeError, match=r"params\['scale'\] must have shape \(3,\)"):
        ln.apply({"scale": np.ones(4), "bias": np.zeros(3)}, np.ones((2, 3)))
    with pytest.raises(TreeStructureError, match="must be a dict"):
        ln.apply([np.ones(3)], np.ones((2, 3)))
    with pytest.raises(ArgumentError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ShapeError, match=r"\(N, \.\.\., 4\)"):
        nn.GroupNorm(2, 4).apply(nn.GroupNorm(2, 4).init(rng()), np.ones(4))
    with pytest.raises(ArgumentError, match="eps"):
        nn.RMSNorm(3, eps=-1.0)
    with pytest.raises(ArgumentError, match="rng"):
        ln.init(3)


# ---------------------------------------------------------------------------
# BatchNorm
# ---------------------------------------------------------------------------

def test_batch_norm_state_updates_and_eval_mode():
    bn = nn.BatchNorm(3, momentum=0.2)
    params = perturbed(bn.init(rng()))
    state = bn.init_state()
    assert sorted(state) == ["mean", "var"]
    np.testing.assert_array_equal(state["var"], np.ones(3))
    run_mean, run_var = np.zeros(3), np.ones(3)
    r = rng(5)
    for step in range(3):
        x = r.standard_normal((4, 2, 3)) * [1.0, 2.0, 0.5] + [0.0, 3.0, -1.0]
        y, state = bn.apply(params, x, state=state, train=True)
        flat = x.reshape(-1, 3)
        mu, var = flat.mean(0), flat.var(0)
        np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-5) * params["scale"]
                                   + params["bias"], rtol=1e-12, atol=1e-12)
        run_mean = 0.8 * run_mean + 0.2 * mu
        run_var = 0.8 * run_var + 0.2 * flat.var(0, ddof=1)        # unbiased, as PyTorch
        np.testing.assert_allclose(state["mean"], run_mean, rtol=1e-13)
        np.testing.assert_allclose(state["var"], run_var, rtol=1e-13)
    x = r.standard_normal((5, 3))
    y, same = bn.apply(params, x, state=state, train=False)
    assert same is state
    np.testing.assert_allclose(y, (x - run_mean) / np.sqrt(run_var + 1e-5) * params["scale"]
                               + params["bias"], rtol=1e-12)


def test_batch_norm_gradients_train_and_eval():
    bn = nn.BatchNorm(2)
    params = perturbed(bn.init(rng()))
    state = perturbed(bn.init_state(), seed=4, scale=0.1)
    x = rng(6).standard_normal((3, 2, 2))
    check_grads(lambda p, x: bn.apply(p, x, state=state)[0], (params, x), order=2)
    check_grads(lambda p, x: bn.apply(p, x, state=state, train=False)[0], (params, x), order=2)

    # The new state carries no gradient: d(new mean)/dx is zero, though the mean depends on x.
    def new_mean_sum(x):
        return fnp.sum(bn.apply(params, x, state=state)[1]["mean"])
    np.testing.assert_array_equal(fg.grad(new_mean_sum)(x), np.zeros_like(x))


def test_batch_norm_under_jit_with_aux_state():
    bn = nn.BatchNorm(2)
    params = perturbed(bn.init(rng()))
    x = rng(7).standard_normal((8, 2))

    def loss(p, state):
        y, new_state = bn.apply(p, x, state=state)
        return fnp.sum(y ** 3), new_state

    step = fg.jit(fg.value_and_grad(loss, has_aux=True))
    (value, new_state), grads = step(params, bn.init_state())
    (value_e, _), grads_e = fg.value_and_grad(loss, has_aux=True)(params, bn.init_state())
    np.testing.assert_allclose(value, value_e, rtol=1e-12)
    np.testing.assert_allclose(new_state["mean"], 0.1 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(grads["scale"], grads_e["scale"], rtol=1e-12)
    assert bn.init_state(np.float32)["mean"].dtype == np.float32


def test_batch_norm_dtypes():
    """y has x's dtype and the state keeps its own, in both modes (float32 activations with
    float64 statistics here)."""
    bn = nn.BatchNorm(3)
    params = bn.init(rng(), np.float32)
    x = rng(9).standard_normal((4, 3)).astype(np.float32)
    y, state = bn.apply(params, x, state=bn.init_state(np.float64))
    assert y.dtype == np.float32 and state["mean"].dtype == state["var"].dtype == np.float64
    np.testing.assert_allclose(state["mean"], 0.1 * x.astype(np.float64).mean(0), rtol=1e-6)
    y_eval, _ = bn.apply(params, x, state=state, train=False)
    assert y_eval.dtype == np.float32
    step = fg.jit(lambda s: bn.apply(params, x, state=s)[1])
    assert step(bn.init_state(np.float32))["var"].dtype == np.float32


def test_batch_norm_errors():
    bn = nn.BatchNorm(2)
    params = bn.init(rng())
    with pytest.raises(ArgumentError, match="state= is required.*Sequential"):
        bn.apply(params, np.ones((3, 2)))
    with pytest.raises(ShapeError, match="more than one value per channel"):
        bn.apply(params, np.ones((1, 2)), state=bn.init_state())
    with pytest.raises(TreeStructureError, match=r"keys \['mean', 'var'\]"):
        bn.apply(params, np.ones((3, 2)), state={"mean": np.zeros(2)})
    with pytest.raises(ShapeError, match=r"params\['var'\] must have shape \(2,\)"):
        bn.apply(params, np.ones((3, 2)), state={"mean": np.zeros(2), "var": np.ones(3)})
    with pytest.raises(ArgumentError, match="momentum"):
        nn.BatchNorm(2, momentum=1.5)


def test_batch_norm_matches_torch():
    torch = pytest.importorskip("torch")
    x = rng(8).standard_normal((6, 4, 3))
    ref = torch.nn.BatchNorm1d(3, momentum=0.1, eps=1e-5).double()
    xt = torch.tensor(x.transpose(0, 2, 1))                     # NCL for PyTorch
    bn = nn.BatchNorm(3)
    state = bn.init_state()
    for _ in range(2):
        y_ref = ref(xt).detach().numpy().transpose(0, 2, 1)
        y, state = bn.apply(bn.init(rng()), x, state=state)
        np.testing.assert_allclose(y, y_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state["mean"], ref.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(state["var"], ref.running_var.numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------
# GRUCell
# ---------------------------------------------------------------------------

def test_gru_cell_forward_shapes_and_grads():
    cell = nn.GRUCell(3, 4)
    params = cell.init(rng())
    assert {k: v.shape for k, v in params.items()} == {
        "w_ih": (3, 12), "w_hh": (4, 12), "b_ih": (12,), "b_hh": (12,)}
    assert all(np.abs(v).max() <= 0.5 for v in params.values())
    x, h = rng(1).standard_normal((2, 3)), rng(2).standard_normal((2, 4))
    np.testing.assert_allclose(cell.apply(params, x, h), np_gru(params, x, h), rtol=1e-12)
    check_grads(cell.apply, (params, x, h), order=2)
    assert cell.initial_state((5,)).shape == (5, 4)
    key_params = cell.init(fg.random.key(0))
    assert not np.allclose(key_params["b_ih"], key_params["b_hh"])


def test_gru_cell_matches_torch():
    torch = pytest.importorskip("torch")
    ref = torch.nn.GRUCell(3, 4).double()
    params = {"w_ih": ref.weight_ih.detach().numpy().T, "w_hh": ref.weight_hh.detach().numpy().T,
              "b_ih": ref.bias_ih.detach().numpy(), "b_hh": ref.bias_hh.detach().numpy()}
    x, h = rng(1).standard_normal((2, 3)), rng(2).standard_normal((2, 4))
    expected = ref(torch.tensor(x), torch.tensor(h)).detach().numpy()
    np.testing.assert_allclose(nn.GRUCell(3, 4).apply(params, x, h), expected, rtol=1e-12)


def test_gru_cell_errors():
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ShapeError, match=r"expected h of shape \(\.\.\., 4\)"):
        cell.apply(cell.init(rng()), np.ones(3), np.ones(5))
    with pytest.raises(TreeStructureError, match="'b_hh'"):
        p = cell.init(rng())
        del p["b_hh"]
        cell.apply(p, np.ones(3), np.ones(4))


# ---------------------------------------------------------------------------
# Attention
# ---------------------------------------------------------------------------

def mha_setup(embed=6, heads=2, kdim=None, vdim=None, seed=0):
    mha = nn.MultiheadAttention(embed, heads, kdim=kdim, vdim=vdim)
    return mha, perturbed(mha.init(rng(seed)), scale=0.2)


def test_mha_forward_against_loop_reference():
    mha, params = mha_setup(kdim=4, vdim=5)
    r = rng(3)
    q, k, v = (r.standard_normal(shape) for shape in [(2, 3, 6), (2, 4, 4), (2, 4, 5)])
    out = mha.apply(params, q, k, v)
    assert out.shape == (2, 3, 6)
    for b in range(2):
        np.testing.assert_allclose(out[b], np_mha(params, q[b], k[b], v[b], 2), rtol=1e-11)


def test_attention_masked_key_gets_zero_weight():
    r = rng(4)
    q, k = r.standard_normal((2, 3, 2, 4)), r.standard_normal((2, 5, 2, 4))
    mask = np.ones((2, 1, 1, 5), bool)
    mask[0, ..., 1] = False                  # example 0: key 1 hidden from every query and head
    mask[1, ..., 4] = False
    w = nn.dot_product_attention_weights(q, k, mask=mask)
    assert w.shape == (2, 2, 3, 5)
    np.testing.assert_array_equal(w[0, :, :, 1], 0.0)
    np.testing.assert_array_equal(w[1, :, :, 4], 0.0)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-14)
    # the others renormalise: same as attention over the visible keys only
    keep = [0, 2, 3, 4]
    np.testing.assert_allclose(w[0][..., keep],
                               nn.dot_product_attention_weights(q[:1], k[:1, keep])[0],
                               rtol=1e-12)
    # changing a masked key changes nothing
    k2 = k.copy()
    k2[0, 1] = 100.0
    np.testing.assert_array_equal(nn.dot_product_attention_weights(q, k2, mask=mask)[0], w[0])


def test_mha_mask_and_causal_against_reference():
    mha, params = mha_setup()
    x = rng(5).standard_normal((2, 4, 6))
    mask = rng(6).random((2, 2, 4, 4)) < 0.7
    mask[..., 0] = True                             # every query sees at least one key
    causal = np.tril(np.ones((4, 4), bool))
    causal_all = np.broadcast_to(causal, (2, 4, 4))
    for b in range(2):
        for allowed, kwargs in [(mask[b], {"mask": mask}), (causal_all, {"causal": True}),
                                (mask[b] & causal, {"mask": mask, "causal": True})]:
            np.testing.assert_allclose(mha.apply(params, x, **kwargs)[b],
                                       np_mha(params, x[b], x[b], x[b], 2, allowed=allowed),
                                       rtol=1e-11)
    # causal: the output at position t does not depend on later positions
    later = x.copy()
    later[:, 2:] += 5.0
    y, y_later = mha.apply(params, x, causal=True), mha.apply(params, later, causal=True)
    np.testing.assert_allclose(y[:, :2], y_later[:, :2], rtol=1e-12)
    assert not np.allclose(y[:, 2:], y_later[:, 2:])


def test_attention_fully_masked_row_is_uniform():
    q = rng(7).standard_normal((3, 1, 2))
    mask = np.array([[False, False, False], [True, False, True], [True, True, True]])
    w = nn.dot_product_attention_weights(q, q, mask=mask)[0]
    np.testing.assert_allclose(w[0], [1 / 3] * 3, rtol=1e-14)
    assert w[1, 1] == 0.0 and np.all(np.isfinite(w))


def test_mha_gradients():
    mha, params = mha_setup(embed=4, heads=2)
    x = rng(8).standard_normal((2, 3, 4))
    mask = np.array([True, True, False])
    check_grads(lambda p, x: mha.apply(p, x, mask=mask, causal=True), (params, x), order=2,
                projections=6)
    check_grads(lambda p, x: mha.apply(p, x), (params, x), order=1)


def test_mha_jit_vmap_and_unbatched():
    mha, params = mha_setup()
    x = rng(9).standard_normal((3, 4, 6))
    mask = rng(10).random((3, 1, 4, 4)) < 0.8
    expected = mha.apply(params, x, mask=mask, causal=True)
    f = fg.jit(lambda p, x, m: mha.apply(p, x, mask=m, causal=True))
    np.testing.assert_allclose(f(params, x, mask), expected, rtol=1e-12)
    per_example = fg.vmap(lambda x, m: mha.apply(params, x, mask=m, causal=True))(x, mask)
    np.testing.assert_allclose(per_example, expected, rtol=1e-12)
    np.testing.assert_allclose(mha.apply(params, x[0], mask=mask[0], causal=True), expected[0],
                               rtol=1e-12)
    p32 = fg.tree.map(lambda p: p.astype(np.float32), params)
    y32 = mha.apply(p32, x.astype(np.float32), mask=mask, causal=True)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, expected, rtol=1e-4, atol=1e-5)


def test_mha_dropout():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5)
    assert mha.stochastic
    params = mha.init(rng())
    x = rng(1).standard_normal((2, 3, 4))
    key = fg.random.key(0)
    a = mha.apply(params, x, rng=key)
    np.testing.assert_array_equal(a, mha.apply(params, x, rng=key))
    assert not np.allclose(a, mha.apply(params, x, rng=fg.random.key(1)))
    np.testing.assert_allclose(mha.apply(params, x, train=False),
                               nn.MultiheadAttention(4, 2).apply(params, x), rtol=1e-14)
    with pytest.raises(ArgumentError, match="rng="):
        mha.apply(params, x)
    model = nn.Sequential([mha, nn.LayerNorm(4)])
    assert model.apply(model.init(rng()), x, rng=key).shape == (2, 3, 4)


def test_mha_matches_torch():
    torch = pytest.importorskip("torch")
    ref = torch.nn.MultiheadAttention(6, 3, batch_first=True).double()
    w_in = ref.in_proj_weight.detach().numpy()
    b_in = ref.in_proj_bias.detach().numpy() + rng(1).standard_normal(18) * 0.1
    params = {name: {"w": w_in[i * 6:(i + 1) * 6].T, "b": b_in[i * 6:(i + 1) * 6]}
              for i, name in enumerate(["query", "key", "value"])}
    params["out"] = {"w": ref.out_proj.weight.detach().numpy().T,
                     "b": ref.out_proj.bias.detach().numpy()}
    with torch.no_grad():
        ref.in_proj_bias.copy_(torch.tensor(b_in))
    x = rng(2).standard_normal((2, 5, 6))
    xt = torch.tensor(x)
    causal = np.tril(np.ones((5, 5), bool))
    expected = ref(xt, xt, xt, attn_mask=torch.tensor(~causal), need_weights=False)[0]
    np.testing.assert_allclose(nn.MultiheadAttention(6, 3).apply(params, x, causal=True),
                               expected.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_attention_errors():
    mha, params = mha_setup()
    x = np.ones((2, 4, 6))
    with pytest.raises(DTypeError, match="mask must be boolean"):
        mha.apply(params, x, mask=np.ones((4, 4)))
    with pytest.raises(ShapeError, match=r"mask.shape=\(3, 4\) must broadcast"):
        mha.apply(params, x, mask=np.ones((3, 4), bool))
    with pytest.raises(ShapeError, match="causal=True needs as many queries as keys"):
        mha.apply(params, x, np.ones((2, 5, 6)), causal=True)
    with pytest.raises(ArgumentError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(TreeStructureError, match="keys"):
        mha.apply({"query": params["query"]}, x)
    with pytest.raises(ShapeError, match="expected x of shape"):
        mha.apply(params, np.ones((2, 4, 5)))
    with pytest.raises(ShapeError, match="value"):
        nn.dot_product_attention(np.ones((3, 1, 2)), np.ones((3, 1, 2)), np.ones((4, 1, 2)))
