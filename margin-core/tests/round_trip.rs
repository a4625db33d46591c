//! Text forms read back to the same value: Deribit symbols and ISO-8601 timestamps.

use margin_core::instrument::EXPIRY_HOUR_UTC;
use margin_core::time::days_in_month;
use margin_core::{Asset, Instrument, Kind, Right, Settlement, Timestamp};
use proptest::prelude::*;

fn asset() -> impl Strategy<Value = Asset> {
    "[A-Z0-9]{1,10}".prop_map(|s| Asset::new(&s).expect("generated code is valid"))
}

/// Any existing day of 2000–2099 at 08:00 UTC (Deribit symbols carry a two-digit year).
fn expiry() -> impl Strategy<Value = Timestamp> {
    (2000i64..2100, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| {
        Timestamp::from_civil(y, m, d.min(days_in_month(y, m)), EXPIRY_HOUR_UTC).unwrap()
    })
}

/// Whole strikes, decimal strikes like 142.5 or 0.0035, and arbitrary doubles.
fn strike() -> impl Strategy<Value = f64> {
    prop_oneof![
        (1u64..10_000_000).prop_map(|k| k as f64),
        (1u64..10_000_000, 1i32..6).prop_map(|(m, e)| m as f64 / 10f64.powi(e)),
        1e-3f64..1e9,
    ]
}

fn instrument() -> impl Strategy<Value = Instrument> {
    let settlement = prop_oneof![
        Just(Settlement::Inverse),
        // Linear contracts are quoted in a supported USD stablecoin (issue 13).
        prop::sample::select(&margin_core::instrument::USD_STABLECOINS[..]).prop_map(|q| {
            Settlement::Linear {
                quote: Asset::new(q).unwrap(),
            }
        }),
    ];
    let kind = prop_oneof![
        Just(Kind::Spot),
        Just(Kind::Perpetual),
        expiry().prop_map(|expiry| Kind::Future { expiry }),
        (
            expiry(),
            strike(),
            prop_oneof![Just(Right::Call), Just(Right::Put)]
        )
            .prop_map(|(expiry, strike, right)| Kind::Option {
                expiry,
                strike,
                right
            }),
    ];
    (asset(), settlement, kind).prop_map(|(underlying, settlement, kind)| Instrument {
        underlying,
        settlement,
        kind,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn instrument_symbol_round_trips(x in instrument()) {
        let symbol = x.to_string();
        prop_assert_eq!(Instrument::parse(&symbol), Ok(x), "{}", symbol);
    }

    /// Every millisecond of years 0000–9999 prints as ISO-8601 and parses back.
    #[test]
    fn timestamp_round_trips(ms in -62_167_219_200_000i64..253_402_300_800_000) {
        let t = Timestamp(ms);
        let text = t.to_string();
        prop_assert_eq!(Timestamp::parse_iso8601(&text), Ok(t), "{}", text);
    }

    /// An explicit offset names the same instant as the UTC form.
    #[test]
    fn offsets_shift_the_instant(ms in 0i64..4_102_444_800_000, minutes in -(23 * 60 + 59)..=(23i64 * 60 + 59)) {
        let utc = Timestamp(ms).to_string();
        let local = Timestamp(ms + minutes * 60_000).to_string();
        let sign = if minutes < 0 { '-' } else { '+' };
        let with_offset = format!(
            "{}{sign}{:02}:{:02}",
            local.trim_end_matches('Z'),
            minutes.abs() / 60,
            minutes.abs() % 60
        );
        prop_assert_eq!(Timestamp::parse_iso8601(&with_offset), Timestamp::parse_iso8601(&utc));
    }
}
