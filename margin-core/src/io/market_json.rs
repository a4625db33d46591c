//! Market JSON: one valuation time, per-coin index/rate/forwards, and the instruments listed
//! with their marks.
//!
//! ```json
//! {
//!   "valuation_time": "2026-08-22T15:33:51Z",
//!   "underlyings": {
//!     "BTC": {"index_price": 77081.8, "rate": 0.0,
//!             "forwards": {"2026-09-25T08:00:00Z": 77405.28}}
//!   },
//!   "instruments": {
//!     "BTC-PERPETUAL": {"mark_price": 77100.0},
//!     "BTC-25SEP26": {"mark_price": 77405.28},
//!     "BTC-25SEP26-120000-P": {"mark_iv": 0.6246, "mark_price": 0.5512}
//!   }
//! }
//! ```
//!
//! Rules (each broken rule is a [`FormatError`] naming the JSON path):
//! * `valuation_time`, expiries: ISO-8601 UTC. `index_price`, forwards, marks of perpetuals
//!   and futures, `mark_iv`: finite and positive. `rate`: finite, default 0. Option
//!   `mark_price`: finite and ≥ 0 (far out-of-the-money marks are 0).
//! * Instruments parse with [`crate::Instrument::parse`] and name a coin under `underlyings`.
//! * `X-PERPETUAL`'s `mark_price` is the perpetual price of X (default: the index).
//! * A future's `mark_price` is the forward of its expiry; if `forwards` also has that expiry
//!   the two must be equal.
//! * Options need `mark_iv` (their vol); their optional `mark_price` (settlement currency per
//!   option: coin for inverse) is kept for comparison with the model only. Every future and
//!   option needs a forward for its expiry.
//! * Any instrument may carry `bid_price` and `ask_price` (both or neither, in the mark's
//!   unit, `0 ≤ bid ≤ ask`): the quote the optimiser takes its half-spread costs from.
//! * Spot symbols are not market instruments (the index prices spot). Unknown fields and
//!   repeated keys are errors.
//! * Numbers must also lie within the plausibility bounds of [`super::market`] (vol ≤ 5.0,
//!   |rate| ≤ 0.5, forwards and perpetual within [0.5, 2] × index, prices ≤ 1e12) unless the
//!   file sets the optional top-level `"allow_implausible": true` (or the reader is called
//!   with [`MarketOptions::allow_implausible`]).

use super::error::{FormatError, FormatErrorKind, Location};
use super::market::{InstrumentQuote, MarketBuilder, MarketData, MarketOptions, UnderlyingData};
use super::{Ctx, Object};
use crate::instrument::Kind;
use crate::market::Forward;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

/// A JSON object read as its entries in document order, keeping repeated keys so that
/// duplicates can be reported instead of silently overwritten.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entries<T>(pub Vec<(String, T)>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

impl<T: Serialize> Serialize for Entries<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RawMarket {
    valuation_time: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    allow_implausible: bool,
    underlyings: Entries<Object<RawUnderlying>>,
    #[serde(default)]
    instruments: Entries<Object<RawQuote>>,
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RawUnderlying {
    index_price: f64,
    #[serde(default)]
    rate: f64,
    #[serde(default)]
    forwards: Entries<f64>,
}

#[derive(serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct RawQuote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mark_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mark_iv: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bid_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ask_price: Option<f64>,
}

fn path(p: String) -> Location {
    Location::Path(p)
}

/// Parses market JSON (see the module docs); `file` names the source in errors.
pub fn parse_market_json(text: &str, file: &Path) -> Result<MarketData, FormatError> {
    parse_market_json_with(text, file, MarketOptions::default())
}

/// [`parse_market_json`] with reader options (the file's own `allow_implausible` also counts).
pub fn parse_market_json_with(
    text: &str,
    file: &Path,
    options: MarketOptions,
) -> Result<MarketData, FormatError> {
    let ctx = Ctx { file };
    let raw: Object<RawMarket> = super::from_json(text, file)?;
    let raw = raw.0;
    let valuation_time = ctx.time(&raw.valuation_time, &path("valuation_time".into()))?;
    let mut b = MarketBuilder::new(file, valuation_time);
    b.options(MarketOptions {
        allow_implausible: options.allow_implausible || raw.allow_implausible,
    });
    for (code, Object(u)) in &raw.underlyings.0 {
        let at = path(format!("underlyings.{code}"));
        let asset = ctx.asset(code, &at)?;
        let index_price = ctx.positive(
            u.index_price,
            "index_price",
            &path(format!("underlyings.{code}.index_price")),
        )?;
        let rate = ctx.finite(u.rate, "rate", &path(format!("underlyings.{code}.rate")))?;
        b.underlying(
            UnderlyingData {
                asset,
                index_price,
                perpetual_price: index_price,
                rate,
                forwards: Vec::new(),
                vols: Vec::new(),
            },
            at,
        )?;
        for (expiry, price) in &u.forwards.0 {
            let at = path(format!("underlyings.{code}.forwards[\"{expiry}\"]"));
            let expiry = ctx.time(expiry, &at)?;
            let price = ctx.positive(*price, "forward", &at)?;
            b.forward(asset, Forward { expiry, price }, at)?;
        }
    }
    for (symbol, Object(q)) in &raw.instruments.0 {
        let at = path(format!("instruments[\"{symbol}\"]"));
        let instrument = ctx.symbol(symbol, &at)?;
        let field = |f: &str| path(format!("instruments[\"{symbol}\"].{f}"));
        let asset = instrument.underlying;
        match instrument.kind {
            Kind::Spot => {
                return Err(ctx.err(
                    &at,
                    FormatErrorKind::Unsupported(
                        "spot is priced by `index_price`, not listed as an instrument".into(),
                    ),
                ));
            }
            Kind::Perpetual | Kind::Future { .. } if q.mark_iv.is_some() => {
                return Err(ctx.err(
                    &field("mark_iv"),
                    FormatErrorKind::Unsupported("only options have a mark_iv".into()),
                ));
            }
            Kind::Perpetual => {
                if let Some(p) = q.mark_price {
                    let p = ctx.positive(p, "mark_price", &field("mark_price"))?;
                    b.perpetual(asset, p, field("mark_price"))?;
                }
            }
            Kind::Future { expiry } => {
                let p = q.mark_price.ok_or_else(|| {
                    ctx.err(
                        &at,
                        FormatErrorKind::Missing("field `mark_price` of a future"),
                    )
                })?;
                let p = ctx.positive(p, "mark_price", &field("mark_price"))?;
                // Restating the forward is fine; a different number is an error.
                if b.forward_price(asset, expiry) != Some(p) {
                    b.forward(asset, Forward { expiry, price: p }, field("mark_price"))?;
                }
            }
            Kind::Option { .. } => {
                let iv = q.mark_iv.ok_or_else(|| {
                    ctx.err(
                        &at,
                        FormatErrorKind::Missing("field `mark_iv` of an option"),
                    )
                })?;
                ctx.positive(iv, "mark_iv", &field("mark_iv"))?;
                if let Some(p) = q.mark_price {
                    ctx.non_negative(p, "mark_price", &field("mark_price"))?;
                }
            }
        }
        let quote = match (q.bid_price, q.ask_price) {
            (None, None) => None,
            (Some(bid), Some(ask)) => {
                let bid = ctx.non_negative(bid, "bid_price", &field("bid_price"))?;
                let ask = ctx.non_negative(ask, "ask_price", &field("ask_price"))?;
                if bid > ask {
                    return Err(ctx.err(
                        &field("ask_price"),
                        FormatErrorKind::Unsupported(format!(
                            "ask_price {ask} below bid_price {bid}"
                        )),
                    ));
                }
                Some((bid, ask))
            }
            _ => {
                return Err(ctx.err(
                    &at,
                    FormatErrorKind::Missing("both bid_price and ask_price (or neither)"),
                ));
            }
        };
        b.instrument(
            InstrumentQuote {
                instrument,
                mark_price: q.mark_price,
                mark_iv: q.mark_iv,
                quote,
            },
            at,
        )?;
    }
    b.finish()
}

/// Writes `market` as pretty market JSON that [`parse_market_json`] reads back to an equal
/// [`MarketData`]. A perpetual price different from the index is written as an
/// `X-PERPETUAL` mark (added to the instruments if the market does not list one).
pub fn write_market_json(market: &MarketData) -> String {
    let underlyings = market
        .underlyings
        .iter()
        .map(|u| {
            (
                u.asset.to_string(),
                Object(RawUnderlying {
                    index_price: u.index_price,
                    rate: u.rate,
                    forwards: Entries(
                        u.forwards
                            .iter()
                            .map(|f| (f.expiry.to_string(), f.price))
                            .collect(),
                    ),
                }),
            )
        })
        .collect();
    let mut instruments: Vec<(String, Object<RawQuote>)> = Vec::new();
    for u in &market.underlyings {
        let listed = market
            .instruments
            .iter()
            .any(|q| q.instrument.underlying == u.asset && q.instrument.kind == Kind::Perpetual);
        if u.perpetual_price != u.index_price && !listed {
            instruments.push((
                format!("{}-PERPETUAL", u.asset),
                Object(RawQuote {
                    mark_price: Some(u.perpetual_price),
                    mark_iv: None,
                    bid_price: None,
                    ask_price: None,
                }),
            ));
        }
    }
    for q in &market.instruments {
        let mark_price = match q.instrument.kind {
            // The reader takes the perpetual price from this mark (default: the index).
            Kind::Perpetual => match market.underlying(q.instrument.underlying) {
                Some(u) if q.mark_price.unwrap_or(u.index_price) != u.perpetual_price => {
                    Some(u.perpetual_price)
                }
                _ => q.mark_price,
            },
            _ => q.mark_price,
        };
        instruments.push((
            q.instrument.to_string(),
            Object(RawQuote {
                mark_price,
                mark_iv: q.mark_iv,
                bid_price: q.quote.map(|(b, _)| b),
                ask_price: q.quote.map(|(_, a)| a),
            }),
        ));
    }
    let raw = RawMarket {
        valuation_time: market.valuation_time.to_string(),
        allow_implausible: false,
        underlyings: Entries(underlyings),
        instruments: Entries(instruments),
    };
    // Serialising plain structs of strings and finite floats cannot fail.
    serde_json::to_string_pretty(&Object(raw)).unwrap_or_default()
}
