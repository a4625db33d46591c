//! The standard normal distribution: density, distribution function and its inverse.
//!
//! * `φ(x) = exp(−x²/2) / √(2π)`.
//! * `Φ(x) = ½·erfc(−x/√2)` through `libm::erfc`, which keeps relative accuracy deep in the
//!   lower tail (no `1 − ½erfc` cancellation).
//! * `Φ⁻¹(p)` by Wichura's algorithm AS 241, `PPND16` (M. J. Wichura, "The percentage points
//!   of the normal distribution", Applied Statistics 37(3), 1988, pp. 477–484): three rational
//!   approximations of degree 7/7, for `|p − ½| ≤ 0.425`, for `r = √(−ln min(p, 1−p)) ≤ 5`
//!   and beyond, with relative accuracy about 1e−16. The tail uses `min(p, 1 − p)`, so for
//!   `p ≥ ½` where `1 − p` is exact the result is antisymmetric bit for bit:
//!   `Φ⁻¹(1 − p) = −Φ⁻¹(p)`.
//!
//! Every transcendental goes through `libm`, and the polynomials are evaluated by Horner's
//! rule in a fixed order without fused multiply-adds, so results are the same bits everywhere.

use crate::error::Error;

/// `1/√(2π)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// The standard normal density `φ(x) = exp(−x²/2)/√(2π)`; 0 at ±∞. NaN is an error.
pub fn pdf(x: f64) -> Result<f64, Error> {
    if x.is_nan() {
        return Err(Error::NonFinite {
            what: "normal pdf argument",
        });
    }
    Ok(FRAC_1_SQRT_2PI * libm::exp(-0.5 * x * x))
}

/// The standard normal distribution function `Φ(x) = ½·erfc(−x/√2)`; `Φ(−∞) = 0`,
/// `Φ(+∞) = 1`. NaN is an error.
pub fn cdf(x: f64) -> Result<f64, Error> {
    if x.is_nan() {
        return Err(Error::NonFinite {
            what: "normal cdf argument",
        });
    }
    Ok(0.5 * libm::erfc(-x * core::f64::consts::FRAC_1_SQRT_2))
}

/// The standard normal quantile `Φ⁻¹(p)` for `p` in the open interval (0, 1), by AS 241
/// (`PPND16`). `p` outside (0, 1) or NaN is an [`Error::OutOfRange`]: the quantiles of 0 and 1
/// are infinite and never useful to the engine.
pub fn inverse_cdf(p: f64) -> Result<f64, Error> {
    if p > 0.0 && p < 1.0 {
        Ok(ppnd16(p))
    } else {
        Err(Error::OutOfRange {
            what: "probability (must lie in (0, 1))",
            value: p,
        })
    }
}

/// Horner evaluation of `c[0] + c[1]·x + … + c[7]·x⁷`, highest degree first.
fn horner(c: &[f64; 8], x: f64) -> f64 {
    let mut acc = c[7];
    for &k in c[..7].iter().rev() {
        acc = acc * x + k;
    }
    acc
}

// AS 241 coefficients, lowest degree first, exactly as published (20 significant digits;
// the compiler rounds them to the nearest f64, which is what the algorithm intends).
#[allow(clippy::excessive_precision)]
const A: [f64; 8] = [
    3.387_132_872_796_366_608_0,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
#[allow(clippy::excessive_precision)]
const B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083_0e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061_0e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561_0e3,
];
#[allow(clippy::excessive_precision)]
const C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_90,
    5.769_497_221_460_691_405_50,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_70e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_40e-4,
];
#[allow(clippy::excessive_precision)]
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_40,
    6.897_673_349_851_000_045_50e-1,
    1.481_039_764_274_800_745_90e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946_00e-4,
    1.050_750_071_644_416_843_24e-9,
];
#[allow(clippy::excessive_precision)]
const E: [f64; 8] = [
    6.657_904_643_501_103_777_20,
    5.463_784_911_164_114_369_90,
    1.784_826_539_917_291_335_80,
    2.965_605_718_285_048_912_30e-1,
    2.653_218_952_657_612_309_30e-2,
    1.242_660_947_388_078_438_60e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
#[allow(clippy::excessive_precision)]
const F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_90e-1,
    1.369_298_809_227_358_053_10e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591_00e-4,
    1.846_318_317_510_054_681_80e-5,
    1.421_511_758_316_445_888_70e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// AS 241 `PPND16` for `p` in (0, 1) (the caller checks the range).
pub(crate) fn ppnd16(p: f64) -> f64 {
    let q = p - 0.5;
    if libm::fabs(q) <= 0.425 {
        let r = 0.180625 - q * q;
        return q * horner(&A, r) / horner(&B, r);
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let mut r = libm::sqrt(-libm::log(tail));
    let x = if r <= 5.0 {
        r -= 1.6;
        horner(&C, r) / horner(&D, r)
    } else {
        r -= 5.0;
        horner(&E, r) / horner(&F, r)
    };
    if q < 0.0 { -x } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(a: f64, b: f64) -> f64 {
        libm::fabs(a - b) / libm::fabs(b)
    }

    #[test]
    fn known_quantiles() {
        // Reference values computed to 40 digits (mpmath `sqrt(2)·erfinv(2p − 1)`), rounded to
        // f64; AS 241 claims about 1e−16 relative accuracy, allow a few ulps.
        let cases = [
            (0.975, 1.959_963_984_540_054_2),
            (0.99, 2.326_347_874_040_841),
            (0.995, 2.575_829_303_548_901),
            (0.25, -0.674_489_750_196_081_7),
            (0.5, 0.0),
            (1e-10, -6.361_340_902_404_056),
        ];
        for (p, x) in cases {
            let got = inverse_cdf(p).unwrap();
            if x == 0.0 {
                assert_eq!(got, 0.0);
            } else {
                assert!(rel(got, x) < 1e-15, "p={p}: {got} vs {x}");
            }
        }
    }

    #[test]
    fn cdf_inverts_the_quantile_over_a_grid() {
        // For p ≤ ½ compare relatively: an error ε in x (or in erfc's argument) moves Φ by a
        // relative x²ε in the tail, so allow 1e−15·(1 + x²) (x ≈ −37 at p = 1e−300).
        let mut p = 1e-300;
        while p < 0.5 {
            let x = inverse_cdf(p).unwrap();
            let back = cdf(x).unwrap();
            let tol = 1e-15 * (1.0 + x * x);
            assert!(rel(back, p) < tol, "p={p}: Φ(Φ⁻¹(p)) = {back}");
            p *= 3.7;
        }
        for k in 1..1000 {
            let p = k as f64 / 1000.0;
            let back = cdf(inverse_cdf(p).unwrap()).unwrap();
            assert!(libm::fabs(back - p) < 1e-15, "p={p}: {back}");
        }
    }

    #[test]
    fn quantile_is_antisymmetric() {
        // On a dyadic grid 1 − p is exact, and the algorithm is then antisymmetric bit for bit;
        // the stated requirement is 1e−15 relative.
        for k in 1..(1 << 12) {
            let p = k as f64 / (1 << 12) as f64;
            let a = inverse_cdf(p).unwrap();
            let b = inverse_cdf(1.0 - p).unwrap();
            assert_eq!(a, -b, "p={p}");
        }
        for &q in &[1e-15, 1e-10, 1e-5, 0.01, 0.07, 0.3] {
            // 1 − q rounds; its exact complement 1 − (1 − q) is the matching lower quantile.
            let up = 1.0 - q;
            let a = inverse_cdf(up).unwrap();
            let b = inverse_cdf(1.0 - up).unwrap();
            assert!(rel(a, -b) <= 1e-15, "q={q}: {a} vs {b}");
        }
    }

    #[test]
    fn bad_inputs_are_errors_not_nans() {
        for p in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(inverse_cdf(p).is_err(), "p={p}");
        }
        assert!(cdf(f64::NAN).is_err());
        assert!(pdf(f64::NAN).is_err());
        assert_eq!(cdf(f64::NEG_INFINITY).unwrap(), 0.0);
        assert_eq!(cdf(f64::INFINITY).unwrap(), 1.0);
        assert_eq!(pdf(f64::INFINITY).unwrap(), 0.0);
        assert_eq!(cdf(0.0).unwrap(), 0.5);
        assert!(rel(pdf(0.0).unwrap(), 0.398_942_280_401_432_7) < 1e-16);
        // Smallest uniform the generator produces: the normal draws stay within ±8.3.
        let lo = inverse_cdf(libm::ldexp(1.0, -53)).unwrap();
        assert!(lo > -8.3 && lo < -8.2, "{lo}");
    }
}
