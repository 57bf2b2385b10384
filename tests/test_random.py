"""funcgrad.random: JAX's numbers bit for bit, the same under jit and vmap, sane statistics, clear errors.

The vectors below were generated once with JAX (see the comment above them); JAX is not
imported here.  Statistical checks use fixed seeds and bounds of five standard errors
derived from each distribution's moments (SciPy gives the truncated normal's).
"""

import math

import numpy as np
import pytest
import scipy.stats

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import random as fr
from funcgrad.errors import ArgumentError, DTypeError, ShapeError
from funcgrad.ops.random_bits import threefry2x32, threefry2x32_p

# Generated with jax 0.10.2 (jax_enable_x64=True, jax_threefry_partitionable=True: its default),
# jax.random.* with raw keys jax.random.PRNGKey(seed); arrays flattened (C order).
KEYS = {
    0: [0, 0],
    1: [0, 1],
    42: [0, 42],
    2147483647: [0, 2147483647],
    1099511627781: [256, 5],
    -1: [4294967295, 4294967295],
    -1099511627776: [4294967040, 0],
}
SPLIT = {  # (seed, num): keys
    (0, 2): [1797259609, 2579123966, 928981903, 3453687069],
    (42, 3): [1832780943, 270669613, 64467757, 2916123636, 2465931498, 255383827],
    (7, (2, 2)): [3625411723, 1954958720, 195045567, 4062205631, 966301609, 1948237315, 276534068, 1641862660],
    (1, 1): [507451445, 1853169794],
}
FOLD_IN = {  # (seed, data): key
    (0, 0): [1797259609, 2579123966],
    (0, 1): [928981903, 3453687069],
    (42, 4294967295): [2398536845, 3890976714],
    (3, 12345): [2621364815, 2472445692],
}
BITS = {  # (seed, shape, dtype): values
    (0, (5,), 'uint8'): [167, 146, 40, 53, 183],
    (0, (5,), 'uint16'): [20391, 13970, 3624, 43061, 15287],
    (0, (5,), 'uint32'): [4070199207, 4202968722, 1427181096, 2012915765, 2447653815],
    (0, (5,), 'uint64'): [7719171245655871230, 3989946895414531357, 17807037942121513089, 10597664315880824766, 9817845818006947190],
    (42, (2, 3), 'uint8'): [162, 217, 249, 215, 21, 216],
    (42, (2, 3), 'uint16'): [5026, 12505, 63993, 49623, 29461, 20184],
    (42, (2, 3), 'uint32'): [2098992034, 2919706841, 2646866425, 2409546199, 1935504149, 2516274904],
    (42, (2, 3), 'uint64'): [7871734211187709741, 276886910877598708, 10591095138341673235, 13462782411356743825, 12687676868490354166, 11878554724538143822],
    (3, (), 'uint8'): [126],
    (3, (), 'uint16'): [7550],
    (3, (), 'uint32'): [318053758],
    (3, (), 'uint64'): [15963681350020464357],
}
UNIFORM = {  # (seed, shape, dtype, minval, maxval): values (repr of the float32/float64 values)
    (0, (7,), 'float32', 0.0, 1.0): [0.9476670026779175, 0.9785798788070679, 0.33229148387908936, 0.46866846084594727, 0.569888710975647, 0.16550302505493164, 0.31019461154937744],
    (0, (7,), 'float64', 0.0, 1.0): [0.41845711171638644, 0.21629545460551136, 0.9653214611189975, 0.5745005337275046, 0.5322264882505428, 0.35490518026974427, 0.8830089761589903],
    (0, (7,), 'float32', -2.5, 3.1): [2.8069350719451904, 2.9800472259521484, -0.6391677260398865, 0.12454333901405334, 0.6913767457008362, -1.5731830596923828, -0.7629101872444153],
    (42, (2, 3), 'float32', 0.0, 1.0): [0.48870956897735596, 0.6797971725463867, 0.6162714958190918, 0.5610160827636719, 0.4506446123123169, 0.58586585521698],
    (42, (2, 3), 'float64', 0.0, 1.0): [0.4267275666499091, 0.015010069515314584, 0.5741444178995352, 0.7298188969046309, 0.687800341230566, 0.6439377419166104],
    (42, (2, 3), 'float32', -2.5, 3.1): [0.2367735356092453, 1.3068641424179077, 0.9511203169822693, 0.6416900157928467, 0.023609785363078117, 0.7808487415313721],
    (5, (), 'float32', 0.0, 1.0): [0.46637988090515137],
    (5, (), 'float64', 0.0, 1.0): [0.634340617068121],
    (5, (), 'float32', -2.5, 3.1): [0.1117272898554802],
    (0, (7,), 'float64', -2.5, 3.1): [-0.15664017438823608, -1.2887454542091366, 2.9058001822663857, 0.7172029888740258, 0.4804683342030392, -0.5125309904894322, 2.4448502664903455],
    (42, (2, 3), 'float64', -2.5, 3.1): [-0.11032562676050935, -2.4159436107142382, 0.7152087402373969, 1.5869858226659326, 1.3516819108911693, 1.1060513547330177],
    (5, (), 'float64', -2.5, 3.1): [1.052307455581477],
    (9, (5,), 'float32', 0.1, 1000.0): [40.87396240234375, 967.5653686523438, 419.9097900390625, 102.12317657470703, 223.89556884765625],
    (9, (5,), 'float64', 0.1, 1000.0): [657.1486280075645, 33.410213111923944, 623.224129235634, 437.18093554109686, 777.6582391474484],
}
NORMAL = {  # (seed, shape, dtype): values
    (0, (7,), 'float32'): [1.622642159461975, 2.0252647399902344, -0.4335944354534149, -0.07861734926700592, 0.17609089612960815, -0.9720892310142517, -0.49529874324798584],
    (0, (7,), 'float64'): [-0.2058421394796434, -0.7847657764467411, 1.8160866726679836, 0.1878440128937887, 0.08086788103743275, -0.3721107933346203, 1.19016372498863],
    (42, (2, 3), 'float32'): [-0.02830461598932743, 0.4671318531036377, 0.2957029640674591, 0.15354591608047485, -0.12403281778097153, 0.21692314743995667],
    (42, (2, 3), 'float64'): [-0.18471174528191162, -2.169824560397754, 0.18693555179382582, 0.6122653570510959, 0.4896249504757018, 0.36900430470828355],
}
INTEGERS = {  # name: values, for the seed-0 key
    'randint(0, 10, (6,))': [5, 1, 5, 7, 3, 5],
    'randint(-5, 2**40, (3,))': [455620336654, 205709648109, 30795668809],
    'randint(0, 256, (4,), uint8)': [101, 80, 200, 61],
    'permutation(10)': [0, 1, 8, 5, 6, 4, 3, 2, 7, 9],
    'choice(10, (4,), replace=False)': [0, 1, 8, 5],
    'choice(4, (5,), p)': [2, 3, 0, 2, 2],
    'categorical(log p, (5,))': [2, 2, 2, 1, 3],
    'bernoulli(0.3, (8,))': [False, True, False, False, False, False, False, False],
}


# -- JAX's vectors ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", list(KEYS))
def test_key_and_PRNGKey_match_jax(seed):
    for make in (fr.key, fr.PRNGKey):
        k = make(seed)
        assert k.dtype == np.uint32 and k.shape == (2,)
        np.testing.assert_array_equal(k, np.array(KEYS[seed], np.uint32))


@pytest.mark.parametrize("seed, num", list(SPLIT))
def test_split_matches_jax(seed, num):
    out = fr.split(fr.PRNGKey(seed), num)
    shape = (num,) if isinstance(num, int) else num
    assert out.shape == shape + (2,) and out.dtype == np.uint32
    np.testing.assert_array_equal(out.ravel(), SPLIT[seed, num])


@pytest.mark.parametrize("seed, data", list(FOLD_IN))
def test_fold_in_matches_jax(seed, data):
    np.testing.assert_array_equal(fr.fold_in(fr.PRNGKey(seed), data), FOLD_IN[seed, data])
    # an integer array (traced or not) folds in the same
    np.testing.assert_array_equal(fr.fold_in(fr.PRNGKey(seed), np.uint32(data)), FOLD_IN[seed, data])


@pytest.mark.parametrize("seed, shape, dtype", list(BITS))
def test_bits_match_jax(seed, shape, dtype):
    out = fr.bits(fr.PRNGKey(seed), shape, dtype)
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out.ravel(), np.array(BITS[seed, shape, dtype], dtype))


@pytest.mark.parametrize("seed, shape, dtype, lo, hi", list(UNIFORM))
def test_uniform_matches_jax_bit_for_bit(seed, shape, dtype, lo, hi):
    out = fr.uniform(fr.PRNGKey(seed), shape, dtype, lo, hi)
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    expected = np.array(UNIFORM[seed, shape, dtype, lo, hi], dtype)
    np.testing.assert_array_equal(out.ravel().view(f"u{out.dtype.itemsize}"),
                                  expected.view(f"u{expected.dtype.itemsize}"))


@pytest.mark.parametrize("seed, shape, dtype", list(NORMAL))
def test_normal_matches_jax_within_a_few_ulp(seed, shape, dtype):
    # XLA's erf_inv, operation for operation: float32 bit for bit, float64 within 3 ulp (many
    # more draws in tests/test_random_normal.py).
    out = fr.normal(fr.PRNGKey(seed), shape, dtype)
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    maxulp = 0 if dtype == 'float32' else 3
    np.testing.assert_array_max_ulp(out.ravel(), np.array(NORMAL[seed, shape, dtype], dtype), maxulp=maxulp)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normal_is_the_normal_quantile_of_its_uniform(dtype):
    # normal = sqrt(2) erf_inv(u), u uniform in (-1, 1).  An independent oracle: SciPy's ndtri of
    # the exact probabilities (1 + u) / 2 or, above 0, -(ndtri((1 - u) / 2)).  The bounds are
    # those of JAX's erf_inv approximation (funcgrad computes XLA's, see docs/random.md): within
    # 4 ulp (float32) and 30 (float64) for |u| < 0.99; relative 5.5e-6 and 1e-14 in the tails,
    # where 1 - u * u loses the last bits of u.
    import scipy.special

    k = fr.key(0)
    lo = np.nextafter(np.array(-1.0, dtype), np.array(0.0, dtype))
    u = fr.uniform(k, (50_000,), dtype, lo, 1.0).astype(np.float64)
    oracle = np.where(u < 0, scipy.special.ndtri((1 + u) / 2), -scipy.special.ndtri((1 - u) / 2))
    got = fr.normal(k, (50_000,), dtype)
    body = np.abs(u) < 0.99
    maxulp, rtol = (6, 1e-5) if dtype == np.float32 else (40, 2e-14)
    np.testing.assert_array_max_ulp(got[body], oracle[body].astype(dtype), maxulp=maxulp)
    np.testing.assert_allclose(got, oracle, rtol=rtol)


def test_integer_samplers_match_jax():
    k = fr.PRNGKey(0)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    got = {
        "randint(0, 10, (6,))": fr.randint(k, (6,), 0, 10),
        "randint(-5, 2**40, (3,))": fr.randint(k, (3,), -5, 2**40),
        "randint(0, 256, (4,), uint8)": fr.randint(k, (4,), 0, 256, np.uint8),
        "permutation(10)": fr.permutation(k, 10),
        "choice(10, (4,), replace=False)": fr.choice(k, 10, (4,), replace=False),
        "choice(4, (5,), p)": fr.choice(k, 4, (5,), p=p),
        "categorical(log p, (5,))": fr.categorical(k, np.log(p), shape=(5,)),
        "bernoulli(0.3, (8,))": fr.bernoulli(k, 0.3, (8,)),
    }
    for name, value in got.items():
        np.testing.assert_array_equal(value, INTEGERS[name], err_msg=name)
    assert got["randint(0, 10, (6,))"].dtype == np.int64
    assert got["randint(0, 256, (4,), uint8)"].dtype == np.uint8


def test_uniform_is_jaxs_fused_multiply_add_exactly():
    # JAX's CPU backend computes u * (maxval - minval) + minval as one fused multiply-add; the
    # float64 emulation must round a * b + c once, as exact rational arithmetic does.
    from fractions import Fraction

    from funcgrad.random._samplers import _fma64

    rng = np.random.default_rng(0)
    a = rng.random(3000)
    b = rng.standard_normal(3000) * 10.0 ** rng.integers(-5, 6, 3000)
    c = rng.standard_normal(3000) * 10.0 ** rng.integers(-5, 6, 3000)
    c[:1000] = -(a[:1000] * b[:1000]) * (1 + rng.standard_normal(1000) * 1e-15)  # cancellation
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c)]
    np.testing.assert_array_equal(_fma64(a, b, c), exact)
    # ... and the derivative in the bounds is the plain one's
    k = fr.key(4)
    u = fr.uniform(k, (3,))
    g = fg.grad(lambda lo: fnp.sum(fr.uniform(k, (3,), minval=lo, maxval=5.0)))(-1.0)
    np.testing.assert_allclose(g, np.sum(1 - u), rtol=1e-14)


def test_threefry_matches_the_published_known_answer():
    # Random123's known-answer test for threefry2x32_20 (kat_vectors): key = counter = 0.
    out = threefry2x32(np.uint32(0), np.uint32(0), np.uint32(0), np.uint32(0))
    np.testing.assert_array_equal(out, [0x6B200159, 0x99BA4EFE])
    out = threefry2x32(*[np.uint32(0xFFFFFFFF)] * 4)
    np.testing.assert_array_equal(out, [0x1CB996FC, 0xBB002BE7])


# -- shapes ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3, 1)])
def test_zero_size_shapes(shape):
    k = fr.key(0)
    for dtype in (np.uint8, np.uint16, np.uint32, np.uint64):
        out = fr.bits(k, shape, dtype)
        assert out.shape == shape and out.dtype == dtype
    for fn in (fr.uniform, fr.normal, fr.exponential, fr.gumbel):
        for dtype in (np.float32, np.float64):
            out = fn(k, shape, dtype)
            assert out.shape == shape and out.dtype == dtype
    assert fr.split(k, shape).shape == shape + (2,)
    assert fr.randint(k, shape, 0, 3).shape == shape
    assert fg.jit(lambda k: fr.uniform(k, shape))(k).shape == shape


def test_defaults_are_float64_int64_uint32():
    k = fr.key(1)
    assert fr.uniform(k).dtype == fr.normal(k).dtype == fr.exponential(k).dtype == np.float64
    assert fr.randint(k, (), 0, 5).dtype == np.int64
    assert fr.bits(k).dtype == np.uint32
    assert fr.bernoulli(k).dtype == np.bool_ and fr.bernoulli(k).shape == ()
    assert fr.uniform(k, 3).shape == (3,)  # an int shape means (n,)


# -- transformations ---------------------------------------------------------------------
SAMPLERS = {
    "split": lambda k: fr.split(k, 3),
    "fold_in": lambda k: fr.fold_in(k, 7),
    "bits": lambda k: fr.bits(k, (3,)),
    "bits64": lambda k: fr.bits(k, (2, 3), np.uint64),
    "uniform": lambda k: fr.uniform(k, (5,), np.float32, -1.0, 2.0),
    "normal": lambda k: fr.normal(k, (2, 2)),
    "normal_complex": lambda k: fr.normal(k, (3,), np.complex128),
    "bernoulli": lambda k: fr.bernoulli(k, np.array([0.1, 0.5, 0.9])),
    "categorical": lambda k: fr.categorical(k, np.log(np.array([[0.2, 0.8], [0.6, 0.4]])), axis=0),
    "randint": lambda k: fr.randint(k, (4,), -3, 9),
    "permutation": lambda k: fr.permutation(k, np.arange(12.0).reshape(6, 2)),
    "choice": lambda k: fr.choice(k, 6, (3,), replace=False),
    "choice_p": lambda k: fr.choice(k, np.arange(4.0), (3,), p=np.array([0.1, 0.2, 0.3, 0.4])),
    "truncated_normal": lambda k: fr.truncated_normal(k, -1.0, 0.5, (4,)),
    "gumbel": lambda k: fr.gumbel(k, (3,), mode="high"),
    "exponential": lambda k: fr.exponential(k, (3,)),
    "multivariate_normal": lambda k: fr.multivariate_normal(
        k, np.zeros(2), np.array([[2.0, 0.5], [0.5, 1.0]]), (3,)),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_jit_equals_eager(name):
    f = SAMPLERS[name]
    k = fr.key(3)
    eager, jitted = f(k), fg.jit(f)(k)
    assert eager.dtype == jitted.dtype and eager.shape == jitted.shape
    np.testing.assert_array_equal(jitted, eager)


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_vmap_over_keys_equals_a_loop(name):
    f = SAMPLERS[name]
    keys = fr.split(fr.key(11), 4)
    batched = fg.vmap(f)(keys)
    np.testing.assert_array_equal(batched, np.stack([f(k) for k in keys]))


def test_vmap_of_threefry_is_native_and_keys_from_traced_seeds():
    seeds = np.arange(5)
    np.testing.assert_array_equal(fg.vmap(fr.key)(seeds), np.stack([fr.key(int(s)) for s in seeds]))
    np.testing.assert_array_equal(fg.jit(fr.key)(np.int64(-7)), fr.key(-7))
    data = np.arange(4, dtype=np.uint32)
    k = fr.key(5)
    np.testing.assert_array_equal(fg.vmap(lambda d: fr.fold_in(k, d))(data),
                                  np.stack([fr.fold_in(k, int(d)) for d in data]))
    graph = fg.make_graph(fg.vmap(lambda k: fr.bits(k, (3,))))(fr.split(k, 2))
    assert "threefry2x32" in str(graph)  # batched by its own rule, not a loop of calls
    assert threefry2x32_p.batch_rule is not None


def test_grad_of_a_loss_taking_params_and_key():
    def loss(w, key):
        noise = fr.normal(key, w.shape)
        return fnp.sum((w * noise) ** 2)

    w, k = np.array([0.5, -1.0, 2.0]), fr.key(0)
    n = fr.normal(k, (3,))
    np.testing.assert_allclose(fg.grad(loss)(w, k), 2 * w * n * n, rtol=1e-14)
    np.testing.assert_allclose(fg.jit(fg.grad(loss))(w, k), 2 * w * n * n, rtol=1e-14)
    # the bounds of uniform are differentiable: d/dhi (lo + u (hi - lo)) = u
    u = fr.uniform(k, (4,))
    g = fg.grad(lambda hi: fnp.sum(fr.uniform(k, (4,), minval=0.0, maxval=hi)))(2.0)
    np.testing.assert_allclose(g, u.sum(), rtol=1e-14)


def test_dropout_style_mask_under_jit_changes_with_the_key():
    f = fg.jit(lambda k, x: fnp.where(fr.bernoulli(k, 0.5, x.shape), x, 0.0))
    x = np.ones(64)
    a, b = f(fr.key(0), x), f(fr.key(1), x)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, np.where(fr.bernoulli(fr.key(0), 0.5, (64,)), 1.0, 0.0))


# -- statistics ------------------------------------------------------------------------------
N = 100_000


def _check_moments(x, mean, var, mu4=None, what=""):
    """Sample mean and variance within 5 standard errors of the distribution's."""
    x = np.asarray(x, np.float64)
    n = x.size
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / n), (what, x.mean(), mean)
    if mu4 is not None:
        assert abs(x.var() - var) < 5 * math.sqrt((mu4 - var * var) / n), (what, x.var(), var)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_continuous_statistics(dtype):
    k = fr.key(2024)
    u = fr.uniform(k, (N,), dtype)
    assert u.min() >= 0 and u.max() < 1
    _check_moments(u, 0.5, 1 / 12, 1 / 80, "uniform")
    w = fr.uniform(k, (N,), dtype, -3.0, 5.0)
    assert w.min() >= -3 and w.max() < 5
    _check_moments(w, 1.0, 64 / 12, 8.0**4 / 80, "uniform(-3, 5)")
    _check_moments(fr.normal(k, (N,), dtype), 0.0, 1.0, 3.0, "normal")
    _check_moments(fr.exponential(k, (N,), dtype), 1.0, 1.0, 9.0, "exponential")
    var = math.pi ** 2 / 6
    for mode in ("low", "high"):
        _check_moments(fr.gumbel(k, (N,), dtype, mode), np.euler_gamma, var, 5.4 * var * var, mode)
    lo, hi = -0.5, 2.0
    t = fr.truncated_normal(k, lo, hi, (N,), dtype)
    assert t.min() > lo and t.max() < hi
    m, v, _, kurt = scipy.stats.truncnorm.stats(lo, hi, moments="mvsk")
    _check_moments(t, float(m), float(v), float((kurt + 3) * v * v), "truncated_normal")
    z = fr.normal(k, (N,), np.complex128 if dtype == np.float64 else np.complex64)
    _check_moments(z.real, 0.0, 0.5, 0.75, "normal real part")
    _check_moments(z.imag, 0.0, 0.5, 0.75, "normal imag part")


def _check_frequencies(samples, p, what):
    samples = np.asarray(samples).ravel()
    for i, pi in enumerate(p):
        freq = np.mean(samples == i)
        assert abs(freq - pi) < 5 * math.sqrt(pi * (1 - pi) / samples.size) + 1e-12, (what, i, freq, pi)


def test_discrete_statistics():
    k = fr.key(7)
    _check_frequencies(fr.bernoulli(k, 0.3, (N,)), [0.7, 0.3], "bernoulli")
    _check_frequencies(fr.bernoulli(k, 0.3, (N,), mode="high"), [0.7, 0.3], "bernoulli high")
    r = fr.randint(k, (N,), 0, 10)
    assert r.min() >= 0 and r.max() < 10
    _check_frequencies(r, [0.1] * 10, "randint")
    _check_moments(r, 4.5, 8.25, None, "randint")
    p = np.array([0.1, 0.2, 0.3, 0.4])
    _check_frequencies(fr.categorical(k, np.log(p), shape=(N,)), p, "categorical")
    _check_frequencies(fr.choice(k, 4, (N,), p=p), p, "choice with p")
    _check_frequencies(fr.choice(k, 4, (N,)), [0.25] * 4, "choice")
    b = fr.bits(k, (N,))
    bit_freq = ((b[:, None] >> np.arange(32, dtype=np.uint32)) & 1).mean(axis=0)
    assert np.all(np.abs(bit_freq - 0.5) < 5 * math.sqrt(0.25 / N)), bit_freq


def test_permutations_are_uniform():
    keys = fr.split(fr.key(9), 20_000)
    perms = fg.vmap(lambda k: fr.permutation(k, 5))(keys)
    np.testing.assert_array_equal(np.sort(perms, axis=1), np.broadcast_to(np.arange(5), perms.shape))
    _check_frequencies(perms[:, 0], [0.2] * 5, "first element of a permutation")
    draws = fg.vmap(lambda k: fr.choice(k, 6, (3,), replace=False))(keys)
    assert all(len(set(row)) == 3 for row in draws.tolist())
    _check_frequencies(draws[:, 2], [1 / 6] * 6, "choice without replacement")


def test_multivariate_normal_statistics():
    mean = np.array([1.0, -2.0, 0.5])
    a = np.array([[1.0, 0.0, 0.0], [0.5, 1.2, 0.0], [-0.3, 0.4, 0.8]])
    cov = a @ a.T
    for method in ("cholesky", "eigh", "svd"):
        x = fr.multivariate_normal(fr.key(5), mean, cov, (N,), method=method)
        assert x.shape == (N, 3)
        se = np.sqrt(np.diag(cov) / N)
        assert np.all(np.abs(x.mean(0) - mean) < 5 * se), method
        se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / N)
        assert np.all(np.abs(np.cov(x.T) - cov) < 5 * se_cov), method
    k = fr.key(5)
    expected = mean + fr.normal(k, (4, 3)) @ np.linalg.cholesky(cov).T
    np.testing.assert_allclose(fr.multivariate_normal(k, mean, cov, (4,)), expected, rtol=1e-12)


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bad, error, words", [
    (np.zeros(3, np.uint32), ShapeError, "single key of shape (2,)"),
    (np.zeros((4, 2), np.uint32), ShapeError, "vmap"),
    (np.array([0, 42]), DTypeError, "uint32[2]"),
    (np.zeros(2, np.float32), DTypeError, "float32"),
    ("key", ArgumentError, "expected a key"),
])
def test_bad_keys_are_clear_errors(bad, error, words):
    for fn in (lambda k: fr.split(k), lambda k: fr.uniform(k), lambda k: fr.normal(k, (2,)),
               lambda k: fr.fold_in(k, 1), lambda k: fr.randint(k, (), 0, 2)):
        with pytest.raises(error, match=None) as info:
            fn(bad)
        assert words in str(info.value) and "test_random.py" in str(info.value)


def test_bad_arguments_are_clear_errors():
    k = fr.key(0)
    cases = [
        (lambda: fr.key(1.5), DTypeError, "integer"),
        (lambda: fr.key(np.arange(2)), ShapeError, "scalar"),
        (lambda: fr.key(2**64), ArgumentError, "int64"),
        (lambda: fr.uniform(k, (-1, 2)), ShapeError, "non-negative"),
        (lambda: fr.uniform(k, (2.5,)), ArgumentError, "tuple of non-negative ints"),
        (lambda: fr.uniform(k, (2,), np.int32), DTypeError, "floating"),
        (lambda: fr.uniform(k, (2,), minval=np.zeros(3)), ShapeError, "broadcast"),
        (lambda: fr.bits(k, (2,), np.float32), DTypeError, "uint8, uint16, uint32 or uint64"),
        (lambda: fr.randint(k, (2,), 0, 5, np.float64), DTypeError, "integer dtype"),
        (lambda: fr.fold_in(k, 2**32), ArgumentError, "[0, 2**32)"),
        (lambda: fr.fold_in(k, np.arange(2)), ShapeError, "scalar"),
        (lambda: fr.fold_in(k, 1.0), DTypeError, "integer"),
        (lambda: fr.bernoulli(k, 1), DTypeError, "floating"),
        (lambda: fr.bernoulli(k, 0.5, mode="medium"), ArgumentError, "mode"),
        (lambda: fr.categorical(k, np.array([1, 2])), DTypeError, "floating"),
        (lambda: fr.categorical(k, np.zeros((2, 3)), shape=(5,)), ShapeError, "broadcast"),
        (lambda: fr.choice(k, 3, (4,), replace=False), ShapeError, "larger sample"),
        (lambda: fr.choice(k, 3, (2,), p=np.ones(4) / 4), ShapeError, "population size 3"),
        (lambda: fr.permutation(k, 2.5), ArgumentError, "integer"),
        (lambda: fr.multivariate_normal(k, np.zeros(2), np.eye(3)), ShapeError, "(..., n, n)"),
        (lambda: fr.multivariate_normal(k, np.zeros(2), np.eye(2), method="qr"), ArgumentError, "method"),
        (lambda: threefry2x32(np.int32(0), np.uint32(0), np.uint32(0), np.uint32(0)), DTypeError, "uint32"),
    ]
    for fn, error, words in cases:
        with pytest.raises(error) as info:
            fn()
        assert words in str(info.value), (words, str(info.value))


def test_docs_random_page_runs():
    import doctest
    import os

    page = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "random.md")
    result = doctest.testfile(page, module_relative=False, raise_on_error=False, report=True,
                              verbose=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} example(s) in docs/random.md failed (see stdout)"


def test_traced_view_is_a_bitcast():
    x = np.array([1.0, -2.5], np.float32)
    np.testing.assert_array_equal(fg.jit(lambda x: x.view(np.uint32))(x), x.view(np.uint32))
    np.testing.assert_array_equal(fg.vmap(lambda x: x.view(np.int32))(x), x.view(np.int32))
    with pytest.raises(DTypeError, match="sizes must match"):
        fg.jit(lambda x: x.view(np.uint64))(x)
    # and the bit operators are NumPy's bitwise ones on traced integers (logical on booleans)
    u = np.array([0b1100, 0b1010], np.uint32)
    got = fg.jit(lambda u: ((u & 6) | (u >> 1) ^ (u << 2), ~u, ~(u > 10)))(u)
    np.testing.assert_array_equal(got[0], (u & 6) | (u >> 1) ^ (u << 2))
    np.testing.assert_array_equal(got[1], ~u)
    np.testing.assert_array_equal(got[2], ~(u > 10))
