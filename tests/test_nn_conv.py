"""funcgrad.nn convolution and pooling layers (NHWC) against direct NumPy loops and PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.testing import check_grads


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def with_bias(layer, seed=0):
    """Parameters with a nonzero bias (a zero bias would hide a missing one)."""
    params = layer.init(rng(seed))
    if "b" in params:
        params["b"] = rng(seed + 1).standard_normal(params["b"].shape)
    return params


# ---------------------------------------------------------------------------
# NumPy references: loops over output positions (gather) or input positions (scatter)
# ---------------------------------------------------------------------------

def np_conv(x, w, b, stride, pads, dilation, groups):
    """Cross-correlation of x (N, *S, C) with w (*K, C/groups, O), channels last, any rank."""
    k = x.ndim - 2
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    window = [d * (kk - 1) + 1 for d, kk in zip(dilation, w.shape[:k])]
    out_sizes = [(xp.shape[1 + a] - window[a]) // stride[a] + 1 for a in range(k)]
    cin, o = w.shape[-2], w.shape[-1]
    og = o // groups
    out = np.zeros((x.shape[0], *out_sizes, o))
    for n in range(x.shape[0]):
        for pos in np.ndindex(*out_sizes):
            sl = tuple(slice(p * s, p * s + wn, d) for p, s, wn, d in
                       zip(pos, stride, window, dilation))
            patch = xp[(n, *sl)]                                   # (*K, C)
            for g in range(groups):
                part = patch[..., g * cin:(g + 1) * cin]
                out[(n, *pos, slice(g * og, (g + 1) * og))] = np.tensordot(
                    part, w[..., g * og:(g + 1) * og], axes=k + 1)
    return out + (0.0 if b is None else b)


def np_conv_transpose(x, w, b, stride, padding, output_padding, dilation, groups):
    """PyTorch's transposed convolution as a scatter: input pixel (i, j) adds x * flipped kernel
    at (i * s - p + a * d, j * s - p + c * d)."""
    n_, h, wd, cin_total = x.shape
    kh, kw, cin, o = w.shape
    og = o // groups
    out_h = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    out_w = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    out = np.zeros((n_, out_h, out_w, o))
    for n, i, j, c in np.ndindex(n_, h, wd, cin_total):
        g, cl = divmod(c, cin)
        for a in range(kh):
            for q in range(kw):
                r = i * stride[0] - padding[0] + a * dilation[0]
                s = j * stride[1] - padding[1] + q * dilation[1]
                if 0 <= r < out_h and 0 <= s < out_w:
                    out[n, r, s, g * og:(g + 1) * og] += x[n, i, j, c] * w[kh - 1 - a, kw - 1 - q,
                                                                          cl, g * og:(g + 1) * og]
    return out + (0.0 if b is None else b)


# ---------------------------------------------------------------------------
# Conv1d, Conv2d
# ---------------------------------------------------------------------------

CONV2D_CASES = [
    # kwargs, input shape (N, H, W, C_in), C_out
    ({"kernel_size": 3}, (2, 5, 6, 2), 3),
    ({"kernel_size": (2, 3), "stride": (2, 1), "padding": 1}, (1, 6, 5, 2), 4),
    ({"kernel_size": 3, "padding": "SAME", "stride": 2}, (2, 7, 6, 1), 2),
    ({"kernel_size": 2, "dilation": 2, "padding": ((1, 0), (0, 2))}, (1, 6, 6, 3), 2),
    ({"kernel_size": 3, "groups": 2, "padding": 1}, (1, 4, 5, 4), 6),
    ({"kernel_size": 3, "groups": 3, "padding": 1, "bias": False}, (2, 4, 4, 3), 3),  # depthwise
]


@pytest.mark.parametrize("kwargs,shape,c_out", CONV2D_CASES)
def test_conv2d_forward_against_loop(kwargs, shape, c_out):
    conv = nn.Conv2d(shape[-1], c_out, **kwargs)
    params = with_bias(conv)
    assert params["w"].shape == (*conv.kernel_size, shape[-1] // conv.groups, c_out)
    x = rng(3).standard_normal(shape)
    y = conv.apply(params, x)
    pads = conv.padding
    if pads == "SAME":       # the reference needs explicit pairs: JAX's SAME for stride 2, k 3
        pads = tuple(((total := max((-(-n // s) - 1) * s + k - n, 0)) // 2, total - total // 2)
                     for n, s, k in zip(shape[1:3], conv.stride, conv.kernel_size))
    expected = np_conv(x, params["w"], params.get("b"), conv.stride, pads, conv.dilation,
                       conv.groups)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.apply(params, x[0]), expected[0], rtol=1e-12, atol=1e-12)


def test_conv2d_same_padding_keeps_size():
    conv = nn.Conv2d(2, 3, kernel_size=(3, 5), padding="same")
    assert conv.apply(conv.init(rng()), np.ones((1, 7, 8, 2))).shape == (1, 7, 8, 3)


def test_conv1d_forward_against_loop():
    conv = nn.Conv1d(3, 4, kernel_size=3, stride=2, padding=2, dilation=2)
    params = with_bias(conv)
    assert params["w"].shape == (3, 3, 4)
    x = rng(4).standard_normal((2, 9, 3))
    np.testing.assert_allclose(conv.apply(params, x),
                               np_conv(x, params["w"], params["b"], (2,), ((2, 2),), (2,), 1),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layer,shape", [
    (nn.Conv2d(2, 3, kernel_size=2, stride=(1, 2), padding=1), (2, 3, 4, 2)),
    (nn.Conv2d(4, 4, kernel_size=2, groups=2, dilation=(1, 2)), (1, 3, 5, 4)),
    (nn.Conv1d(2, 2, kernel_size=3, padding="SAME"), (2, 5, 2)),
])
def test_conv_gradients(layer, shape):
    params = with_bias(layer)
    x = rng(5).standard_normal(shape)
    check_grads(layer.apply, (params, x), order=2, projections=6)


def test_conv2d_init():
    conv = nn.Conv2d(8, 16, kernel_size=3)
    w = conv.init(rng())["w"]
    fan_in = 8 * 9
    assert abs(w.std() * np.sqrt(fan_in / 2.0) - 1.0) < 0.05
    glorot = nn.Conv2d(8, 16, kernel_size=3, init="glorot").init(rng())["w"]
    assert np.abs(glorot).max() <= np.sqrt(6.0 / (fan_in + 16 * 9))
    assert glorot.std() > 0.8 * np.sqrt(2.0 / (fan_in + 16 * 9))
    lecun = nn.Conv2d(8, 16, kernel_size=3, init=nn.initializers.lecun_normal()).init(
        fg.random.key(0), np.float32)["w"]
    assert lecun.dtype == np.float32 and lecun.shape == (3, 3, 8, 16)
    key = fg.random.key(1)
    a, b = (nn.Conv2d(2, 2, 3).init(key)["w"] for _ in range(2))
    np.testing.assert_array_equal(a, b)


def test_conv2d_matches_torch():
    torch = pytest.importorskip("torch")
    ref = torch.nn.Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0),
                          dilation=(1, 2), groups=2).double()
    params = {"w": ref.weight.detach().numpy().transpose(2, 3, 1, 0),
              "b": ref.bias.detach().numpy()}
    x = rng(6).standard_normal((2, 7, 6, 4))
    expected = ref(torch.tensor(x.transpose(0, 3, 1, 2))).detach().numpy().transpose(0, 2, 3, 1)
    conv = nn.Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                     groups=2)
    np.testing.assert_allclose(conv.apply(params, x), expected, rtol=1e-11, atol=1e-12)


def test_conv_under_jit_and_vmap():
    conv = nn.Conv2d(2, 3, kernel_size=3, padding=1)
    params = with_bias(conv)
    x = rng(7).standard_normal((4, 5, 5, 2))
    y = conv.apply(params, x)
    np.testing.assert_allclose(fg.jit(conv.apply)(params, x), y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fg.vmap(conv.apply, in_axes=(None, 0))(params, x), y,
                               rtol=1e-12, atol=1e-12)
    x32 = x.astype(np.float32)
    p32 = fg.tree.map(lambda p: p.astype(np.float32), params)
    assert conv.apply(p32, x32).dtype == np.float32


# ---------------------------------------------------------------------------
# ConvTranspose2d
# ---------------------------------------------------------------------------

TRANSPOSE_CASES = [
    ({"kernel_size": 2, "stride": 2}, (1, 3, 2, 1), 2),
    ({"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1}, (2, 3, 3, 2), 3),
    ({"kernel_size": (4, 3), "stride": (2, 3), "padding": (1, 2)}, (1, 3, 4, 2), 2),
    ({"kernel_size": 3, "dilation": 2, "padding": 1, "groups": 2}, (1, 4, 3, 4), 2),
    ({"kernel_size": 3, "stride": 2, "padding": 3}, (1, 5, 5, 1), 1),  # padding > span of k
]


@pytest.mark.parametrize("kwargs,shape,c_out", TRANSPOSE_CASES)
def test_conv_transpose2d_against_scatter(kwargs, shape, c_out):
    up = nn.ConvTranspose2d(shape[-1], c_out, **kwargs)
    params = with_bias(up)
    x = rng(8).standard_normal(shape)
    pad = tuple(lo for lo, _ in up.padding)
    expected = np_conv_transpose(x, params["w"], params["b"], up.stride, pad, up.output_padding,
                                 up.dilation, up.groups)
    y = up.apply(params, x)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_string_padding_sizes():
    x = np.ones((1, 3, 4, 1))
    for padding, k, s, expected in [("SAME", 3, 2, (6, 8)), ("VALID", 3, 2, (7, 9)),
                                    ("VALID", 2, 3, (9, 12))]:
        up = nn.ConvTranspose2d(1, 1, kernel_size=k, stride=s, padding=padding)
        assert up.apply(up.init(rng()), x).shape[1:3] == expected
    up = nn.ConvTranspose2d(1, 2, kernel_size=3, stride=2, padding="VALID")
    params = with_bias(up)
    x = rng(9).standard_normal((2, 3, 4, 1))
    np.testing.assert_allclose(up.apply(params, x), np_conv_transpose(
        x, params["w"], params["b"], (2, 2), (0, 0), (0, 0), (1, 1), 1), rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_is_the_gradient_of_conv2d():
    """The transpose of a strided Conv2d with kernel w is ConvTranspose2d with w flipped and
    its channel axes swapped."""
    conv = nn.Conv2d(2, 3, kernel_size=3, stride=2, padding=1, bias=False)
    w = conv.init(rng())["w"]
    x = rng(1).standard_normal((1, 6, 6, 2))
    g = rng(2).standard_normal(conv.apply({"w": w}, x).shape)
    expected = fg.grad(lambda x: fnp.sum(conv.apply({"w": w}, x) * g))(x)
    up = nn.ConvTranspose2d(3, 2, kernel_size=3, stride=2, padding=1, output_padding=1, bias=False)
    np.testing.assert_allclose(up.apply({"w": w[::-1, ::-1].transpose(0, 1, 3, 2)}, g), expected,
                               rtol=1e-12, atol=1e-12)


def test_conv_transpose2d_gradients_and_torch():
    up = nn.ConvTranspose2d(2, 2, kernel_size=3, stride=2, padding=1, output_padding=1)
    params = with_bias(up)
    x = rng(3).standard_normal((1, 2, 3, 2))
    check_grads(up.apply, (params, x), order=2, projections=6)
    torch = pytest.importorskip("torch")
    ref = torch.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1, output_padding=1).double()
    w_pt = ref.weight.detach().numpy()                               # (in, out, kh, kw)
    params = {"w": w_pt.transpose(2, 3, 0, 1)[::-1, ::-1], "b": ref.bias.detach().numpy()}
    expected = ref(torch.tensor(x.transpose(0, 3, 1, 2))).detach().numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(up.apply(params, x), expected, rtol=1e-11, atol=1e-12)


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

def test_conv_errors():
    conv = nn.Conv2d(3, 4, kernel_size=3)
    params = conv.init(rng())
    with pytest.raises(ShapeError, match=r"\(N, H, W, C\).*C=3 channels last.*\(2, 3, 8, 8\)"):
        conv.apply(params, np.ones((2, 3, 8, 8)))
    with pytest.raises(ShapeError, match=r"params\['w'\] must have shape \(3, 3, 3, 4\)"):
        conv.apply({"w": np.ones((3, 3, 4, 3)), "b": np.zeros(4)}, np.ones((1, 5, 5, 3)))
    with pytest.raises(ArgumentError, match="divisible by groups"):
        nn.Conv2d(3, 4, kernel_size=3, groups=2)
    with pytest.raises(ArgumentError, match="kernel_size must be an int >= 1 or 2 of them"):
        nn.Conv2d(3, 4, kernel_size=(3, 3, 3))
    with pytest.raises(ArgumentError, match="padding"):
        nn.Conv2d(3, 4, kernel_size=3, padding="full")
    with pytest.raises(ArgumentError, match="padding"):
        nn.Conv2d(3, 4, kernel_size=3, padding=-1)
    with pytest.raises(ArgumentError, match="init"):
        nn.Conv1d(3, 4, kernel_size=3, init="xavier")
    with pytest.raises(ArgumentError, match="output_padding"):
        nn.ConvTranspose2d(3, 4, kernel_size=3, stride=2, output_padding=2)
    with pytest.raises(ArgumentError, match="output_padding=0 and groups=1"):
        nn.ConvTranspose2d(3, 4, kernel_size=3, stride=2, padding="SAME", output_padding=1)


# ---------------------------------------------------------------------------
# MaxPool2d, AvgPool2d
# ---------------------------------------------------------------------------

def np_pool(x, kernel, stride, pads, kind, count_include_pad=True):
    """A loop over output windows of x (N, H, W, C); padding is -inf (max) or 0 (mean)."""
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=fill)
    ones = np.pad(np.ones(x.shape[1:3]), pads)
    out_h = (xp.shape[1] - kernel[0]) // stride[0] + 1
    out_w = (xp.shape[2] - kernel[1]) // stride[1] + 1
    out = np.empty((x.shape[0], out_h, out_w, x.shape[3]))
    for i, j in np.ndindex(out_h, out_w):
        rows = slice(i * stride[0], i * stride[0] + kernel[0])
        cols = slice(j * stride[1], j * stride[1] + kernel[1])
        window = xp[:, rows, cols, :]
        if kind == "max":
            out[:, i, j] = window.max(axis=(1, 2))
        else:
            count = kernel[0] * kernel[1] if count_include_pad else ones[rows, cols].sum()
            out[:, i, j] = window.sum(axis=(1, 2)) / count
    return out


POOL_CASES = [
    ({"kernel_size": 2}, (2, 4, 6, 3)),
    ({"kernel_size": 3, "stride": 2, "padding": 1}, (1, 7, 6, 2)),
    ({"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 0)}, (2, 5, 7, 1)),
    ({"kernel_size": 3, "stride": 1, "padding": ((0, 2), (1, 1))}, (1, 4, 4, 2)),
]


@pytest.mark.parametrize("kwargs,shape", POOL_CASES)
def test_pooling_forward_against_loop(kwargs, shape):
    x = rng(10).standard_normal(shape)
    pool = nn.MaxPool2d(**kwargs)
    assert pool.init(rng()) is None
    np.testing.assert_array_equal(pool.apply(None, x),
                                  np_pool(x, pool.kernel_size, pool.stride, pool.padding, "max"))
    for include in (True, False):
        avg = nn.AvgPool2d(**kwargs, count_include_pad=include)
        expected = np_pool(x, avg.kernel_size, avg.stride, avg.padding, "mean", include)
        np.testing.assert_allclose(avg.apply(None, x), expected, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(avg.apply(None, x[0]), expected[0], rtol=1e-13, atol=1e-15)


def test_max_pool_gradient_goes_to_the_first_maximum():
    x = np.array([[1.0, 3.0], [3.0, 0.0]]).reshape(1, 2, 2, 1)
    g = fg.grad(lambda x: fnp.sum(nn.MaxPool2d(2).apply(None, x)))(x)
    np.testing.assert_array_equal(g[0, :, :, 0], [[0.0, 1.0], [0.0, 0.0]])
    # without ties: the cotangent lands on the argmax of each window (a scatter written out)
    x = rng(11).standard_normal((2, 4, 4, 3))
    w = rng(12).standard_normal((2, 2, 2, 3))
    g = fg.grad(lambda x: fnp.sum(nn.MaxPool2d(2).apply(None, x) * w))(x)
    expected = np.zeros_like(x)
    for n, i, j, c in np.ndindex(2, 2, 2, 3):
        block = x[n, 2 * i:2 * i + 2, 2 * j:2 * j + 2, c]
        a, b = np.unravel_index(block.argmax(), block.shape)
        expected[n, 2 * i + a, 2 * j + b, c] = w[n, i, j, c]
    np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize("pool", [nn.MaxPool2d(2, stride=1, padding=1),
                                  nn.AvgPool2d(3, stride=2, padding=1),
                                  nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)])
def test_pooling_gradients(pool):
    x = rng(13).standard_normal((2, 4, 3, 2))          # continuous: no ties in a window
    check_grads(lambda x: pool.apply(None, x), (x,), order=2)


def test_pooling_same_jit_vmap_and_float32():
    x = rng(14).standard_normal((3, 5, 5, 2)).astype(np.float32)
    for pool in (nn.MaxPool2d(2, padding="SAME"), nn.AvgPool2d(3, stride=2, padding="same")):
        y = pool.apply(None, x)
        assert y.dtype == np.float32 and y.shape == (3, 3, 3, 2)      # ceil(5 / 2) = 3
        np.testing.assert_allclose(fg.jit(lambda x, p=pool: p.apply(None, x))(x), y, rtol=1e-6)
        np.testing.assert_allclose(fg.vmap(lambda x, p=pool: p.apply(None, x))(x), y, rtol=1e-6)


def test_pooling_matches_torch():
    torch = pytest.importorskip("torch")
    x = rng(15).standard_normal((2, 7, 6, 3))
    xt = torch.tensor(x.transpose(0, 3, 1, 2))

    def back(t):
        return t.numpy().transpose(0, 2, 3, 1)

    np.testing.assert_array_equal(nn.MaxPool2d(3, stride=2, padding=1).apply(None, x),
                                  back(torch.nn.functional.max_pool2d(xt, 3, 2, 1)))
    for include in (True, False):
        expected = back(torch.nn.functional.avg_pool2d(xt, 3, 2, 1, count_include_pad=include))
        np.testing.assert_allclose(
            nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=include).apply(None, x),
            expected, rtol=1e-13)


def test_pooling_errors():
    with pytest.raises(ShapeError, match=r"\(N, H, W, C\) or \(H, W, C\)"):
        nn.MaxPool2d(2).apply(None, np.ones((4, 4)))
    with pytest.raises(ShapeError, match="smaller than the kernel"):
        nn.MaxPool2d(2, padding=2)
    with pytest.raises(ArgumentError, match="stride"):
        nn.AvgPool2d(2, stride=0)
    with pytest.raises(DTypeError, match="floating"):
        nn.AvgPool2d(2).apply(None, np.ones((1, 4, 4, 1), np.int64))
    np.testing.assert_array_equal(nn.MaxPool2d(2).apply(None, np.arange(16).reshape(4, 4, 1)),
                                  [[[5], [7]], [[13], [15]]])
