//! The batch Black-76 kernel against `pricing::value` (the `libm` route): the same bits on
//! 2,000,000 random options, the same intrinsic values after expiry, the same errors, and
//! no-arbitrage bounds in the deep tails.

use margin_core::pricing::kernel::{OptionBatch, Vols};
use margin_core::pricing::value;
use margin_core::{Error, Instrument, Kind, PricingInputs, Right, Settlement};

/// SplitMix64 (Steele, Lea & Flood 2014): a fixed, portable stream.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Log-uniform in [a, b).
    fn log_uniform(&mut self, a: f64, b: f64) -> f64 {
        a * (b / a).powf(self.unit())
    }
}

fn option(right: Right, strike: f64, inverse: bool) -> Instrument {
    let mut i = Instrument::parse(if inverse {
        "BTC-27MAR26-100000-C"
    } else {
        "BTC_USDC-27MAR26-100000-C"
    })
    .unwrap();
    i.kind = match i.kind {
        Kind::Option { expiry, .. } => Kind::Option {
            expiry,
            strike,
            right,
        },
        k => k,
    };
    i
}

fn reference(i: &Instrument, forward: f64, vol: f64, time: f64, rate: f64) -> Result<f64, Error> {
    let inputs = PricingInputs {
        forward,
        vol,
        time,
        rate,
    };
    value(i, &inputs, forward)
}

const BATCH: usize = 50;

/// 40,000 options × 50 scenarios: strikes 1 to 10⁶, forwards 0.2×–5× strike, vols 0.05–3.0
/// (per scenario, or one for the batch), 1 hour to 3 years, rates −2 % to 10 %, calls and puts,
/// linear and inverse. Every value has the bits of `pricing::value`, lies in
/// `[0, D·F]` (call) or `[0, D·K]` (put) in USD, and is at least the discounted intrinsic
/// value up to rounding.
#[test]
fn two_million_random_values_have_the_bits_of_pricing_value() {
    let mut g = Mix(20_260_822);
    let (mut forwards, mut vols, mut out) = ([0.0; BATCH], [0.0; BATCH], [0.0; BATCH]);
    let (mut count, mut zeros, mut tiny, mut max_rel) = (0usize, 0usize, 0usize, 0.0f64);
    for n in 0..40_000 {
        let right = if g.next() & 1 == 0 {
            Right::Call
        } else {
            Right::Put
        };
        let inverse = g.next() & 1 == 0;
        let strike = g.log_uniform(1.0, 1e6);
        let time = g.log_uniform(1.0 / 8760.0, 3.0);
        let rate = -0.02 + 0.12 * g.unit();
        let i = option(right, strike, inverse);
        for j in 0..BATCH {
            forwards[j] = strike * g.log_uniform(0.2, 5.0);
            vols[j] = 0.05 + 2.95 * g.unit();
        }
        let constant = n % 4 == 0;
        let vol_of = |j: usize| if constant { vols[0] } else { vols[j] };
        let batch = OptionBatch::new(&i, rate, time).unwrap();
        let v = if constant {
            Vols::Constant(vols[0])
        } else {
            Vols::Each(&vols)
        };
        batch.values(&forwards, v, &mut out).unwrap();
        let df = libm::exp(-rate * time);
        for j in 0..BATCH {
            let f = forwards[j];
            let want = reference(&i, f, vol_of(j), time, rate).unwrap();
            let got = out[j];
            assert!(
                got.to_bits() == want.to_bits(),
                "{right:?} K={strike} F={f} σ={} T={time} r={rate} inverse={inverse}: \
                 kernel {got:e} vs value {want:e}",
                vol_of(j)
            );
            max_rel = max_rel.max((got - want).abs() / want.max(1e-8 * f));
            count += 1;
            let usd = if inverse { got * f } else { got };
            zeros += (usd == 0.0) as usize;
            tiny += (usd < 1e-8 * f) as usize;
            let (upper, intrinsic) = match right {
                Right::Call => (df * f, df * (f - strike).max(0.0)),
                Right::Put => (df * strike, df * (strike - f).max(0.0)),
            };
            assert!(
                usd >= 0.0 && usd <= upper * (1.0 + 1e-15),
                "{usd} > {upper}"
            );
            assert!(usd >= intrinsic - 1e-12 * upper, "{usd} < {intrinsic}");
        }
    }
    eprintln!(
        "{count} values, {tiny} below 1e-8·F, {zeros} zero, max relative difference {max_rel:e}"
    );
    assert_eq!(count, 2_000_000);
    assert_eq!(max_rel, 0.0);
    // The deep tails are exercised: short-dated low-vol options far from the money are 0.
    assert!(
        zeros > 100_000 && tiny > 400_000,
        "{zeros} zero, {tiny} tiny values"
    );
}

/// At or after expiry (the scenario's time step can pass it) the value is intrinsic, the vol
/// is ignored, as in `pricing::value`.
#[test]
fn expired_options_are_worth_intrinsic() {
    let forwards = [50.0, 99.0, 100.0, 101.0, 300.0];
    for right in [Right::Call, Right::Put] {
        for inverse in [false, true] {
            let i = option(right, 100.0, inverse);
            for time in [0.0, -0.5 / 365.0] {
                let mut out = [f64::NAN; 5];
                let batch = OptionBatch::new(&i, 0.03, time).unwrap();
                batch
                    .values(&forwards, Vols::Constant(f64::NAN), &mut out)
                    .unwrap();
                for (f, o) in forwards.iter().zip(out) {
                    let want = reference(&i, *f, 0.5, time, 0.03).unwrap();
                    assert_eq!(o.to_bits(), want.to_bits());
                }
            }
        }
    }
}

/// A bad forward or vol in one scenario is the error `pricing::value` gives for it; inputs the
/// SIMD lanes do not cover (`F/K` subnormal) still get `pricing::value`'s bits.
#[test]
fn errors_and_edge_inputs_are_those_of_pricing_value() {
    let i = option(Right::Put, 100.0, true);
    let batch = OptionBatch::new(&i, 0.0, 0.25).unwrap();
    let mut out = [0.0; 4];
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let forwards = [100.0, 90.0, bad, 110.0];
        let e = batch
            .values(&forwards, Vols::Constant(0.6), &mut out)
            .unwrap_err();
        assert_eq!(Err(e), reference(&i, bad, 0.6, 0.25, 0.0));
        let vols = [0.6, 0.6, bad, 0.6];
        let e = batch
            .values(&[100.0; 4], Vols::Each(&vols), &mut out)
            .unwrap_err();
        assert_eq!(Err(e), reference(&i, 100.0, bad, 0.25, 0.0));
    }
    // Linear: the scalar route's bits. Inverse: the value overflows, an error here where
    // `pricing::value` returns ∞ (the risk arrays reject it as a non-finite P&L).
    let linear = option(Right::Put, 100.0, false);
    let lin = OptionBatch::new(&linear, 0.0, 0.25).unwrap();
    let tiny = [1e-310, 5e-324, 1e300, 100.0];
    lin.values(&tiny, Vols::Constant(0.6), &mut out).unwrap();
    for (f, o) in tiny.iter().zip(out) {
        let want = reference(&linear, *f, 0.6, 0.25, 0.0).unwrap();
        assert_eq!(o.to_bits(), want.to_bits());
    }
    assert_eq!(
        batch.values(&tiny, Vols::Constant(0.6), &mut out),
        Err(Error::Overflow {
            what: "option value"
        })
    );
    assert_eq!(reference(&i, 1e-310, 0.6, 0.25, 0.0), Ok(f64::INFINITY));
    assert!(matches!(
        batch.values(&[1.0; 5], Vols::Constant(0.6), &mut out),
        Err(Error::Capacity { needed: 5, .. })
    ));
    assert!(matches!(
        batch.values(&[1.0; 4], Vols::Each(&[0.5; 3]), &mut out),
        Err(Error::Capacity { needed: 4, .. })
    ));
    let perp = Instrument::parse("BTC-PERPETUAL").unwrap();
    assert!(OptionBatch::new(&perp, 0.0, 1.0).is_err());
    assert!(OptionBatch::new(&i, f64::NAN, 1.0).is_err());
    assert!(OptionBatch::new(&i, 0.0, f64::INFINITY).is_err());
    assert_eq!(i.settlement, Settlement::Inverse);
}

/// The statistical path's kernel ([`OptionBatch::values_moved`]: `ln(F_j/K)` as
/// `ln(F/K) + ln(1 + x_j)`, the log-growth shared by every option of a coin) against
/// `pricing::value` at the shocked forward `F·(1 + x_j)`: 20,000 options × 50 moves (strikes 1
/// to 10⁶, current forwards 0.3×–3× strike, moves e^(±0.9) − 1, vols 0.05–3.0 per scenario or
/// one for the batch, 1 hour to 3 years, rates −2 % to 10 %, calls and puts, linear and
/// inverse). Not the bits (`ln(F/K) + ln g` rounds differently from `ln(F·g/K)`, and the
/// difference is amplified by `d·φ(d)/N(d)` and by the cancellation in `F·N(d1) − K·N(d2)`),
/// but within `BOUND` of max(|value|, 1e-8·F) in USD.
#[test]
fn a_million_moved_values_are_within_the_bound_of_pricing_value() {
    const BOUND: f64 = 1e-11;
    let mut g = Mix(20_261_129);
    let (mut forwards, mut growth, mut vols) = ([0.0; BATCH], [0.0; BATCH], [0.0; BATCH]);
    let mut out = [0.0; BATCH];
    let (mut count, mut tiny, mut max_rel, mut same) = (0usize, 0usize, 0.0f64, 0usize);
    for n in 0..20_000 {
        let right = if g.next() & 1 == 0 {
            Right::Call
        } else {
            Right::Put
        };
        let inverse = g.next() & 1 == 0;
        let strike = g.log_uniform(1.0, 1e6);
        let time = g.log_uniform(1.0 / 8760.0, 3.0);
        let rate = -0.02 + 0.12 * g.unit();
        let forward = strike * g.log_uniform(0.3, 3.0);
        let i = option(right, strike, inverse);
        for j in 0..BATCH {
            let x = g.log_uniform(0.4, 2.4) - 1.0;
            forwards[j] = forward * (1.0 + x);
            growth[j] = libm::log(1.0 + x);
            vols[j] = 0.05 + 2.95 * g.unit();
        }
        let constant = n % 4 == 0;
        let vol_of = |j: usize| if constant { vols[0] } else { vols[j] };
        let batch = OptionBatch::new(&i, rate, time).unwrap();
        let v = if constant {
            Vols::Constant(vols[0])
        } else {
            Vols::Each(&vols)
        };
        let ln_ratio = libm::log(forward / strike);
        batch
            .values_moved(ln_ratio, &growth, &forwards, v, &mut out)
            .unwrap();
        for j in 0..BATCH {
            let f = forwards[j];
            let want = reference(&i, f, vol_of(j), time, rate).unwrap();
            let got = out[j];
            let usd = |x: f64| if inverse { x * f } else { x };
            let rel = (usd(got) - usd(want)).abs() / usd(want).abs().max(1e-8 * f);
            assert!(
                rel <= BOUND,
                "{right:?} K={strike} F={f} σ={} T={time} r={rate} inverse={inverse}: \
                 kernel {got:e} vs value {want:e}, {rel:e}",
                vol_of(j)
            );
            max_rel = max_rel.max(rel);
            same += (got.to_bits() == want.to_bits()) as usize;
            tiny += (usd(want) < 1e-8 * f) as usize;
            count += 1;
        }
    }
    eprintln!(
        "{count} values, {tiny} below 1e-8·F, {same} with the bits of pricing::value, \
         max relative difference {max_rel:e}"
    );
    assert_eq!(count, 1_000_000);
    assert!(tiny > 100_000, "{tiny} tiny values");
}
