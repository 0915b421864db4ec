import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeRdp, DEFAULT_ORDERS, epsilonFor, logAdd, logSub, noiseMultiplierFor, privacySpent, rdpAtOrder,
} from './rdp.js';

function close(actual: number, expected: number, rtol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.abs(expected), `${what}: got ${actual}, expected ${expected} (rtol ${rtol})`);
}

// compute_dp_sgd_privacy.py's grid in TF Privacy (2019-2022)
const TF_CLI_ORDERS = [1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5, ...Array.from({ length: 59 }, (_, k) => 5 + k), 128, 256, 512];
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);

test('the default orders are Opacus DEFAULT_ALPHAS: [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))', () => {
  assert.equal(DEFAULT_ORDERS.length, 151);
  assert.deepEqual(DEFAULT_ORDERS.slice(0, 3), [1.1, 1.2, 1.3]);
  assert.equal(DEFAULT_ORDERS[9], 2); // 1 + 10/10 is an integer order: the exact formula runs there
  assert.deepEqual(DEFAULT_ORDERS.slice(97, 101), [10.8, 10.9, 12, 13]);
  assert.equal(DEFAULT_ORDERS.at(-1), 63);
});

// tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py (as of 868cf54^,
// the last version before the module was deprecated in favour of dp_accounting).
test('TF Privacy test_compute_rdp_no_data / no_sampling / scalar: 0, alpha/(2 sigma^2) = 0.1, 0.07737', () => {
  assert.deepEqual(computeRdp(0, 10, 1, [20]), [0]);
  assert.deepEqual(computeRdp(1, 10, 1, [20]), [0.1]);
  const [r] = computeRdp(0.1, 2, 10, [5]);
  assert.ok(Math.abs(r - 0.07737) < 5e-6, `${r}`); // assertAlmostEqual(places=5)
});

test('TF Privacy test_compute_rdp_sequence: q=0.01, sigma=2.5, 50 steps at integer and fractional orders', () => {
  const rdp = computeRdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100, Infinity]);
  const expected = [6.5007e-04, 1.0854e-03, 2.1808e-03, 2.3846e-02, 1.6742e+02];
  expected.forEach((e, i) => close(rdp[i], e, 1e-4, `order ${[1.5, 2.5, 5, 50, 100][i]}`)); // their rtol
  assert.equal(rdp[5], Infinity);
});

test('dp_accounting test_compute_rdp_poisson_sampled_gaussian: same run; equal at integer orders, an upper bound at 1.5', () => {
  // google/differential-privacy, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant_test.py.
  // Its fractional series adds |C(alpha, i)| terms instead of alternating them, so at alpha = 1.5 it
  // prints 6.7058e-4 where TF Privacy and Opacus (and this code) give 6.5007e-4: a looser bound.
  const rdp = computeRdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]);
  const theirs = [6.70579741e-04, 1.08548710e-03, 2.18075656e-03, 2.38460375e-02, 1.67416308e02];
  for (let i = 1; i < 5; i++) close(rdp[i], theirs[i], 1e-4, `order ${[1.5, 2.5, 5, 50, 100][i]}`);
  assert.ok(rdp[0] < theirs[0] && rdp[0] > theirs[0] * 0.95, `${rdp[0]}`);
});

test('log A_alpha equals a 60-digit quadrature at TF Privacy test_compute_log_a_equals_mp parameters', () => {
  // TF's test integrates with mpmath at run time and compares at rtol 1e-4. These references are
  // the same integral, log1p(∫ N(z; 0, σ²) (((1-q) + q e^((2z-1)/(2σ²)))^α - 1) dz), from
  // mpmath.quad at 60 digits split at 0, α/2, α (the exact binomial sum at integer α agrees to 17
  // digits). Opacus is off by 9e-7 at (1e-6, 1, 27): it takes log(1 - q) where this takes log1p(-q).
  const cases: [number, number, number, number][] = [
    [1e-7, 0.1, 1.01, 4.0034123225263986e-8], [1e-6, 0.1, 256, 3260463.2292971608], [1e-5, 0.1, 256.1, 3263607.0397884213],
    [1e-6, 1, 27, 8.7695113048484979e-10], [1e-4, 1, 1.5, 6.4426869538366497e-9], [1e-3, 1, 2, 1.7182803522145154e-6],
    [0.01, 10, 20, 0.00019129699912842963], [0.1, 100, 20.5, 0.00019991818458068296], [0.99, 0.1, 256, 3263997.4271140211],
    [0.999, 100, 256.1, 3.2601080379731127],
  ];
  for (const [q, sigma, alpha, logA] of cases) close(rdpAtOrder(q, sigma, alpha) * (alpha - 1), logA, 1e-6, `q=${q} σ=${sigma} α=${alpha}`);
});

test('TF Privacy test_get_privacy_spent_check_target_delta: pure DP 1.32783806176 at order 32; (1, 1e-6) Gaussian', () => {
  // also dp_accounting's test_compute_epsilon_delta_pure_dp and test_compute_epsilon_delta_gaussian
  const orders = range(2, 33);
  const spent = privacySpent(orders, orders.map(() => 1.1), 1e-5);
  assert.ok(Math.abs(spent.epsilon - 1.32783806176) < 5e-8, `${spent.epsilon}`);
  assert.equal(spent.order, 32);
  assert.equal(spent.orderAtEdge, true);
  // Their grid starts at order 1.000, which gives NaN (skipped) there and is refused here.
  const fine = Array.from({ length: 98999 }, (_, k) => 0.001 * (k + 1001));
  const eps = privacySpent(fine, computeRdp(1, 4.530877117, 1, fine), 1e-6).epsilon;
  assert.ok(Math.abs(eps - 1) < 5e-8, `${eps}`);
});

test('TF Privacy tests from before its Dec 2020 "Improved conversion" commit match the classic conversion', () => {
  // test_get_privacy_spent_check_target_delta, old form: eps 1.258575 (places=5), order 20
  const orders = range(2, 33);
  const old = privacySpent(orders, computeRdp(0.01, 4, 10000, orders), 1e-5, 'classic');
  assert.ok(Math.abs(old.epsilon - 1.258575) < 5e-6, `${old.epsilon}`);
  assert.equal(old.order, 20);
  // test_check_composition: 8.509656 at order 2.5 then; the current test asserts only eps <= 8.509656
  const grid = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256];
  const a = computeRdp(1e-4, 0.4, 40000, grid);
  const b = computeRdp(0.1, 2, 100, grid);
  const rdp = a.map((x, i) => x + b[i]);
  const classic = privacySpent(grid, rdp, 1e-5, 'classic');
  assert.ok(Math.abs(classic.epsilon - 8.509656) < 5e-6, `${classic.epsilon}`);
  assert.equal(classic.order, 2.5);
  assert.ok(privacySpent(grid, rdp, 1e-5).epsilon <= 8.509656);
});

test('TF Privacy compute_dp_sgd_privacy_test.py Test0-2, both conversions (values before and after Dec 2020)', () => {
  const cases: [number, number, number, number, number, number, number, number][] = [
    // n, batch, sigma, epochs, delta, eps now, eps before, order
    [60000, 150, 1.3, 15, 1e-5, 0.7242234026109595, 0.941870567, 19],
    [100000, 100, 1.0, 30, 1e-7, 1.4154988495444845, 1.70928734, 13],
    [100000000, 1024, 0.1, 10, 1e-7, 5907982.31138195, 5907984.81339406, 1.25],
  ];
  for (const [n, batch, sigma, epochs, delta, now, before, order] of cases) {
    const run = { sampleRate: batch / n, noiseMultiplier: sigma, steps: Math.ceil((epochs * n) / batch), delta, orders: TF_CLI_ORDERS };
    const improved = epsilonFor(run);
    close(improved.epsilon, now, 1e-9, `n=${n} improved`);
    assert.equal(improved.order, order);
    close(epsilonFor({ ...run, conversion: 'classic' }).epsilon, before, 1e-8, `n=${n} classic`);
  }
});

test('TF Privacy tutorials/README.md: MNIST, batch 256 of 60000, sigma 1.1, 60 epochs, delta 1e-5 -> eps 3.01', () => {
  // The README's numbers predate the improved conversion (2019). Its CLI line runs
  // compute_dp_sgd_privacy.py (its grid, ceil(epochs N / batch) steps); its table and expected
  // output come from mnist_dpsgd_tutorial.py (the default grid, epoch * (60000 // 256) steps).
  const q = 256 / 60000;
  const cli = epsilonFor({ sampleRate: q, noiseMultiplier: 1.1, steps: Math.ceil((60 * 60000) / 256), delta: 1e-5, orders: TF_CLI_ORDERS, conversion: 'classic' });
  assert.equal(cli.epsilon.toFixed(2), '3.01');
  const tutorial = (sigma: number, epochs: number) => epsilonFor({ sampleRate: q, noiseMultiplier: sigma, steps: epochs * 234, delta: 1e-5, conversion: 'classic' }).epsilon;
  const printed: [number, number, string][] = [[1.1, 1, '1.03'], [1.1, 2, '1.11'], [1.1, 60, '3.01'], [1.3, 15, '1.19'], [0.7, 45, '7.10']];
  for (const [sigma, epochs, eps] of printed) assert.equal(tutorial(sigma, epochs).toFixed(2), eps, `σ=${sigma}, ${epochs} epochs`);
  // the same run under the conversion Opacus and TF Privacy use now: about 14 % lower
  const now = epsilonFor({ sampleRate: q, noiseMultiplier: 1.1, steps: 60 * 234, delta: 1e-5 }).epsilon;
  assert.ok(now > 2.5 && now < 2.7, `${now}`);
});

test('Opacus examples/mnist_README.md: batch 240 of 60000 -> (2.91, 1e-5) at sigma 1.1, 60 epochs; 1.16 at alpha 17; 6.86', () => {
  // Fixed in commit eb4e69a (2021-03-16), a month before Opacus switched to the improved
  // conversion (PR #167): so the classic one. 250 Poisson-sampled batches an epoch.
  const run = (sigma: number, epochs: number) => epsilonFor({ sampleRate: 240 / 60000, noiseMultiplier: sigma, steps: 250 * epochs, delta: 1e-5, conversion: 'classic' });
  assert.equal(run(1.1, 60).epsilon.toFixed(2), '2.91');
  assert.equal(run(0.7, 45).epsilon.toFixed(2), '6.86');
  const e15 = run(1.3, 15);
  assert.equal(e15.epsilon.toFixed(2), '1.16');
  assert.equal(e15.order, 17);
  const e1 = run(1.3, 1);
  assert.equal(e1.epsilon.toFixed(2), '0.71');
  assert.equal(e1.order, 18);
});

test('Opacus accountants_test.py test_get_noise_multiplier_rdp_epochs / _steps: 1.416 and 1.3562 (places=4)', () => {
  const common = { targetEpsilon: 8, delta: 1e-5, sampleRate: 0.04 };
  const byEpochs = noiseMultiplierFor({ ...common, steps: Math.trunc(90 / 0.04) });
  assert.ok(Math.abs(byEpochs - 1.416) < 5e-5, `${byEpochs}`);
  const bySteps = noiseMultiplierFor({ ...common, steps: 2000 });
  assert.ok(Math.abs(bySteps - 1.3562) < 5e-5, `${bySteps}`);
});

test('noiseMultiplierFor: the sigma found spends at most the target, and 1 % less noise spends more (tight)', () => {
  const cases = [
    { targetEpsilon: 8, delta: 1e-5, sampleRate: 0.04, steps: 2250 },
    { targetEpsilon: 3, delta: 1e-5, sampleRate: 0.004, steps: 15000 },
    { targetEpsilon: 1, delta: 1e-6, sampleRate: 0.01, steps: 500 },
  ];
  for (const c of cases) {
    const sigma = noiseMultiplierFor(c);
    const at = (s: number) => epsilonFor({ ...c, noiseMultiplier: s }).epsilon;
    assert.ok(at(sigma) <= c.targetEpsilon, `ε(${sigma}) = ${at(sigma)}`);
    assert.ok(at(sigma) > c.targetEpsilon - 0.01, `ε(${sigma}) = ${at(sigma)} is not within the tolerance`);
    assert.ok(at(sigma * 0.99) > c.targetEpsilon, `ε(0.99 σ) = ${at(sigma * 0.99)}`);
  }
  // classic conversion: more noise for the same target
  const base = cases[0];
  assert.ok(noiseMultiplierFor({ ...base, conversion: 'classic' }) > noiseMultiplierFor(base));
});

test('noiseMultiplierFor: an unreachable target and bad inputs say so', () => {
  // With no noise limit ε still has a floor: min over orders of -(log δ + log α)/(α - 1) + log(1 - 1/α).
  assert.throws(() => noiseMultiplierFor({ targetEpsilon: 0.05, delta: 1e-5, sampleRate: 0.01, steps: 100 }),
    /no noise multiplier up to 1000000 keeps 100 steps at q = 0.01 within ε = 0.05.*raise ε or δ/);
  assert.throws(() => noiseMultiplierFor({ targetEpsilon: 0, delta: 1e-5, sampleRate: 0.01, steps: 100 }), /target ε = 0 must be a finite number > 0/);
  assert.throws(() => noiseMultiplierFor({ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.01, steps: 100, epsilonTolerance: 0 }), /epsilonTolerance = 0 must be > 0/);
  assert.throws(() => noiseMultiplierFor({ targetEpsilon: 1, delta: 0, sampleRate: 0.01, steps: 100 }), /δ = 0 must be in \(0, 1\)/);
  assert.throws(() => noiseMultiplierFor({ targetEpsilon: 1, delta: 1e-5, sampleRate: 2, steps: 100 }), /sample rate q = 2 is outside \[0, 1\]/);
  assert.throws(() => noiseMultiplierFor({ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.1, steps: 1.5 }), /steps = 1.5 must be an integer >= 0/);
  // nothing sampled: ε does not depend on σ, so no noise is needed
  assert.equal(noiseMultiplierFor({ targetEpsilon: 1, delta: 1e-5, sampleRate: 0, steps: 100 }), 0);
});

test('integer orders (exact binomial sum) and fractional orders (erfc series) agree where they meet', () => {
  const cases: [number, number, number][] = [[0.04, 1.5, 2], [0.04, 1.5, 5], [0.04, 1.5, 10], [0.004, 1.1, 4], [0.004, 1.1, 9], [0.3, 3, 2], [0.3, 3, 7], [0.01, 0.7, 3]];
  for (const [q, sigma, k] of cases) {
    const exact = rdpAtOrder(q, sigma, k);
    for (const d of [-1e-7, 1e-7]) close(rdpAtOrder(q, sigma, k + d), exact, 1e-5, `q=${q} σ=${sigma} α=${k}${d > 0 ? '+' : '-'}`);
  }
});

test('fractional orders match a trapezoid quadrature of the moment integral', () => {
  // independent of both series: A_α = E_{z ~ N(0, σ²)}[((1 - q) + q e^((2z - 1)/(2σ²)))^α]
  const logA = (q: number, sigma: number, alpha: number) => {
    const h = sigma / 40;
    let acc = -Infinity;
    for (let z = -14 * sigma; z <= alpha + 14 * sigma; z += h) {
      const inner = logAdd(Math.log1p(-q), Math.log(q) + (2 * z - 1) / (2 * sigma * sigma));
      acc = logAdd(acc, -(z * z) / (2 * sigma * sigma) + alpha * inner);
    }
    return acc + Math.log(h / (sigma * Math.sqrt(2 * Math.PI)));
  };
  for (const [q, sigma, alpha] of [[0.04, 1.5, 3.9], [0.01, 2.5, 1.5], [0.1, 1, 7.3], [0.004, 1.1, 9.1], [0.5, 0.8, 2.5], [0.3, 4, 17.5]]) {
    close(rdpAtOrder(q, sigma, alpha) * (alpha - 1), logA(q, sigma, alpha), 1e-8, `q=${q} σ=${sigma} α=${alpha}`);
  }
});

test('q = 1 is the Gaussian alpha/(2 sigma^2), and both series tend to it as q -> 1; sigma = 0 is no privacy', () => {
  for (const [sigma, alpha] of [[1, 2], [1.5, 7], [3, 32], [1, 2.5], [2, 9.1]]) {
    assert.equal(rdpAtOrder(1, sigma, alpha), alpha / (2 * sigma * sigma));
    close(rdpAtOrder(1 - 1e-9, sigma, alpha), alpha / (2 * sigma * sigma), 1e-6, `σ=${sigma} α=${alpha}`);
  }
  assert.deepEqual(computeRdp(0.1, 0, 3, [2, 2.5]), [Infinity, Infinity]);
  assert.deepEqual(computeRdp(0, 0, 3, [2, 2.5]), [0, 0]); // nothing sampled: nothing spent
  assert.equal(privacySpent([2, 2.5], [Infinity, Infinity], 1e-5).epsilon, Infinity);
  assert.deepEqual(computeRdp(0.1, 1, 0, [2, 2.5]), [0, 0]);
});

test('RDP is linear in steps; epsilon grows with steps and q and falls with sigma', () => {
  const one = computeRdp(0.02, 1.2, 1);
  const many = computeRdp(0.02, 1.2, 777);
  one.forEach((r, i) => close(many[i], r * 777, 1e-15, `order ${DEFAULT_ORDERS[i]}`));
  const eps = (sampleRate: number, noiseMultiplier: number, steps: number) => epsilonFor({ sampleRate, noiseMultiplier, steps, delta: 1e-5 }).epsilon;
  const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]);
  assert.ok(increasing([10, 100, 1000, 5000, 20000].map((n) => eps(0.01, 1.1, n))));
  assert.ok(increasing([4, 2, 1.5, 1, 0.7, 0.5].map((s) => eps(0.01, s, 1000))));
  assert.ok(increasing([0.001, 0.004, 0.01, 0.04, 0.1, 0.5, 1].map((q) => eps(q, 1.1, 1000))));
  // and order by order, not only after the minimum
  const a = computeRdp(0.01, 1.1, 1);
  const b = computeRdp(0.02, 1.1, 1);
  const c = computeRdp(0.02, 0.9, 1);
  a.forEach((r, i) => assert.ok(r < b[i] && b[i] < c[i], `order ${DEFAULT_ORDERS[i]}`));
});

test('the improved conversion is below the classic one at every order; the edge flag marks a grid too narrow', () => {
  const rdp = computeRdp(0.004, 1.1, 15000);
  const improved = privacySpent(DEFAULT_ORDERS, rdp, 1e-5);
  const classic = privacySpent(DEFAULT_ORDERS, rdp, 1e-5, 'classic');
  assert.ok(improved.epsilon < classic.epsilon);
  assert.equal(improved.orderAtEdge, false);
  const narrow = [2, 3, 4];
  assert.equal(privacySpent(narrow, computeRdp(0.004, 1.1, 15000, narrow), 1e-5).orderAtEdge, true);
});

test('log-space helpers', () => {
  close(logAdd(Math.log(2), Math.log(3)), Math.log(5), 1e-15, 'log 2 + log 3');
  assert.equal(logAdd(-Infinity, 1.5), 1.5);
  close(logSub(Math.log(5), Math.log(3)), Math.log(2), 1e-15, 'log 5 - log 3');
  assert.equal(logSub(2, 2), -Infinity);
  assert.equal(logSub(2, -Infinity), 2);
  assert.equal(logSub(1000, 1), 1000); // e^999 overflows: the smaller term is negligible
  assert.ok(Number.isNaN(logSub(1, 2)));
});

test('bad inputs name the value and what to pass', () => {
  assert.throws(() => computeRdp(-0.1, 1, 1), /sample rate q = -0.1 is outside \[0, 1\]: pass the probability that one example is in a batch/);
  assert.throws(() => computeRdp(1.1, 1, 1), /q = 1.1 is outside \[0, 1\]/);
  assert.throws(() => computeRdp(NaN, 1, 1), /q = NaN is outside/);
  assert.throws(() => computeRdp(0.1, -1, 1), /noise multiplier σ = -1 must be a finite number >= 0/);
  assert.throws(() => computeRdp(0.1, Infinity, 1), /σ = Infinity must be a finite number/);
  assert.throws(() => computeRdp(0.1, 1, 2.5), /steps = 2.5 must be an integer >= 0: pass the number of noisy optimizer steps/);
  assert.throws(() => computeRdp(0.1, 1, -1), /steps = -1 must be an integer >= 0/);
  assert.throws(() => computeRdp(0.1, 1, 1, []), /RDP orders \[\] must be a non-empty array/);
  assert.throws(() => computeRdp(0.1, 1, 1, [2, 1]), /RDP order 1 must be a number > 1/);
  assert.throws(() => privacySpent([2], [0.1], 0), /δ = 0 must be in \(0, 1\): pass a small probability/);
  assert.throws(() => privacySpent([2], [0.1], 1), /δ = 1 must be in \(0, 1\)/);
  assert.throws(() => privacySpent([2, 3], [0.1], 1e-5), /2 RDP orders but 1 RDP values/);
  assert.throws(() => privacySpent([2], [0.1], 1e-5, 'tight' as never), /conversion 'tight' is not one of improved, classic/);
});
