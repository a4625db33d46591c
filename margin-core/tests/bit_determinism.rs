//! Pins the exact f64 bit patterns of representative prices and Greeks.
//!
//! margin-core promises the same bits on every machine: all transcendentals go through
//! `libm` (pure Rust), never the platform's libm or fused operations chosen by the compiler.
//! The patterns below were computed once from the code at the commit that added this test
//! (x86_64 Linux) and must also hold on every other target.
//!
//! ANY CHANGE TO THESE CONSTANTS MUST BE EXPLAINED in the commit that makes it (a formula
//! change, a libm upgrade, a reordering of floating-point operations), because it changes
//! every margin number downstream. The decimal value of each pin is in its comment so a
//! reviewer can see how far a new result moved.

use margin_core::Right::{Call, Put};
use margin_core::pricing::{black76, black76_price, norm_cdf, valuation};
use margin_core::{Instrument, PricingInputs, Timestamp};

fn check(name: &str, x: f64, bits: u64) {
    assert_eq!(
        x.to_bits(),
        bits,
        "{name}: got {x:e} = 0x{:016x}, pinned {:e} = 0x{bits:016x}",
        x.to_bits(),
        f64::from_bits(bits)
    );
}

#[test]
fn pinned_bits() {
    // At the money, with a rate (Haug's F = K = 100, T = 0.5, σ = 25 %, r = 10 %: 6.6997).
    let atm = black76(Call, 100.0, 100.0, 0.25, 0.5, 0.10).unwrap();
    check("atm call value", atm.value, 0x401acc7d5c5de915); // 6.699696963531342
    check("atm call delta", atm.delta, 0x3fe04aa7c26bcfd9); // 0.5091131970680137
    check("atm call gamma", atm.gamma, 0x3f95e57e207ad862); // 0.021383257610715474
    check("atm call vega", atm.vega, 0x403abaa476a5f523); // 26.72907201339434
    check("atm call theta", atm.theta, 0xc0180c97ed695dd3); // -6.01229830699545

    // ETH-like in-the-money put.
    let put = black76(Put, 3000.0, 2400.0, 0.8, 0.1, 0.0).unwrap();
    check("put value", put.value, 0x405186acefe5cf2c); // 70.10430524294196
    check("put delta", put.delta, 0xbfc40b5d5ac26f96); // -0.1565968220864959

    // A real inverse row of the 2026-08-22 chain (mark 0.55116055 coin).
    let inverse = Instrument::parse("BTC-25SEP26-120000-P").unwrap();
    let now = Timestamp::parse_iso8601("2026-08-22T15:33:51.683630+00:00").unwrap();
    let inputs = PricingInputs {
        forward: 77405.28,
        vol: 0.6246,
        time: now.years_until(inverse.expiry().unwrap()),
        rate: 0.0,
    };
    let v = valuation(&inverse, &inputs).unwrap();
    check("inverse put value (coin)", v.value, 0x3fe1a2c094952244); // 0.5511172201159487
    check(
        "inverse put premium-adjusted delta",
        v.delta_premium_adjusted,
        0xbff89aae455839ba, // -1.5377638539099352
    );

    // Deep out of the money: the far tail of N.
    let otm = black76_price(Call, 77000.0, 320000.0, 0.9, 0.05, 0.0).unwrap();
    check("deep otm call", otm, 0x3e2ac9afd453f4a0); // 3.1185149207965073e-9
    check("N(-7.5)", norm_cdf(-7.5), 0x3d21f68f3dbb817f); // 3.1908916729108894e-14

    // One hour to expiry.
    let short = black76(Call, 77050.0, 77000.0, 0.4, 1.0 / (365.0 * 24.0), 0.0).unwrap();
    check("1h call value", short.value, 0x4063bacd691eb900); // 157.83757453918952
    check("1h call gamma", short.gamma, 0x3f539d8c879f39d6); // 0.0011972305642192669
    check("1h call theta", short.theta, 0xc1215a4044f6a1da); // -568608.1346941546
}
