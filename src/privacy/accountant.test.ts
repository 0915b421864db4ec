import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RdpAccountant, stepsWithin } from './accountant.js';
import { epsilonFor } from './rdp.js';

// Opacus opacus/tests/accountants_test.py, test_rdp_accountant and test_accountant_load_state_dict:
// sigma 1.5, q 0.04, int(90 / 0.04) single steps, delta 1e-5 -> epsilon 7.32911117143 (7 places).
const OPACUS_EPS = 7.32911117143;
const SIGMA = 1.5;
const Q = 0.04;
const STEPS = Math.trunc(90 / 0.04);

test('Opacus test_rdp_accountant: 2250 single steps give 7.32911117143, merged into one history entry', () => {
  const acc = new RdpAccountant();
  for (let i = 0; i < STEPS; i++) acc.step({ noiseMultiplier: SIGMA, sampleRate: Q });
  assert.deepEqual(acc.history, [{ noiseMultiplier: SIGMA, sampleRate: Q, steps: 2250 }]);
  assert.ok(Math.abs(acc.getEpsilon(1e-5) - OPACUS_EPS) < 5e-8, `${acc.getEpsilon(1e-5)}`);
  const spent = acc.getPrivacySpent(1e-5);
  assert.equal(spent.order, 3.9);
  // one call with steps = n is the same as n calls
  const bulk = new RdpAccountant();
  bulk.step({ noiseMultiplier: SIGMA, sampleRate: Q, steps: STEPS });
  assert.equal(bulk.getEpsilon(1e-5), acc.getEpsilon(1e-5));
});

test('Opacus test_accountant_load_state_dict: a resume from JSON keeps counting to the same epsilon', () => {
  const acc = new RdpAccountant();
  acc.step({ noiseMultiplier: SIGMA, sampleRate: Q, steps: STEPS - 1000 });
  const text = JSON.stringify(acc); // what a checkpoint stores
  const resumed = RdpAccountant.fromJSON(JSON.parse(text));
  assert.deepEqual(resumed.toJSON(), acc.toJSON());
  assert.equal(resumed.getEpsilon(1e-5), acc.getEpsilon(1e-5));
  for (let i = 0; i < 1000; i++) resumed.step({ noiseMultiplier: SIGMA, sampleRate: Q });
  assert.ok(Math.abs(resumed.getEpsilon(1e-5) - OPACUS_EPS) < 5e-8);
  assert.deepEqual(resumed.history, [{ noiseMultiplier: SIGMA, sampleRate: Q, steps: STEPS }]);
});

test('JSON round trip keeps the orders, the conversion and an unmerged history as it was', () => {
  const acc = new RdpAccountant({ orders: [2, 4, 8, 16, 32], conversion: 'classic' });
  acc.step({ noiseMultiplier: 1.1, sampleRate: 0.01, steps: 10 });
  acc.step({ noiseMultiplier: 0.9, sampleRate: 0.01 });
  acc.step({ noiseMultiplier: 1.1, sampleRate: 0.01, steps: 5 }); // not merged: not consecutive
  acc.step({ noiseMultiplier: 1.1, sampleRate: 0.02, steps: 5 }); // not merged: another q
  const back = RdpAccountant.fromJSON(JSON.stringify(acc)); // the text form is accepted too
  assert.deepEqual(back.orders, [2, 4, 8, 16, 32]);
  assert.equal(back.conversion, 'classic');
  assert.equal(back.history.length, 4);
  assert.deepEqual(back.history, acc.history);
  assert.equal(back.getEpsilon(1e-6), acc.getEpsilon(1e-6));
  // the history getter hands out copies
  (acc.history[0] as { steps: number }).steps = 999;
  assert.equal(acc.history[0].steps, 10);
});

test('the history composes: epsilon equals the sum of per-run RDP, and before any step it is 0', () => {
  const acc = new RdpAccountant();
  assert.deepEqual(acc.getPrivacySpent(1e-5), { epsilon: 0, order: 0, orderAtEdge: false });
  acc.step({ noiseMultiplier: 2, sampleRate: 0.01, steps: 300 });
  acc.step({ noiseMultiplier: 1, sampleRate: 0.01, steps: 300 });
  const first = epsilonFor({ noiseMultiplier: 2, sampleRate: 0.01, steps: 300, delta: 1e-5 }).epsilon;
  const second = epsilonFor({ noiseMultiplier: 1, sampleRate: 0.01, steps: 300, delta: 1e-5 }).epsilon;
  const both = acc.getEpsilon(1e-5);
  assert.ok(both > Math.max(first, second) && both < first + second, `${first} ${second} ${both}`);
});

test('stepsWithin: that many steps stay within the budget and one more crosses it', () => {
  const budget = { epsilon: 3, delta: 1e-5, noiseMultiplier: 1.1, sampleRate: 256 / 60000 };
  const n = stepsWithin(budget);
  assert.ok(n > 10000 && n < 20000, `${n}`);
  const at = (steps: number) => {
    const acc = new RdpAccountant();
    acc.step({ noiseMultiplier: budget.noiseMultiplier, sampleRate: budget.sampleRate, steps });
    return acc.getEpsilon(budget.delta);
  };
  assert.ok(at(n) <= 3 && at(n + 1) > 3, `ε(${n}) = ${at(n)}, ε(${n + 1}) = ${at(n + 1)}`);

  // counting what was already spent, with a different (σ, q) before
  const acc = new RdpAccountant();
  acc.step({ noiseMultiplier: 0.8, sampleRate: 0.01, steps: 500 });
  const more = acc.stepsWithin(budget);
  assert.ok(more > 0 && more < n, `${more}`);
  acc.step({ noiseMultiplier: budget.noiseMultiplier, sampleRate: budget.sampleRate, steps: more });
  assert.ok(acc.getEpsilon(1e-5) <= 3);
  acc.step({ noiseMultiplier: budget.noiseMultiplier, sampleRate: budget.sampleRate });
  assert.ok(acc.getEpsilon(1e-5) > 3);
  assert.equal(acc.stepsWithin(budget), 0); // already over

  // stepping one at a time, the loop's way, agrees with the bulk count
  const loop = new RdpAccountant();
  const small = { ...budget, epsilon: 0.9, sampleRate: 0.01 };
  let taken = 0;
  while (loop.stepsWithin(small) > 0) {
    loop.step({ noiseMultiplier: small.noiseMultiplier, sampleRate: small.sampleRate });
    taken++;
    assert.ok(taken < 10000, 'runaway loop');
  }
  assert.equal(taken, stepsWithin(small));
  assert.ok(loop.getEpsilon(small.delta) <= 0.9);
});

test('stepsWithin edge cases: no noise fits nothing, no sampling fits everything', () => {
  assert.equal(stepsWithin({ epsilon: 10, delta: 1e-5, noiseMultiplier: 0, sampleRate: 0.01 }), 0);
  assert.equal(stepsWithin({ epsilon: 10, delta: 1e-5, noiseMultiplier: 1, sampleRate: 0 }), Infinity);
  assert.equal(stepsWithin({ epsilon: 0.01, delta: 1e-5, noiseMultiplier: 1, sampleRate: 0.01 }), 0);
  // the classic conversion is looser, so fewer steps fit
  const b = { epsilon: 3, delta: 1e-5, noiseMultiplier: 1.1, sampleRate: 0.004 };
  assert.ok(stepsWithin(b, { conversion: 'classic' }) < stepsWithin(b));
});

test('bad steps and budgets name the value and what to pass', () => {
  const acc = new RdpAccountant();
  assert.throws(() => acc.step({ noiseMultiplier: 1, sampleRate: 1.5 }), /sample rate q = 1.5 is outside \[0, 1\]/);
  assert.throws(() => acc.step({ noiseMultiplier: -0.5, sampleRate: 0.1 }), /noise multiplier σ = -0.5 must be a finite number >= 0/);
  assert.throws(() => acc.step({ noiseMultiplier: 1, sampleRate: 0.1, steps: 0.5 }), /steps = 0.5 must be an integer >= 1/);
  assert.throws(() => acc.step({ noiseMultiplier: 1, sampleRate: 0.1, steps: 0 }), /steps = 0 must be an integer >= 1/);
  assert.throws(() => acc.getEpsilon(0), /δ = 0 must be in \(0, 1\)/);
  assert.throws(() => acc.getEpsilon(1.5), /δ = 1.5 must be in \(0, 1\)/);
  assert.throws(() => acc.stepsWithin({ epsilon: NaN, delta: 1e-5, noiseMultiplier: 1, sampleRate: 0.1 }), /budget ε = NaN must be a number/);
  assert.throws(() => acc.stepsWithin({ epsilon: 1, delta: 2, noiseMultiplier: 1, sampleRate: 0.1 }), /δ = 2 must be in \(0, 1\)/);
  assert.throws(() => new RdpAccountant({ orders: [2, Infinity] }), /RDP order Infinity must be a finite number > 1/);
  assert.throws(() => new RdpAccountant({ orders: [0.5] }), /RDP order 0.5 must be a finite number > 1/);
  assert.throws(() => new RdpAccountant({ conversion: 'loose' as never }), /conversion 'loose' is not one of improved, classic/);
  assert.deepEqual(acc.history, []); // nothing half-recorded
});

test('fromJSON rejects a corrupt checkpoint with what is wrong and what to do', () => {
  const acc = new RdpAccountant({ orders: [2, 3] });
  acc.step({ noiseMultiplier: 1, sampleRate: 0.1, steps: 3 });
  const good = acc.toJSON();
  const bad = (v: unknown, why: RegExp) => assert.throws(() => RdpAccountant.fromJSON(v), (err: Error) => {
    assert.match(err.message, /^RdpAccountant\.fromJSON: /);
    assert.match(err.message, why);
    assert.match(err.message, /restore it from an intact checkpoint, or restart accounting from zero/);
    return true;
  });
  bad('{"kind": "rdp", ', /the text is not JSON/);
  bad(null, /expected an object, got null/);
  bad([good], /expected an object, got \[/);
  bad({ ...good, kind: 'gdp' }, /kind is "gdp", not 'rdp'/);
  bad({ ...good, version: 2 }, /version 2 is not 1/);
  bad({ ...good, orders: [] }, /orders \[\] is not a non-empty array of finite numbers > 1/);
  bad({ ...good, orders: [2, null] }, /orders \[2,null\] is not/);
  bad({ ...good, conversion: undefined }, /conversion missing is not one of improved, classic/);
  bad({ ...good, history: {} }, /history \{\} is not an array/);
  bad({ ...good, history: [{ noiseMultiplier: 1, sampleRate: 0.1 }] }, /history\[0\] \{"noiseMultiplier":1,"sampleRate":0.1\} is not/);
  bad({ ...good, history: [good.history[0], { noiseMultiplier: 1, sampleRate: 1.2, steps: 4 }] }, /history\[1\]/);
  bad({ ...good, history: [{ noiseMultiplier: -1, sampleRate: 0.1, steps: 4 }] }, /history\[0\]/);
  bad({ ...good, history: [{ noiseMultiplier: 1, sampleRate: 0.1, steps: 2.5 }] }, /history\[0\]/);
  bad({ ...good, history: ['x'] }, /history\[0\] "x"/);
  assert.deepEqual(RdpAccountant.fromJSON(good).history, [{ noiseMultiplier: 1, sampleRate: 0.1, steps: 3 }]); // the intact one loads
});
