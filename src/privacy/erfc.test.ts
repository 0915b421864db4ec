import { test } from 'node:test';
import assert from 'node:assert/strict';
import { erf, erfc, logErfc } from './erfc.js';

function rel(actual: number, expected: number): number {
  return expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
}

// Reference values: mpmath.erfc / log(erfc) at 30 significant digits, rounded to 20.
const ERFC: [number, number][] = [
  [0, 1], [1e-10, 0.99999999988716208329], [0.1, 0.8875370839817151078], [0.46875, 0.50738652678206200841],
  [0.5, 0.47950012218695346232], [1, 0.15729920705028513066], [2, 0.0046777349810472658379],
  [3, 0.000022090496998585441373], [4, 1.5417257900280018852e-8], [4.5, 1.9661604415428874763e-10],
  [5, 1.5374597944280348502e-12], [10, 2.088487583762544757e-45], [20, 5.3958656116079009289e-176],
  [26, 5.6631924088561428465e-296], [-0.25, 1.276326390168236933], [-1, 1.8427007929497148693],
  [-3, 1.9999779095030014146], [-6, 1.9999999999999999785],
];
const LOG_ERFC: [number, number][] = [
  [30, -903.97411711064387808], [100, -10005.177585122664333], [1e3, -1000007.4801207219062],
  [1e6, -1000000000014.3878755], [-10, 0.69314718055994530942], [0.3, -0.39843005144008528965],
  [4, -17.987778312103006503], [-0.9, 0.58606752826807689475],
];

test('erfc matches 30-digit reference values to 2e-15 relative, in all three ranges and for x < 0', () => {
  for (const [x, e] of ERFC) assert.ok(rel(erfc(x), e) <= 2e-15, `erfc(${x}) = ${erfc(x)}, expected ${e}`);
  assert.equal(erfc(40), 0); // below the smallest double
  assert.equal(erfc(Infinity), 0);
  assert.equal(erfc(-Infinity), 2);
  assert.ok(Number.isNaN(erfc(NaN)));
});

test('logErfc matches reference values where erfc underflows, and log(erfc) where it does not', () => {
  for (const [x, e] of LOG_ERFC) assert.ok(rel(logErfc(x), e) <= 2e-15, `logErfc(${x}) = ${logErfc(x)}, expected ${e}`);
  for (const [x, e] of ERFC) {
    const want = Math.log(e);
    assert.ok(Math.abs(logErfc(x) - want) <= 2e-15 * Math.max(1, Math.abs(want)), `logErfc(${x}) = ${logErfc(x)}, expected ${want}`);
  }
  assert.equal(logErfc(Infinity), -Infinity);
  assert.equal(logErfc(-Infinity), Math.LN2);
});

test('erfc agrees with two independent expansions on a dense grid', () => {
  // x <= 3: erf(x) = 2x/√π e^(-x²) Σ (2x²)^n / (1·3···(2n+1)), every term positive, so no
  // cancellation; erfc = 1 - erf is checked through erf there (its relative accuracy for x <= 0.5).
  const erfSeries = (x: number) => {
    let term = 1;
    let sum = 1;
    for (let n = 1; term > 1e-18 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return ((2 * x) / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum;
  };
  for (let x = 0.01; x <= 3; x += 0.01) {
    assert.ok(rel(erf(x), erfSeries(x)) <= 2e-15, `erf(${x}) = ${erf(x)} vs series ${erfSeries(x)}`);
    if (x <= 0.5) assert.ok(rel(erfc(x), 1 - erfSeries(x)) <= 2e-15, `erfc(${x})`);
    assert.ok(rel(erf(-x), -erfSeries(x)) <= 2e-15, `erf(-${x})`);
  }
  // x >= 3: the continued fraction erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
  // evaluated from a deep tail; e^(-x²) split so x² is exact, as the implementation does.
  const erfcFraction = (x: number) => {
    let t = x;
    for (let k = 400; k >= 1; k--) t = x + k / 2 / t;
    const hi = Math.round(x * 1024) / 1024;
    return (Math.exp(-hi * hi) * Math.exp(-(x - hi) * (x + hi))) / (Math.sqrt(Math.PI) * t);
  };
  for (let x = 3; x <= 26; x += 0.037) {
    assert.ok(rel(erfc(x), erfcFraction(x)) <= 3e-15, `erfc(${x}) = ${erfc(x)} vs fraction ${erfcFraction(x)}`);
    assert.ok(rel(erfc(-x), 2 - erfcFraction(x)) <= 2e-16, `erfc(-${x})`);
  }
});

test('erf + erfc = 1 and erfc(-x) = 2 - erfc(x)', () => {
  for (let x = -6; x <= 6; x += 0.173) {
    assert.ok(Math.abs(erf(x) + erfc(x) - 1) <= 2e-16, `x = ${x}`);
    assert.ok(Math.abs(erfc(-x) - (2 - erfc(x))) <= 4e-16, `x = ${x}`);
  }
});
