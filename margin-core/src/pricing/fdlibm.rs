//! Branch-free ports of the fdlibm `exp`, `log` and `erfc` that the `libm` crate implements
//! (FreeBSD msun `e_exp.c`, `e_log.c`, `s_erf.c`), for the batch kernel.
//!
//! Every range of the originals is computed and the right one is *selected* instead of
//! branched to, so a loop over scenarios compiles to packed SIMD. Each function performs the
//! same IEEE-754 operations, in the same order, on the same constants as the `libm` version
//! it ports, so it returns the same bits on its stated domain (the selects only choose among
//! results; `+ − × ÷` round the same way at any vector width, and Rust never contracts to
//! FMA). The accuracy is therefore fdlibm's, as its sources state it: `exp` and `log` below
//! 1 ulp; `erfc` through rational fits within 2⁻⁵⁷·⁹ (near 0), 2⁻⁵⁹·⁰⁶ (near 1) and
//! 2⁻⁶¹·⁵ (tail, on `ln(x·erfc x) + x² − 0.5625`, with `e^(−x²)` taken in two exact-argument
//! pieces so the relative error stays ulp-sized out to the underflow at `x ≈ 26.5`). The bit
//! equality with `libm` is what the unit tests below check: every range boundary and its
//! neighbours, and 2–3 million random arguments per function.
//!
//! Domains: [`exp`] for `x ≤ 709` (NaN propagates; the overflow range is not needed here),
//! [`log`] for positive normal `x` (callers select away anything else), [`erfc`] for all
//! finite `x`.
//!
//! The integer work is done on the bit patterns with 64-bit adds and shifts, and float to
//! integer conversions through the `2^52` trick (`n + 2^52` holds `n` in its low bits), so
//! SSE2 can vectorise it.
//!
//! ```text
//! Copyright (C) 1993, 2004 by Sun Microsystems, Inc. All rights reserved.
//!
//! Developed at SunSoft, a Sun Microsystems, Inc. business.
//! Permission to use, copy, modify, and distribute this
//! software is freely granted, provided that this notice
//! is preserved.
//! ```

/// `f64` with high word `hi` and low word 0.
const fn hw(hi: u64) -> f64 {
    f64::from_bits(hi << 32)
}

/// `2^52`: adding it to an integer-valued `|n| < 2^51` leaves `n` in the low mantissa bits.
const TWO52: f64 = 4_503_599_627_370_496.0;

#[inline(always)]
fn abs(x: f64) -> f64 {
    f64::from_bits(x.to_bits() & 0x7fff_ffff_ffff_ffff)
}

/// `2^n` for an integer-valued `n` in `[−1022, 1023]`.
#[inline(always)]
fn pow2(n: f64) -> f64 {
    // n + 2^52 + 1023 is exact and its low 11 bits are the biased exponent.
    f64::from_bits((n + (TWO52 + 1023.0)).to_bits() << 52)
}

const LN2HI: f64 = f64::from_bits(0x3fe62e42_fee00000); // 6.93147180369123816490e-01
const LN2LO: f64 = f64::from_bits(0x3dea39ef_35793c76); // 1.90821492927058770002e-10
const INVLN2: f64 = f64::from_bits(0x3ff71547_652b82fe); // 1.44269504088896338700e+00
const P1: f64 = f64::from_bits(0x3fc55555_5555553e); // 1.66666666666666019037e-01
const P2: f64 = f64::from_bits(0xbf66c16c_16bebd93); // -2.77777777770155933842e-03
const P3: f64 = f64::from_bits(0x3f11566a_af25de2c); // 6.61375632143793436117e-05
const P4: f64 = f64::from_bits(0xbebbbd41_c5d26bf1); // -1.65339022054652515390e-06
const P5: f64 = f64::from_bits(0x3e663769_72bea4d0); // 4.13813679705723846039e-08

/// Below this `e^x` underflows to 0 (-745.13321910194110842, libm's threshold).
const EXP_UNDERFLOW: f64 = f64::from_bits(0xc0874910_d52d3051);

/// `e^x`, the same bits as `libm::exp` for `x ≤ 709`.
///
/// `x = k·ln2 + r`, `|r| ≤ ln2/2` (`r = hi − lo` in two pieces), `e^r = 1 + r + r·c/(2 − c)`
/// with `c = r − r²·P(r²)` (a degree-5 Remez fit, error below 2⁻⁵⁹), then `·2^k`: below
/// 1 ulp.
#[inline(always)]
pub(super) fn exp(x: f64) -> f64 {
    let ax = abs(x);
    // Below the underflow threshold the result is 0 (selected at the end): reduce 0 instead,
    // so unselected lanes never compute with subnormals (a microcode assist of ~100 cycles
    // per operation on x86) and k stays in range.
    let xc = if x < EXP_UNDERFLOW { 0.0 } else { x };
    let neg = xc < 0.0;
    // |x| ≥ 1.5·ln2: k = trunc(x/ln2 ± 1/2); 0.5·ln2 < |x| < 1.5·ln2: k = ±1; else 0.
    let t = INVLN2 * xc + if neg { -0.5 } else { 0.5 };
    // trunc(t) for |t| < 2^51: round to nearest through 2^52, then step back towards zero.
    let at = abs(t);
    let rounded = (at + TWO52) - TWO52;
    let truncated = if rounded > at { rounded - 1.0 } else { rounded };
    let k_big = if neg { -truncated } else { truncated };
    let k_mid = if neg { -1.0 } else { 1.0 };
    let k = if ax >= hw(0x3ff0a2b2) {
        k_big
    } else if ax >= hw(0x3fd62e43) {
        k_mid
    } else {
        0.0
    };
    let hi = xc - k * LN2HI;
    let lo = k * LN2LO;
    let r = hi - lo;
    let xx = r * r;
    let c = r - xx * (P1 + xx * (P2 + xx * (P3 + xx * (P4 + xx * P5))));
    let y = 1. + (r * c / (2. - c) - lo + hi);
    // scalbn(y, k): below 2^-1022 first by 2^-969, as libm does, so subnormals round once.
    let sub = k < -1022.0;
    let y = if sub { y * hw(0x03600000) } else { y };
    let y = y * pow2(if sub { k + 969.0 } else { k });
    if ax < hw(0x3e300001) {
        1. + x
    } else if x < EXP_UNDERFLOW {
        0.0
    } else {
        y
    }
}

const LN2_HI: f64 = f64::from_bits(0x3fe62e42_fee00000); // 6.93147180369123816490e-01
const LN2_LO: f64 = f64::from_bits(0x3dea39ef_35793c76); // 1.90821492927058770002e-10
const LG1: f64 = f64::from_bits(0x3fe55555_55555593); // 6.666666666666735130e-01
const LG2: f64 = f64::from_bits(0x3fd99999_9997fa04); // 3.999999999940941908e-01
const LG3: f64 = f64::from_bits(0x3fd24924_94229359); // 2.857142874366239149e-01
const LG4: f64 = f64::from_bits(0x3fcc71c5_1d8e78af); // 2.222219843214978396e-01
const LG5: f64 = f64::from_bits(0x3fc74664_96cb03de); // 1.818357216161805012e-01
const LG6: f64 = f64::from_bits(0x3fc39a09_d078c69f); // 1.531383769920937332e-01
const LG7: f64 = f64::from_bits(0x3fc2f112_df3e5244); // 1.479819860511658591e-01

/// `ln x`, the same bits as `libm::log` for positive normal `x` (anything else gives an
/// unspecified number: callers select it away).
///
/// `x = 2^k·(1 + f)` with `√2/2 ≤ 1 + f < √2`, `s = f/(2 + f)`,
/// `ln(1 + f) = f − f²/2 + s·(f²/2 + R(s²))` (a degree-14 Remez fit in `s`, error below
/// 2⁻⁵⁸·⁴⁵), plus `k·ln2` in two pieces: below 1 ulp.
#[inline(always)]
pub(super) fn log(x: f64) -> f64 {
    // Shift the exponent so the mantissa lands in [√2/2, √2), as libm does on the high word.
    let ui = x.to_bits().wrapping_add((0x3ff00000 - 0x3fe6a09e) << 32);
    // k + 1023 in the low bits of a float near 2^52, then k exactly.
    let dk = f64::from_bits((ui >> 52) | TWO52.to_bits()) - (TWO52 + 1023.0);
    let x = f64::from_bits((ui & 0x000f_ffff_ffff_ffff) + (0x3fe6a09e << 32));
    let f = x - 1.0;
    let hfsq = 0.5 * f * f;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    s * (hfsq + r) + dk * LN2_LO - hfsq + f + dk * LN2_HI
}

const ERX: f64 = f64::from_bits(0x3feb0ac1_60000000); // 8.45062911510467529297e-01
const PP0: f64 = f64::from_bits(0x3fc06eba_8214db68); // 1.28379167095512558561e-01
const PP1: f64 = f64::from_bits(0xbfd4cd7d_691cb913); // -3.25042107247001499370e-01
const PP2: f64 = f64::from_bits(0xbf9d2a51_dbd7194f); // -2.84817495755985104766e-02
const PP3: f64 = f64::from_bits(0xbf77a291_236668e4); // -5.77027029648944159157e-03
const PP4: f64 = f64::from_bits(0xbef8ead6_120016ac); // -2.37630166566501626084e-05
const QQ1: f64 = f64::from_bits(0x3fd97779_cddadc09); // 3.97917223959155352819e-01
const QQ2: f64 = f64::from_bits(0x3fb0a54c_5536ceba); // 6.50222499887672944485e-02
const QQ3: f64 = f64::from_bits(0x3f74d022_c4d36b0f); // 5.08130628187576562776e-03
const QQ4: f64 = f64::from_bits(0x3f215dc9_221c1a10); // 1.32494738004321644526e-04
const QQ5: f64 = f64::from_bits(0xbed09c43_42a26120); // -3.96022827877536812320e-06
const PA0: f64 = f64::from_bits(0xbf6359b8_bef77538); // -2.36211856075265944077e-03
const PA1: f64 = f64::from_bits(0x3fda8d00_ad92b34d); // 4.14856118683748331666e-01
const PA2: f64 = f64::from_bits(0xbfd7d240_fbb8c3f1); // -3.72207876035701323847e-01
const PA3: f64 = f64::from_bits(0x3fd45fca_805120e4); // 3.18346619901161753674e-01
const PA4: f64 = f64::from_bits(0xbfbc6398_3d3e28ec); // -1.10894694282396677476e-01
const PA5: f64 = f64::from_bits(0x3fa22a36_599795eb); // 3.54783043256182359371e-02
const PA6: f64 = f64::from_bits(0xbf61bf38_0a96073f); // -2.16637559486879084300e-03
const QA1: f64 = f64::from_bits(0x3fbb3e66_18eee323); // 1.06420880400844228286e-01
const QA2: f64 = f64::from_bits(0x3fe14af0_92eb6f33); // 5.40397917702171048937e-01
const QA3: f64 = f64::from_bits(0x3fb2635c_d99fe9a7); // 7.18286544141962662868e-02
const QA4: f64 = f64::from_bits(0x3fc02660_e763351f); // 1.26171219808761642112e-01
const QA5: f64 = f64::from_bits(0x3f8bedc2_6b51dd1c); // 1.36370839120290507362e-02
const QA6: f64 = f64::from_bits(0x3f888b54_5735151d); // 1.19844998467991074170e-02
const RA0: f64 = f64::from_bits(0xbf843412_600d6435); // -9.86494403484714822705e-03
const RA1: f64 = f64::from_bits(0xbfe63416_e4ba7360); // -6.93858572707181764372e-01
const RA2: f64 = f64::from_bits(0xc0251e04_41b0e726); // -1.05586262253232909814e+01
const RA3: f64 = f64::from_bits(0xc04f300a_e4cba38d); // -6.23753324503260060396e+01
const RA4: f64 = f64::from_bits(0xc0644cb1_84282266); // -1.62396669462573470355e+02
const RA5: f64 = f64::from_bits(0xc067135c_ebccabb2); // -1.84605092906711035994e+02
const RA6: f64 = f64::from_bits(0xc0545265_57e4d2f2); // -8.12874355063065934246e+01
const RA7: f64 = f64::from_bits(0xc023a0ef_c69ac25c); // -9.81432934416914548592e+00
const SA1: f64 = f64::from_bits(0x4033a6b9_bd707687); // 1.96512716674392571292e+01
const SA2: f64 = f64::from_bits(0x4061350c_526ae721); // 1.37657754143519042600e+02
const SA3: f64 = f64::from_bits(0x407b290d_d58a1a71); // 4.34565877475229228821e+02
const SA4: f64 = f64::from_bits(0x40842b19_21ec2868); // 6.45387271733267880336e+02
const SA5: f64 = f64::from_bits(0x407ad021_57700314); // 4.29008140027567833386e+02
const SA6: f64 = f64::from_bits(0x405b28a3_ee48ae2c); // 1.08635005541779435134e+02
const SA7: f64 = f64::from_bits(0x401a47ef_8e484a93); // 6.57024977031928170135e+00
const SA8: f64 = f64::from_bits(0xbfaeeff2_ee749a62); // -6.04244152148580987438e-02
const RB0: f64 = f64::from_bits(0xbf843412_39e86f4a); // -9.86494292470009928597e-03
const RB1: f64 = f64::from_bits(0xbfe993ba_70c285de); // -7.99283237680523006574e-01
const RB2: f64 = f64::from_bits(0xc031c209_555f995a); // -1.77579549177547519889e+01
const RB3: f64 = f64::from_bits(0xc064145d_43c5ed98); // -1.60636384855821916062e+02
const RB4: f64 = f64::from_bits(0xc083ec88_1375f228); // -6.37566443368389627722e+02
const RB5: f64 = f64::from_bits(0xc0900461_6a2e5992); // -1.02509513161107724954e+03
const RB6: f64 = f64::from_bits(0xc07e384e_9bdc383f); // -4.83519191608651397019e+02
const SB1: f64 = f64::from_bits(0x403e568b_261d5190); // 3.03380607434824582924e+01
const SB2: f64 = f64::from_bits(0x40745cae_221b9f0a); // 3.25792512996573918826e+02
const SB3: f64 = f64::from_bits(0x409802eb_189d5118); // 1.53672958608443695994e+03
const SB4: f64 = f64::from_bits(0x40a8ffb7_688c246a); // 3.19985821950859553908e+03
const SB5: f64 = f64::from_bits(0x40a3f219_cedf3be6); // 2.55305040643316442583e+03
const SB6: f64 = f64::from_bits(0x407da874_e79fe763); // 4.74528541206955367215e+02
const SB7: f64 = f64::from_bits(0xc03670e2_42712d62); // -2.24409524465858183362e+01

/// `erfc x`, the same bits as `libm::erfc` for finite `x`: [`erfc_tail`] on
/// `1.25 ≤ |x| < 28` ([`is_tail`]), [`erfc_near`] elsewhere.
///
/// fdlibm's five ranges of `|x|`: below 0.84375 `erfc = 1 − x − x·P/Q(x²)`; below 1.25
/// `1 − erx − P/Q(|x| − 1)`; below 28 `e^(−z² − 0.5625)·e^((z − |x|)(z + |x|) + R/S(1/x²))/|x|`
/// (two fits split at 1/0.35, `z` = `|x|` with its low 32 bits cleared so `z²` is exact);
/// above, 0; `2 − erfc|x|` for negative `x` outside the first range. The batch kernel
/// evaluates the cheap ranges for every argument and the tail (two exponentials, five
/// divisions) only for the arguments in it, gathered.
#[cfg(test)]
pub(super) fn erfc(x: f64) -> f64 {
    if is_tail(x) {
        let (y, e) = erfc_tail_quotient(x);
        erfc_tail_finish(x, y, e)
    } else {
        erfc_near(x)
    }
}

/// True when `erfc x` takes the tail formula: `1.25 ≤ |x| < 28`.
#[inline(always)]
pub(super) fn is_tail(x: f64) -> bool {
    let ax = abs(x);
    ax >= hw(0x3ff40000) && ax < hw(0x403c0000)
}

/// `erfc x` outside the tail (`|x| < 1.25` or `|x| ≥ 28`): both rational functions evaluated,
/// one quotient of the selected pair. An unspecified number in the tail.
#[inline(always)]
pub(super) fn erfc_near(x: f64) -> f64 {
    let ax = abs(x);
    let neg = x < 0.0;
    let small = ax < hw(0x3feb0000);
    let mid = ax < hw(0x3ff40000);
    // |x| < 0.84375
    let z = x * x;
    let r0 = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    let s0 = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    // |x| < 1.25
    let s1 = ax - 1.0;
    let p = PA0 + s1 * (PA1 + s1 * (PA2 + s1 * (PA3 + s1 * (PA4 + s1 * (PA5 + s1 * PA6)))));
    let q = 1.0 + s1 * (QA1 + s1 * (QA2 + s1 * (QA3 + s1 * (QA4 + s1 * (QA5 + s1 * QA6)))));
    let (num, den) = if small { (r0, s0) } else { (p, q) };
    let y = num / den;
    let near = if neg || ax < hw(0x3fd00000) {
        1.0 - (x + x * y)
    } else {
        0.5 - (x - 0.5 + x * y)
    };
    // |x| ≥ 28: 2^−1022·2^−1022 = 0, or 2 − 2^−1022 = 2.
    let far = if mid { 1.0 - ERX - y } else { 0.0 };
    if small {
        near
    } else if neg {
        2.0 - far
    } else {
        far
    }
}

/// The first half of `erfc x` in the tail: the rational quotient `y = R/S(1/x²)` and
/// `e^(−z² − 0.5625)`, two independent chains. Split from [`erfc_tail_finish`] so each loop
/// is short enough for the CPU to overlap consecutive iterations.
#[inline(always)]
pub(super) fn erfc_tail_quotient(x: f64) -> (f64, f64) {
    let ax = abs(x);
    let s = 1.0 / (ax * ax);
    let (r, big_s) = tail_rational(ax, s);
    let zh = f64::from_bits(ax.to_bits() & 0xffff_ffff_0000_0000);
    (r / big_s, exp(-zh * zh - 0.5625))
}

/// fdlibm's tail numerator and denominator at `s = 1/x²`: the fit below `1/0.35`, or above.
#[inline(always)]
fn tail_rational(ax: f64, s: f64) -> (f64, f64) {
    if ax < hw(0x4006db6d) {
        (
            RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7)))))),
            1.0 + s
                * (SA1
                    + s * (SA2
                        + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8))))))),
        )
    } else {
        (
            RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6))))),
            1.0 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7)))))),
        )
    }
}

/// The second half of `erfc x` in the tail, from [`erfc_tail_quotient`]'s `y` and `e`.
#[inline(always)]
pub(super) fn erfc_tail_finish(x: f64, y: f64, e: f64) -> f64 {
    let ax = abs(x);
    let zh = f64::from_bits(ax.to_bits() & 0xffff_ffff_0000_0000);
    let t = e * exp((zh - ax) * (zh + ax) + y) / ax;
    if x < 0.0 { 2.0 - t } else { t }
}

/// The statistical path's `erfc x` in the tail, first pass: the exponent
/// `−z² − 0.5625 + (z − |x|)(z + |x|) + R/S(1/x²)` of [`erfc_tail_finish`]'s two exponentials
/// summed, with `1/x²` as the square of `1/|x|`. Not the bits of `libm`: the sum rounds at
/// the magnitude of `x²` (a relative error of the result below `x²·2⁻⁵³`, 1.7e-13 at the
/// underflow `|x| ≈ 26.5`, 4e-15 at `|x| = 6`), for one exponential and two divisions fewer.
#[inline(always)]
pub(super) fn erfc_tail_fast_exponent(x: f64) -> f64 {
    let ax = abs(x);
    let inv = 1.0 / ax;
    let s = inv * inv;
    let (r, big_s) = tail_rational(ax, s);
    let zh = f64::from_bits(ax.to_bits() & 0xffff_ffff_0000_0000);
    (-zh * zh - 0.5625) + ((zh - ax) * (zh + ax) + r / big_s)
}

/// The second pass of [`erfc_tail_fast_exponent`]: `e^exponent/|x|`, or `2 −` it for
/// negative `x`.
#[inline(always)]
pub(super) fn erfc_tail_fast_finish(x: f64, exponent: f64) -> f64 {
    let ax = abs(x);
    let t = exp(exponent) / ax;
    if x < 0.0 { 2.0 - t } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64 (Steele, Lea & Flood 2014): a fixed, portable stream of test arguments.
    struct Mix(u64);

    impl Mix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform in [a, b).
        fn uniform(&mut self, a: f64, b: f64) -> f64 {
            a + (b - a) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
        }
    }

    /// `x` and its 3 neighbours on each side (finite ones: around ±0 the bit patterns wrap).
    fn around(x: f64) -> impl Iterator<Item = f64> {
        (-3i64..=3)
            .map(move |d| f64::from_bits(x.to_bits().wrapping_add_signed(d)))
            .filter(|x| x.is_finite())
    }

    fn same(name: &str, x: f64, got: f64, want: f64) {
        assert!(
            got.to_bits() == want.to_bits(),
            "{name}({x:e} = {:#x}): {got:e} vs libm {want:e}",
            x.to_bits()
        );
    }

    #[test]
    fn exp_same_bits_as_libm() {
        let edges = [
            0.0,
            hw(0x3e300000),
            hw(0x3e300001),
            hw(0x3fd62e42),
            hw(0x3fd62e43),
            hw(0x3ff0a2b2),
            0.5 * core::f64::consts::LN_2,
            1.5 * core::f64::consts::LN_2,
            hw(0x4086232b),
            -hw(0x4086232b),
            -709.0895657128241,
            -740.0,
            EXP_UNDERFLOW,
            -745.2,
            -746.5,
            -784.5625,
            709.0,
        ];
        for e in edges {
            for x in around(e).chain(around(-e)) {
                if x <= 709.0 {
                    same("exp", x, exp(x), libm::exp(x));
                }
            }
        }
        let mut g = Mix(1);
        for _ in 0..1_000_000 {
            for x in [g.uniform(-800.0, 709.0), g.uniform(-2.0, 2.0)] {
                same("exp", x, exp(x), libm::exp(x));
            }
            let tiny = f64::from_bits(g.next() >> 2) * 1e-300;
            same("exp", tiny, exp(tiny), libm::exp(tiny));
        }
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn log_same_bits_as_libm() {
        for e in [
            1.0,
            core::f64::consts::SQRT_2,
            0.5 * core::f64::consts::SQRT_2,
            2.0,
        ] {
            for x in around(e) {
                same("log", x, log(x), libm::log(x));
            }
        }
        for x in around(f64::MIN_POSITIVE).chain(around(f64::MAX)).skip(3) {
            if x.is_normal() {
                same("log", x, log(x), libm::log(x));
            }
        }
        let mut g = Mix(2);
        for _ in 0..1_000_000 {
            // Every positive normal bit pattern is equally likely, and a cluster near 1.
            let x = f64::from_bits(g.next() >> 1);
            if x.is_normal() {
                same("log", x, log(x), libm::log(x));
            }
            let x = g.uniform(0.1, 10.0);
            same("log", x, log(x), libm::log(x));
        }
    }

    #[test]
    fn erfc_same_bits_as_libm() {
        let edges = [
            0.0,
            hw(0x3c700000),
            hw(0x3fd00000),
            hw(0x3feb0000),
            hw(0x3ff40000),
            hw(0x4006db6d),
            hw(0x403c0000),
            1.0,
            26.5,
            27.3,
        ];
        for e in edges {
            for x in around(e).chain(around(-e)) {
                same("erfc", x, erfc(x), libm::erfc(x));
            }
        }
        let mut g = Mix(3);
        for _ in 0..1_000_000 {
            for x in [g.uniform(-30.0, 30.0), g.uniform(-3.0, 3.0)] {
                same("erfc", x, erfc(x), libm::erfc(x));
            }
            let tiny = f64::from_bits(g.next() >> 2) * 1e-300;
            same("erfc", tiny, erfc(tiny), libm::erfc(tiny));
        }
    }
}
