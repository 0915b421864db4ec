// The complementary error function, and its logarithm for arguments where erfc itself underflows.
// JavaScript has no Math.erf/erfc; the RDP series for fractional orders needs log(erfc(x)) accurate
// in relative terms from x ≈ -40 to x ≈ +1e6, which is what SciPy's log_ndtr gives the Python
// accountants. These are the rational Chebyshev approximations of Math. Comp. 23 (1969) 631-637, as
// in the SPECFUN routine CALERF: three ranges, each accurate to about 1e-16 relative, no iteration,
// so the thousands of calls one ε evaluation makes stay cheap.

// |x| <= 0.46875: erf(x) = x * A(x²) / B(x²)
const A = [3.1611237438705656, 113.86415415105016, 377.48523768530202, 3209.3775891384695, 0.18577770618460315];
const B = [23.601290952344121, 244.02463793444417, 1282.6165260773723, 2844.2368334391706];
// 0.46875 < x <= 4: erfc(x) = exp(-x²) * C(x) / D(x)
const C = [
  0.56418849698867009, 8.8831497943883759, 66.119190637141630, 298.63513819740013, 881.95222124176909,
  1712.0476126340706, 2051.0783778260715, 1230.3393547979972, 2.1531153547440383e-8,
];
const D = [
  15.744926110709835, 117.69395089131250, 537.18110186200986, 1621.3895745666902, 3290.7992357334596,
  4362.6190901432472, 3439.3676741437216, 1230.3393548037494,
];
// x > 4: erfc(x) = exp(-x²) / x * (1/sqrt(pi) + P(1/x²) / Q(1/x²) / x²)
const P = [0.30532663496123234, 0.36034489994980444, 0.12578172611122925, 0.016083785148742277, 6.5874916152983780e-4, 0.016315387137302098];
const Q = [2.5685201922898224, 1.8729528499234673, 0.52790510295142841, 0.060518341312441319, 0.0023352049762686918];
const INV_SQRT_PI = 0.56418958354775628695;
const SMALL = 0.46875;

function erfSmall(x: number): number {
  const y = x * x;
  let num = A[4] * y;
  let den = y;
  for (let i = 0; i < 3; i++) {
    num = (num + A[i]) * y;
    den = (den + B[i]) * y;
  }
  return (x * (num + A[3])) / (den + B[3]);
}

/** For y > SMALL: R with erfc(y) = exp(-y²) * R. */
function erfcRatio(y: number): number {
  if (y <= 4) {
    let num = C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]) * y;
      den = (den + D[i]) * y;
    }
    return (num + C[7]) / (den + D[7]);
  }
  const z = 1 / (y * y);
  let num = P[5] * z;
  let den = z;
  for (let i = 0; i < 4; i++) {
    num = (num + P[i]) * z;
    den = (den + Q[i]) * z;
  }
  return (INV_SQRT_PI - (z * (num + P[4])) / (den + Q[4])) / y;
}

/**
 * -y² with y split as hi + lo, hi holding 4 fractional bits so hi² is exact: rounding y*y would
 * otherwise cost up to y² ulps of relative accuracy in exp(-y²) (CALERF does the same).
 */
function minusSquare(y: number): [number, number] {
  const hi = Math.trunc(y * 16) / 16;
  return [-(hi * hi), -((y - hi) * (y + hi))];
}

/** erfc(x) = 1 - erf(x), accurate to ~1e-15 relative for every x (0 past x ≈ 26.5 by underflow). */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const y = Math.abs(x);
  if (y <= SMALL) return 1 - erfSmall(x);
  let tail = 0;
  if (y < 28) {
    const [a, b] = minusSquare(y);
    tail = Math.exp(a) * Math.exp(b) * erfcRatio(y);
  }
  return x < 0 ? 2 - tail : tail;
}

/** erf(x), from the same approximations (exact complement of erfc where erfc is the small one). */
export function erf(x: number): number {
  if (Math.abs(x) <= SMALL) return erfSmall(x);
  return x < 0 ? erfc(-x) - 1 : 1 - erfc(x);
}

/**
 * log(erfc(x)) without underflow: for large x erfc(x) ≈ exp(-x²)/(x√π) is far below the smallest
 * double, yet its log is an ordinary number the RDP series adds in log space.
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return -Infinity;
  const y = Math.abs(x);
  if (y <= SMALL) return Math.log1p(-erfSmall(x));
  if (x < 0) return Math.LN2 + Math.log1p(-erfc(y) / 2);
  const [a, b] = minusSquare(y);
  return a + b + Math.log(erfcRatio(y));
}
