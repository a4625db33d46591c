//! Pseudo-random generators: SplitMix64 and xoshiro256\*\*, written out here so the model's
//! random numbers are the same bits on every machine and in every release.
//!
//! * **SplitMix64** (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
//!   OOPSLA 2014; Vigna's `splitmix64.c`): state `x ← x + 0x9e3779b97f4a7c15`, output the
//!   MurmurHash3-style finaliser of the new state. Used only to seed.
//! * **xoshiro256\*\*** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
//!   2018/ACM TOMS 2021; `xoshiro256starstar.c`): 256-bit xor/shift/rotate state, output
//!   `rotl(s1·5, 7)·9`, period 2²⁵⁶ − 1. The all-zero state is the one fixed point and is
//!   rejected.
//!
//! Seeding follows the reference's advice: the four state words are four consecutive
//! SplitMix64 outputs (the construction `rand_xoshiro`'s `seed_from_u64` uses).
//!
//! **Streams.** [`stream`]`(seed, index)` gives scenario `index` its own generator, seeded from
//! a mix of `(seed, index)`. A scenario's draws therefore depend only on `(seed, index)`, never
//! on how scenarios are split across blocks or threads. Distinct indexes give distinct seeds
//! (the mix is injective in `index` for a fixed `seed`); two of the 2²⁵⁶-long sequences then
//! overlap within `L` draws with probability about `n²·L / 2²⁵⁶`, negligible for any run.
//!
//! **Uniforms.** [`Xoshiro256StarStar::next_f64`] returns `(k + ½)·2⁻⁵²` with `k` the top 52
//! bits: the midpoints of 2⁵² equal cells, so the value lies in the open interval
//! `[2⁻⁵³, 1 − 2⁻⁵³] ⊂ (0, 1)`, every value is exact, and `1 − u` is again on the grid (so the
//! inverse-normal sample is symmetric bit for bit). The 53-bit variant `(k + ½)·2⁻⁵³` is *not*
//! used: `k + ½` is not representable for `k ≥ 2⁵²`, and at `k = 2⁵³ − 1` it rounds to 2⁵³,
//! giving exactly 1.

/// Golden-ratio increment of SplitMix64, `⌊2⁶⁴/φ⌋` made odd.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// The SplitMix64 output function (Stafford's "Mix13" variant of the MurmurHash3 finaliser):
/// a bijection of `u64` with `mix64(0) = 0`.
const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit counter `x` stepped by the golden gamma and
/// passed through `mix64`. Every 64-bit state is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose first output is `mix64(state + GAMMA)`.
    pub const fn new(state: u64) -> SplitMix64 {
        SplitMix64 { state }
    }

    /// The next output: `x ← x + 0x9e3779b97f4a7c15` (wrapping), then the finaliser of `x`.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        mix64(self.state)
    }
}

/// xoshiro256\*\* 1.0 (Blackman & Vigna 2018). Never in the all-zero state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xoshiro256StarStar {
    s: [u64; 4],
}

impl Xoshiro256StarStar {
    /// The generator with exactly this state. The all-zero state would output zeros forever
    /// and is an [`crate::Error::OutOfRange`].
    pub fn from_state(s: [u64; 4]) -> Result<Xoshiro256StarStar, crate::Error> {
        if s == [0; 4] {
            return Err(crate::Error::OutOfRange {
                what: "xoshiro256** state (all zero)",
                value: 0.0,
            });
        }
        Ok(Xoshiro256StarStar { s })
    }

    /// The state `[w₀, w₁, w₂, w₃]` of four consecutive outputs of `SplitMix64::new(seed)`,
    /// as the reference recommends. Never all zero: the finaliser is a bijection and the four
    /// SplitMix states are distinct, so at most one word is zero.
    pub fn seed_from_u64(seed: u64) -> Xoshiro256StarStar {
        let mut sm = SplitMix64::new(seed);
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        Xoshiro256StarStar { s }
    }

    /// The current state, e.g. to record where a run stood.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// The next 64-bit output `rotl(s₁·5, 7)·9`, then the linear state update.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform in the open interval (0, 1): `((x >> 12) + ½)·2⁻⁵²` from one
    /// [`next_u64`](Self::next_u64), so it lies in `[2⁻⁵³, 1 − 2⁻⁵³]` and is exact.
    pub fn next_f64(&mut self) -> f64 {
        const SCALE: f64 = 1.0 / (1u64 << 52) as f64;
        ((self.next_u64() >> 12) as f64 + 0.5) * SCALE
    }
}

/// The generator of scenario `index` in the run seeded by `seed`:
/// `Xoshiro256StarStar::seed_from_u64(seed ⊕ mix64(index + γ))` with `γ` the SplitMix64
/// gamma. For a fixed `seed` distinct indexes give distinct generator seeds, and the result
/// depends on nothing but `(seed, index)`.
pub fn stream(seed: u64, index: u64) -> Xoshiro256StarStar {
    Xoshiro256StarStar::seed_from_u64(seed ^ mix64(index.wrapping_add(GAMMA)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64 written a second way: the whole step in `u128` arithmetic reduced mod 2⁶⁴,
    /// with the state kept as the counter `n` (state = n·γ).
    fn splitmix_u128(seed: u64, n: u64) -> u64 {
        const M: u128 = 1 << 64;
        let x = (seed as u128 + (n as u128) * (GAMMA as u128)) % M;
        let mut z = x;
        z = ((z ^ (z >> 30)) * 0xbf58_476d_1ce4_e5b9) % M;
        z = ((z ^ (z >> 27)) * 0x94d0_49bb_1331_11eb) % M;
        (z ^ (z >> 31)) as u64
    }

    #[test]
    fn splitmix64_from_zero_matches_published_outputs() {
        // The first outputs of splitmix64.c from x = 0.
        let expected = [
            0xe220_a839_7b1d_cdaf,
            0x6e78_9e6a_a1b9_65f4,
            0x06c4_5d18_8009_454f,
            0xf88b_b8a8_724c_81ec,
        ];
        let mut sm = SplitMix64::new(0);
        for (n, &e) in expected.iter().enumerate() {
            assert_eq!(splitmix_u128(0, n as u64 + 1), e);
            assert_eq!(sm.next_u64(), e);
        }
    }

    #[test]
    fn splitmix64_matches_rand_xoshiro_reference_vector() {
        // rand_xoshiro `splitmix64.rs` test `reference` (values from splitmix64.c).
        let expected = [
            1985237415132408290u64,
            2979275885539914483,
            13511426838097143398,
            8488337342461049707,
            15141737807933549159,
        ];
        let mut sm = SplitMix64::new(1477776061723855037);
        for (n, &e) in expected.iter().enumerate() {
            assert_eq!(sm.next_u64(), e);
            assert_eq!(splitmix_u128(1477776061723855037, n as u64 + 1), e);
        }
    }

    #[test]
    fn xoshiro256starstar_matches_reference_vector() {
        // rand_xoshiro `xoshiro256starstar.rs` test `reference`: state [1, 2, 3, 4], values
        // produced with Blackman & Vigna's xoshiro256starstar.c.
        let expected = [
            11520u64,
            0,
            1509978240,
            1215971899390074240,
            1216172134540287360,
            607988272756665600,
            16172922978634559625,
            8476171486693032832,
            10595114339597558777,
            2904607092377533576,
        ];
        let mut rng = Xoshiro256StarStar::from_state([1, 2, 3, 4]).unwrap();
        for &e in &expected {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn zero_state_is_rejected_and_seeding_never_gives_it() {
        assert!(Xoshiro256StarStar::from_state([0; 4]).is_err());
        let rng = Xoshiro256StarStar::seed_from_u64(0);
        assert_eq!(
            rng.state(),
            [
                0xe220_a839_7b1d_cdaf,
                0x6e78_9e6a_a1b9_65f4,
                0x06c4_5d18_8009_454f,
                0xf88b_b8a8_724c_81ec
            ]
        );
    }

    #[test]
    fn next_f64_is_in_the_open_interval_at_the_extremes() {
        // Feed the extreme 64-bit outputs through the same formula.
        let lo = ((0u64 >> 12) as f64 + 0.5) / (1u64 << 52) as f64;
        let hi = ((u64::MAX >> 12) as f64 + 0.5) / (1u64 << 52) as f64;
        assert_eq!(lo, libm::ldexp(1.0, -53));
        assert_eq!(hi, 1.0 - libm::ldexp(1.0, -53));
        assert!(lo > 0.0 && hi < 1.0);
        // And the 53-bit formula would hit 1.0 exactly.
        assert_eq!(
            (((u64::MAX >> 11) as f64) + 0.5) * libm::ldexp(1.0, -53),
            1.0
        );
        let mut rng = Xoshiro256StarStar::seed_from_u64(7);
        for _ in 0..10_000 {
            let u = rng.next_f64();
            assert!(u > 0.0 && u < 1.0);
        }
    }

    #[test]
    fn streams_depend_only_on_seed_and_index() {
        let a: [u64; 3] = core::array::from_fn(|i| stream(42, i as u64).next_u64());
        let b: [u64; 3] = core::array::from_fn(|i| stream(42, i as u64).next_u64());
        assert_eq!(a, b);
        assert!(a[0] != a[1] && a[1] != a[2] && a[0] != a[2]);
        assert_ne!(stream(42, 0).next_u64(), stream(43, 0).next_u64());
        // Index 0 of seed s is not index 1 of seed s − 1 or similar shifts.
        assert_ne!(stream(1, 0).state(), stream(0, 1).state());
    }
}
