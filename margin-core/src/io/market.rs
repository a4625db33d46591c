//! The owned market: what a market file holds, and the validated [`MarketSnapshot`] that
//! borrows it.
//!
//! The core's snapshot borrows slices so it never allocates; this module owns those slices.
//! Getting a snapshot takes two lines, because the snapshot borrows the per-underlying views:
//!
//! ```
//! # use margin_core::io::MarketData;
//! # fn demo(market: &MarketData) -> Result<(), margin_core::Error> {
//! let views = market.views();
//! let snapshot = market.snapshot(&views)?;
//! # let _ = snapshot; Ok(()) }
//! ```
//!
//! Every reader builds a [`MarketData`] through [`MarketBuilder`], which sorts forwards by
//! expiry and vols by (expiry, strike, right) as `market.rs` requires, rejects duplicates,
//! and checks the result with [`MarketSnapshot::new`] — so a `MarketData` from a reader always
//! yields a snapshot.
//!
//! # Plausibility bounds
//!
//! Every reader also rejects numbers that are valid but almost certainly a mistake (a vol in
//! percent, a price in the wrong unit), naming the field. The bounds live here, once
//! ([`check_plausible`], called by [`MarketBuilder::finish`] and by the C ABI for markets given
//! as arrays):
//!
//! | quantity | accepted | why |
//! |---|---|---|
//! | implied vol (`mark_iv`, `implied_volatility`) | ≤ [`MAX_VOL`] = 5.0 (500 %) | vols are decimals; Deribit's API writes 46.0 for 46 % |
//! | `rate` | \|rate\| ≤ [`MAX_ABS_RATE`] = 0.5 | 50 % a year; a rate of 1 or 800 is a unit slip |
//! | forward / index, perpetual / index | within [[`MIN_FORWARD_RATIO`], [`MAX_FORWARD_RATIO`]] = [0.5, 2] | a rate within the bound above moves a 1-year forward by at most e^0.5 ≈ 1.65×, and listed crypto basis stays far below 2×; a forward 1,000× off its index is a wrong field |
//! | index, forwards, perpetual and instrument marks | ≤ [`MAX_PRICE`] = 1e12 | no coin is worth a trillion USD; 1e300 would overflow the scenarios |
//!
//! A user who really means such a market sets [`MarketOptions::allow_implausible`] (market
//! JSON: top-level `"allow_implausible": true`; CLI: `--allow-implausible-market`).

use super::error::{FormatError, FormatErrorKind, Location};
use crate::instrument::{Asset, Instrument, Kind, Right};
use crate::market::{Forward, MarketSnapshot, UnderlyingMarket, VolQuote};
use crate::time::Timestamp;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Largest accepted implied vol, as a decimal (5.0 = 500 %).
pub const MAX_VOL: f64 = 5.0;
/// Largest accepted |rate| (continuously compounded, per year).
pub const MAX_ABS_RATE: f64 = 0.5;
/// Smallest accepted forward / index (also perpetual / index).
pub const MIN_FORWARD_RATIO: f64 = 0.5;
/// Largest accepted forward / index (also perpetual / index).
pub const MAX_FORWARD_RATIO: f64 = 2.0;
/// Largest accepted price or mark (USD per coin, or settlement currency per option).
pub const MAX_PRICE: f64 = 1e12;

/// How a market reader treats its input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarketOptions {
    /// Accept numbers outside the plausibility bounds (see the module docs). Off by default.
    pub allow_implausible: bool,
}

/// One checked number of a market, to locate it in its source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarketItem {
    /// The index of a coin.
    Index(Asset),
    /// The rate of a coin.
    Rate(Asset),
    /// The perpetual price of a coin.
    Perpetual(Asset),
    /// The forward of one expiry of a coin.
    Forward(Asset, Timestamp),
    /// The vol of one (expiry, strike, right) of a coin.
    Vol(Asset, Timestamp, f64, Right),
    /// The mark of a listed instrument.
    Mark(Instrument),
}

/// The plausibility rules, one function per kind of number: `Err((what was expected))` when
/// a value is outside its bound. Shared by [`check_plausible`] and the per-row checks of the
/// Deribit reader.
pub(crate) mod rule {
    use super::*;

    pub const PRICE: &str = "at most 1e12 USD per coin";
    pub const RATIO: &str = "within [0.5, 2] times the index";
    pub const RATE: &str = "a decimal rate with |rate| <= 0.5 (50 % a year)";
    pub const MARK: &str = "at most 1e12 in the instrument's price unit";
    pub const VOL: &str = "a decimal vol of at most 5.0 (500 %), e.g. 0.46 for 46 %";

    pub fn price(x: f64) -> Result<(), &'static str> {
        if x <= MAX_PRICE { Ok(()) } else { Err(PRICE) }
    }

    /// An instrument's mark (an option's is in its settlement currency).
    pub fn mark(x: f64) -> Result<(), &'static str> {
        price(x).map_err(|_| MARK)
    }

    /// A forward or perpetual price: a plausible price within the ratio bounds of `index`.
    pub fn forward(x: f64, index: f64) -> Result<(), &'static str> {
        price(x)?;
        if (MIN_FORWARD_RATIO..=MAX_FORWARD_RATIO).contains(&(x / index)) {
            Ok(())
        } else {
            Err(RATIO)
        }
    }

    pub fn rate(r: f64) -> Result<(), &'static str> {
        if r.abs() <= MAX_ABS_RATE {
            Ok(())
        } else {
            Err(RATE)
        }
    }

    pub fn vol(v: f64) -> Result<(), &'static str> {
        if v <= MAX_VOL { Ok(()) } else { Err(VOL) }
    }
}

/// Checks `market` against the plausibility bounds (module docs); `locate` names where an
/// item came from, `file` the source. The one place these rules are applied to a market.
pub fn check_plausible(
    market: &MarketData,
    file: &Path,
    locate: &dyn Fn(MarketItem) -> Location,
) -> Result<(), FormatError> {
    let check = |item, what: &'static str, value: f64, verdict: Result<(), &'static str>| {
        verdict.map_err(|expected| {
            FormatError::new(
                file,
                locate(item),
                FormatErrorKind::Implausible {
                    what,
                    value,
                    expected,
                },
            )
        })
    };
    for u in &market.underlyings {
        let (a, index) = (u.asset, u.index_price);
        check(
            MarketItem::Index(a),
            "index_price",
            index,
            rule::price(index),
        )?;
        check(MarketItem::Rate(a), "rate", u.rate, rule::rate(u.rate))?;
        for f in &u.forwards {
            let item = MarketItem::Forward(a, f.expiry);
            check(item, "forward", f.price, rule::forward(f.price, index))?;
        }
        let perp = u.perpetual_price;
        let item = MarketItem::Perpetual(a);
        check(item, "perpetual price", perp, rule::forward(perp, index))?;
        for v in &u.vols {
            let item = MarketItem::Vol(a, v.expiry, v.strike, v.right);
            check(item, "implied vol", v.vol, rule::vol(v.vol))?;
        }
    }
    for q in &market.instruments {
        if let Some(m) = q.mark_price {
            check(
                MarketItem::Mark(q.instrument),
                "mark_price",
                m,
                rule::mark(m),
            )?;
        }
    }
    Ok(())
}

/// [`check_plausible`] for a market not read from a file (e.g. given as C arrays): items are
/// located by generic paths such as `underlyings[BTC].forwards[2026-09-25T08:00:00Z]`.
pub fn check_plausible_market(market: &MarketData, file: &Path) -> Result<(), FormatError> {
    check_plausible(market, file, &|item| {
        Location::Path(match item {
            MarketItem::Index(a) => format!("underlyings[{a}].index_price"),
            MarketItem::Rate(a) => format!("underlyings[{a}].rate"),
            MarketItem::Perpetual(a) => format!("underlyings[{a}].perpetual_price"),
            MarketItem::Forward(a, e) => format!("underlyings[{a}].forwards[{e}]"),
            MarketItem::Vol(a, e, k, r) => {
                format!("underlyings[{a}].vols[{e} {k} {r:?}]")
            }
            MarketItem::Mark(i) => format!("instruments[{i}].mark_price"),
        })
    })
}

/// Market data of one coin, owning its forwards and vols (sorted as [`UnderlyingMarket`] requires).
#[derive(Debug, Clone, PartialEq)]
pub struct UnderlyingData {
    /// The coin, e.g. `BTC`.
    pub asset: Asset,
    /// Spot index, USD per coin.
    pub index_price: f64,
    /// Perpetual mark, USD per coin (the index when the file gives none).
    pub perpetual_price: f64,
    /// Continuously compounded rate (Deribit: 0).
    pub rate: f64,
    /// Forwards, strictly increasing by expiry.
    pub forwards: Vec<Forward>,
    /// Implied vols, strictly increasing by (expiry, strike, right).
    pub vols: Vec<VolQuote>,
}

/// An instrument named by a market file, with the marks the file gives for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstrumentQuote {
    /// The contract.
    pub instrument: Instrument,
    /// The venue's mark in the instrument's price unit: USD per coin for perpetuals and
    /// futures; for options the value of one option in its settlement currency (coin for
    /// inverse options, as Deribit quotes them; USD for linear ones). Kept for comparison with
    /// the model; never used to price.
    pub mark_price: Option<f64>,
    /// Mark implied vol of an option (0.45 = 45 %); it is also in the underlying's vols.
    pub mark_iv: Option<f64>,
    /// Best bid and ask in the mark's price unit, when the file quotes both (`bid ≤ ask`, both
    /// finite and ≥ 0): the optimiser's half-spread cost. Never used to price.
    pub quote: Option<(f64, f64)>,
}

/// A whole market file: valuation time, per-coin data and the instruments it lists.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketData {
    /// The valuation time every time to expiry is measured from.
    pub valuation_time: Timestamp,
    /// One entry per coin, in the order the file gives them (Deribit CSV: sorted by code).
    pub underlyings: Vec<UnderlyingData>,
    /// Listed instruments, sorted by (underlying, settlement, kind, expiry, strike, right).
    pub instruments: Vec<InstrumentQuote>,
}

impl UnderlyingData {
    /// The borrowed view the core works with.
    pub fn view(&self) -> UnderlyingMarket<'_> {
        UnderlyingMarket {
            asset: self.asset,
            index_price: self.index_price,
            perpetual_price: self.perpetual_price,
            rate: self.rate,
            forwards: &self.forwards,
            vols: &self.vols,
        }
    }
}

impl MarketData {
    /// One view per underlying, to pass to [`MarketData::snapshot`].
    pub fn views(&self) -> Vec<UnderlyingMarket<'_>> {
        self.underlyings.iter().map(UnderlyingData::view).collect()
    }

    /// The validated snapshot over `views` (from [`MarketData::views`]) at this market's time.
    pub fn snapshot<'a>(
        &self,
        views: &'a [UnderlyingMarket<'a>],
    ) -> Result<MarketSnapshot<'a>, crate::Error> {
        MarketSnapshot::new(self.valuation_time, views)
    }

    /// Data of one coin.
    pub fn underlying(&self, asset: Asset) -> Option<&UnderlyingData> {
        self.underlyings.iter().find(|u| u.asset == asset)
    }

    /// The options among the listed instruments, in listing order.
    pub fn options(&self) -> impl Iterator<Item = &InstrumentQuote> {
        self.instruments
            .iter()
            .filter(|q| matches!(q.instrument.kind, Kind::Option { .. }))
    }
}

/// Total order of instruments used to list them: underlying, settlement, kind (spot,
/// perpetual, future, option), expiry, strike, right.
pub fn instrument_order(a: &Instrument, b: &Instrument) -> Ordering {
    fn key(i: &Instrument) -> (u8, Timestamp, f64, Option<Right>) {
        match i.kind {
            Kind::Spot => (0, Timestamp(i64::MIN), 0.0, None),
            Kind::Perpetual => (1, Timestamp(i64::MIN), 0.0, None),
            Kind::Future { expiry } => (2, expiry, 0.0, None),
            Kind::Option {
                expiry,
                strike,
                right,
            } => (3, expiry, strike, Some(right)),
        }
    }
    let (ka, kb) = (key(a), key(b));
    a.underlying
        .cmp(&b.underlying)
        .then(a.settlement.cmp(&b.settlement))
        .then(ka.0.cmp(&kb.0))
        .then(ka.1.cmp(&kb.1))
        .then(ka.2.total_cmp(&kb.2))
        .then(ka.3.cmp(&kb.3))
}

/// An instrument ordered by [`instrument_order`], so the readers find a repeated instrument
/// in a sorted set (O(log n)) instead of a scan. Strikes are positive and finite, so equal
/// under this order means equal instruments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ordered(pub(crate) Instrument);

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> Ordering {
        instrument_order(&self.0, &other.0)
    }
}

/// The key of a vol quote (coin, expiry, strike, right), ordered as [`VolQuote::key_cmp`].
#[derive(Debug, Clone, Copy)]
struct VolKey(Asset, VolQuote);

impl PartialEq for VolKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for VolKey {}
impl PartialOrd for VolKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for VolKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0).then(vol_order(&self.1, &other.1))
    }
}

/// Collects a market entry by entry, remembering where each came from, then sorts, rejects
/// duplicates and validates. Shared by every market reader so the rules live in one place.
#[derive(Debug)]
pub struct MarketBuilder<'p> {
    file: &'p Path,
    valuation_time: Timestamp,
    underlyings: Vec<(UnderlyingData, Location)>,
    forwards: Vec<(Asset, Forward, Location)>,
    perpetuals: Vec<(Asset, f64, Location)>,
    vols: Vec<(Asset, VolQuote, Location)>,
    instruments: Vec<(InstrumentQuote, Location)>,
    /// The instruments added so far, for the duplicate check (O(log n) per entry).
    seen: BTreeSet<Ordered>,
    /// Index in `vols` of each vol key, for the shared-surface check (O(log n) per entry).
    vol_index: BTreeMap<VolKey, usize>,
    options: MarketOptions,
}

impl<'p> MarketBuilder<'p> {
    /// An empty market read from `file` (used only in error messages).
    pub fn new(file: &'p Path, valuation_time: Timestamp) -> Self {
        MarketBuilder {
            file,
            valuation_time,
            underlyings: Vec::new(),
            forwards: Vec::new(),
            perpetuals: Vec::new(),
            vols: Vec::new(),
            instruments: Vec::new(),
            seen: BTreeSet::new(),
            vol_index: BTreeMap::new(),
            options: MarketOptions::default(),
        }
    }

    /// Sets how the finished market is checked (default: plausibility bounds enforced).
    pub fn options(&mut self, options: MarketOptions) {
        self.options = options;
    }

    fn err(&self, at: &Location, kind: FormatErrorKind) -> FormatError {
        FormatError::new(self.file, at.clone(), kind)
    }

    /// Adds a coin (its forwards and vols may be empty and added later).
    pub fn underlying(&mut self, data: UnderlyingData, at: Location) -> Result<(), FormatError> {
        if self.underlyings.iter().any(|(u, _)| u.asset == data.asset) {
            return Err(self.err(
                &at,
                FormatErrorKind::Duplicate {
                    what: "underlying",
                    key: data.asset.to_string(),
                },
            ));
        }
        self.underlyings.push((data, at));
        Ok(())
    }

    /// Adds the forward of one expiry of `asset`. The same expiry twice is an error unless the
    /// prices are equal bit for bit (a future's mark restating the forward).
    pub fn forward(&mut self, asset: Asset, fwd: Forward, at: Location) -> Result<(), FormatError> {
        self.known(asset, &at)?;
        if let Some((_, prev, prev_at)) = self
            .forwards
            .iter()
            .find(|(a, f, _)| *a == asset && f.expiry == fwd.expiry)
        {
            return Err(if prev.price == fwd.price {
                self.err(
                    &at,
                    FormatErrorKind::Duplicate {
                        what: "forward",
                        key: format!("{asset} {}", fwd.expiry),
                    },
                )
            } else {
                self.err(
                    &at,
                    FormatErrorKind::Conflict(format!(
                        "forward {} for {asset} expiry {} disagrees with {} at {}",
                        fwd.price,
                        fwd.expiry,
                        prev.price,
                        describe(prev_at)
                    )),
                )
            });
        }
        self.forwards.push((asset, fwd, at));
        Ok(())
    }

    /// The forward already added for this expiry of `asset`, if any.
    pub fn forward_price(&self, asset: Asset, expiry: Timestamp) -> Option<f64> {
        self.forwards
            .iter()
            .find(|(a, f, _)| *a == asset && f.expiry == expiry)
            .map(|(_, f, _)| f.price)
    }

    /// Adds one listed instrument; an option's `mark_iv` also becomes a vol quote.
    pub fn instrument(&mut self, quote: InstrumentQuote, at: Location) -> Result<(), FormatError> {
        let inst = quote.instrument;
        self.known(inst.underlying, &at)?;
        if self.seen.contains(&Ordered(inst)) {
            return Err(self.err(
                &at,
                FormatErrorKind::Duplicate {
                    what: "instrument",
                    key: inst.to_string(),
                },
            ));
        }
        if let (
            Kind::Option {
                expiry,
                strike,
                right,
            },
            Some(vol),
        ) = (inst.kind, quote.mark_iv)
        {
            let q = VolQuote {
                expiry,
                strike,
                right,
                vol,
            };
            // An inverse and a linear option with the same terms share one vol surface entry.
            let key = VolKey(inst.underlying, q);
            match self.vol_index.get(&key).map(|&k| &self.vols[k]) {
                Some((_, v, _)) if v.vol == vol => {}
                Some((_, v, prev_at)) => {
                    return Err(self.err(
                        &at,
                        FormatErrorKind::Conflict(format!(
                            "mark_iv {vol} of {inst} disagrees with vol {} at {} for the same expiry, strike and right",
                            v.vol,
                            describe(prev_at)
                        )),
                    ));
                }
                None => {
                    self.vol_index.insert(key, self.vols.len());
                    self.vols.push((inst.underlying, q, at.clone()));
                }
            }
        }
        self.seen.insert(Ordered(inst));
        self.instruments.push((quote, at));
        Ok(())
    }

    /// Sets the perpetual mark of `asset`. Several perpetuals on one coin (inverse and
    /// linear) may restate the same mark; a different mark is a conflict, never overwritten.
    pub fn perpetual(&mut self, asset: Asset, price: f64, at: Location) -> Result<(), FormatError> {
        self.known(asset, &at)?;
        if let Some((_, prev, prev_at)) = self.perpetuals.iter().find(|(a, ..)| *a == asset) {
            if *prev == price {
                return Ok(());
            }
            return Err(self.err(
                &at,
                FormatErrorKind::Conflict(format!(
                    "perpetual mark {price} for {asset} disagrees with {prev} at {}",
                    describe(prev_at)
                )),
            ));
        }
        if let Some((u, _)) = self.underlyings.iter_mut().find(|(u, _)| u.asset == asset) {
            u.perpetual_price = price;
        }
        self.perpetuals.push((asset, price, at));
        Ok(())
    }

    fn known(&self, asset: Asset, at: &Location) -> Result<(), FormatError> {
        if self.underlyings.iter().any(|(u, _)| u.asset == asset) {
            Ok(())
        } else {
            Err(self.err(at, FormatErrorKind::UnknownCurrency(asset.to_string())))
        }
    }

    /// Sorts, checks that every listed option and future has a forward, validates the whole
    /// market with the core, and checks the plausibility bounds unless the options allow
    /// implausible numbers.
    pub fn finish(self) -> Result<MarketData, FormatError> {
        for (q, at) in &self.instruments {
            if let Some(expiry) = q.instrument.expiry()
                && self
                    .forward_price(q.instrument.underlying, expiry)
                    .is_none()
            {
                return Err(self.err(
                    at,
                    FormatErrorKind::Missing("forward for this instrument's expiry"),
                ));
            }
        }
        let file = self.file;
        let mut underlyings = Vec::with_capacity(self.underlyings.len());
        for (u, _) in &self.underlyings {
            let mut u = u.clone();
            u.forwards = self
                .forwards
                .iter()
                .filter(|(a, ..)| *a == u.asset)
                .map(|(_, f, _)| *f)
                .collect();
            u.forwards.sort_by_key(|f| f.expiry);
            u.vols = self
                .vols
                .iter()
                .filter(|(a, ..)| *a == u.asset)
                .map(|(_, v, _)| *v)
                .collect();
            u.vols.sort_by(vol_order);
            underlyings.push(u);
        }
        let mut instruments: Vec<InstrumentQuote> =
            self.instruments.iter().map(|(q, _)| *q).collect();
        instruments.sort_by(|a, b| instrument_order(&a.instrument, &b.instrument));
        let market = MarketData {
            valuation_time: self.valuation_time,
            underlyings,
            instruments,
        };
        let views = market.views();
        market
            .snapshot(&views)
            .map_err(|e| FormatError::new(file, Location::File, FormatErrorKind::Market(e)))?;
        if !self.options.allow_implausible {
            let locate = |item: MarketItem| -> Location {
                let found = match item {
                    MarketItem::Index(a) | MarketItem::Rate(a) => self
                        .underlyings
                        .iter()
                        .find(|(u, _)| u.asset == a)
                        .map(|(_, at)| {
                            let name = if matches!(item, MarketItem::Index(_)) {
                                "index_price"
                            } else {
                                "rate"
                            };
                            field(at, Some(name), name)
                        }),
                    MarketItem::Perpetual(a) => self
                        .perpetuals
                        .iter()
                        .find(|(p, ..)| *p == a)
                        .map(|(.., at)| at.clone()),
                    MarketItem::Forward(a, e) => self
                        .forwards
                        .iter()
                        .find(|(p, f, _)| *p == a && f.expiry == e)
                        .map(|(.., at)| at.clone()),
                    MarketItem::Vol(a, e, k, r) => self
                        .vols
                        .iter()
                        .find(|(p, v, _)| *p == a && v.key_cmp(e, k, r) == Ordering::Equal)
                        .map(|(.., at)| field(at, Some("mark_iv"), "implied_volatility")),
                    MarketItem::Mark(i) => self
                        .instruments
                        .iter()
                        .find(|(q, _)| q.instrument == i)
                        .map(|(_, at)| field(at, Some("mark_price"), "mark_price")),
                };
                found.unwrap_or(Location::File)
            };
            check_plausible(&market, file, &locate)?;
        }
        Ok(market)
    }
}

fn vol_order(a: &VolQuote, b: &VolQuote) -> Ordering {
    a.key_cmp(b.expiry, b.strike, b.right)
}

/// `at` narrowed to one field: a JSON path gets `.json` appended, a CSV line without a column
/// gets column `csv`; a location that already names a column, or the whole file, is kept.
fn field(at: &Location, json: Option<&str>, csv: &str) -> Location {
    match (at, json) {
        (Location::Path(p), Some(name)) => Location::Path(format!("{p}.{name}")),
        (Location::Line { line, column: None }, _) => Location::Line {
            line: *line,
            column: Some(csv.to_string()),
        },
        _ => at.clone(),
    }
}

fn describe(at: &Location) -> String {
    match at {
        Location::File => "another entry".to_string(),
        Location::Line { line, .. } => format!("line {line}"),
        Location::Path(p) => format!("`{p}`"),
    }
}
