//! The market snapshot at one explicit valuation time: per underlying the index, the
//! perpetual's mark, a forward per expiry, per-option implied vols and a rate.
//!
//! The snapshot borrows caller-owned slices, so building one allocates nothing; the
//! constructor checks every number once so later stages can trust them. Forwards are
//! sorted by expiry and vols by (expiry, strike, right), so lookups are binary searches.

use crate::error::{Error, finite, positive};
use crate::instrument::{Asset, Instrument, Kind, Right};
use crate::time::Timestamp;
use core::cmp::Ordering;

/// The forward (futures mark or synthetic forward) of one expiry, in USD per coin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forward {
    /// Expiry instant.
    pub expiry: Timestamp,
    /// Forward price, USD per coin.
    pub price: f64,
}

/// The implied volatility of one option (annualised, 0.45 = 45 %).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VolQuote {
    /// Expiry instant.
    pub expiry: Timestamp,
    /// Strike, USD per coin.
    pub strike: f64,
    /// Call or put.
    pub right: Right,
    /// Black-76 implied volatility on the expiry forward.
    pub vol: f64,
}

impl VolQuote {
    /// Orders this quote's (expiry, strike, right) against the given key: the surface's sort order.
    pub fn key_cmp(&self, expiry: Timestamp, strike: f64, right: Right) -> Ordering {
        self.expiry
            .cmp(&expiry)
            .then(self.strike.total_cmp(&strike))
            .then(self.right.cmp(&right))
    }
}

/// Market data of one underlying coin.
#[derive(Debug, Clone, Copy)]
pub struct UnderlyingMarket<'a> {
    /// The coin, e.g. `BTC`.
    pub asset: Asset,
    /// Spot index, USD per coin. Prices spot holdings and converts between coin and USD.
    pub index_price: f64,
    /// Mark of the perpetual, USD per coin (use the index when there is none).
    pub perpetual_price: f64,
    /// Continuously compounded rate used to discount option payoffs (Deribit: 0).
    pub rate: f64,
    /// Forwards, strictly increasing by expiry.
    pub forwards: &'a [Forward],
    /// Implied vols, strictly increasing by (expiry, strike, right).
    pub vols: &'a [VolQuote],
}

impl UnderlyingMarket<'_> {
    /// The forward of `expiry`.
    pub fn forward(&self, expiry: Timestamp) -> Result<f64, Error> {
        self.forwards
            .binary_search_by(|f| f.expiry.cmp(&expiry))
            .map(|i| self.forwards[i].price)
            .map_err(|_| Error::MissingForward {
                expiry_ms: expiry.0,
            })
    }

    /// The implied vol of an option. When only the other right is quoted at this strike, that
    /// vol is used: with one forward, put-call parity makes call and put vols equal.
    pub fn vol(&self, expiry: Timestamp, strike: f64, right: Right) -> Result<f64, Error> {
        let find = |r| self.vols.binary_search_by(|q| q.key_cmp(expiry, strike, r));
        let other = if right == Right::Call {
            Right::Put
        } else {
            Right::Call
        };
        find(right)
            .or_else(|_| find(other))
            .map(|i| self.vols[i].vol)
            .map_err(|_| Error::MissingVol {
                expiry_ms: expiry.0,
                strike,
            })
    }

    fn validate(&self) -> Result<(), Error> {
        positive(self.index_price, "index price")?;
        positive(self.perpetual_price, "perpetual price")?;
        finite(self.rate, "rate")?;
        for (i, f) in self.forwards.iter().enumerate() {
            f.expiry.checked()?;
            positive(f.price, "forward")?;
            if i > 0 && self.forwards[i - 1].expiry >= f.expiry {
                return Err(Error::Unsorted {
                    what: "forwards",
                    index: i,
                });
            }
        }
        for (i, q) in self.vols.iter().enumerate() {
            q.expiry.checked()?;
            positive(q.strike, "strike")?;
            positive(q.vol, "implied volatility")?;
            if i > 0 && self.vols[i - 1].key_cmp(q.expiry, q.strike, q.right) != Ordering::Less {
                return Err(Error::Unsorted {
                    what: "vols",
                    index: i,
                });
            }
        }
        Ok(())
    }
}

/// Everything Black-76 needs for one instrument at the valuation time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PricingInputs {
    /// Price of the instrument's underlying: forward of its expiry, perpetual mark, or index.
    pub forward: f64,
    /// Implied vol (0 for non-options).
    pub vol: f64,
    /// Years to expiry (0 for non-expiring instruments).
    pub time: f64,
    /// Discount rate.
    pub rate: f64,
}

impl PricingInputs {
    /// All zeros: a placeholder to fill caller storage before the risk arrays are built.
    pub const ZERO: PricingInputs = PricingInputs {
        forward: 0.0,
        vol: 0.0,
        time: 0.0,
        rate: 0.0,
    };
}

/// A validated market snapshot at one valuation time.
#[derive(Debug, Clone, Copy)]
pub struct MarketSnapshot<'a> {
    valuation_time: Timestamp,
    underlyings: &'a [UnderlyingMarket<'a>],
}

impl<'a> MarketSnapshot<'a> {
    /// Checks every number (finite, positive where required), every time (within
    /// [`Timestamp::MIN_SUPPORTED`]..=[`Timestamp::MAX_SUPPORTED`], else [`Error::BadTime`]),
    /// the sort order of forwards and vols, and that each underlying appears once.
    pub fn new(
        valuation_time: Timestamp,
        underlyings: &'a [UnderlyingMarket<'a>],
    ) -> Result<Self, Error> {
        valuation_time.checked()?;
        for (i, u) in underlyings.iter().enumerate() {
            if underlyings[..i].iter().any(|v| v.asset == u.asset) {
                return Err(Error::Duplicate {
                    what: "underlyings",
                    index: i,
                });
            }
            u.validate()?;
        }
        Ok(MarketSnapshot {
            valuation_time,
            underlyings,
        })
    }

    /// A snapshot over `underlyings` that [`MarketSnapshot::new`] already accepted with this
    /// `valuation_time`: no check, so an owner of immutable, validated market data (the `std`
    /// risk matrix) rebuilds its snapshot per call in O(1).
    #[cfg(feature = "std")]
    pub(crate) fn validated(
        valuation_time: Timestamp,
        underlyings: &'a [UnderlyingMarket<'a>],
    ) -> Self {
        MarketSnapshot {
            valuation_time,
            underlyings,
        }
    }

    /// The valuation time every time to expiry is measured from.
    pub fn valuation_time(&self) -> Timestamp {
        self.valuation_time
    }

    /// All underlyings, in the order given.
    pub fn underlyings(&self) -> &'a [UnderlyingMarket<'a>] {
        self.underlyings
    }

    /// Market data of `asset`.
    pub fn underlying(&self, asset: Asset) -> Result<&'a UnderlyingMarket<'a>, Error> {
        self.underlyings
            .iter()
            .find(|u| u.asset == asset)
            .ok_or(Error::UnknownUnderlying)
    }

    /// Pricing inputs of `instrument`; instruments at or past expiry are [`Error::Expired`].
    pub fn inputs(&self, instrument: &Instrument) -> Result<PricingInputs, Error> {
        // Expiry first: a market has no forward for a past expiry, and "expired" is the reason.
        let time = match instrument.expiry() {
            Some(e) if e <= self.valuation_time => return Err(Error::Expired { expiry_ms: e.0 }),
            Some(e) => self.valuation_time.years_until(e),
            None => 0.0,
        };
        let u = self.underlying(instrument.underlying)?;
        let (forward, vol) = match instrument.kind {
            Kind::Spot => (u.index_price, 0.0),
            Kind::Perpetual => (u.perpetual_price, 0.0),
            Kind::Future { expiry } => (u.forward(expiry)?, 0.0),
            Kind::Option {
                expiry,
                strike,
                right,
            } => (u.forward(expiry)?, u.vol(expiry, strike, right)?),
        };
        Ok(PricingInputs {
            forward,
            vol,
            time,
            rate: u.rate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: an expired future whose expiry has no forward reads as expired, not as a
    /// missing forward.
    #[test]
    fn expired_is_reported_before_missing_data() {
        let btc = Asset::new("BTC").unwrap();
        let u = [UnderlyingMarket {
            asset: btc,
            index_price: 100.0,
            perpetual_price: 100.0,
            rate: 0.0,
            forwards: &[],
            vols: &[],
        }];
        let now = Timestamp::from_civil(2026, 8, 22, 12).unwrap();
        let m = MarketSnapshot::new(now, &u).unwrap();
        let past = Instrument::parse("BTC-27MAR26").unwrap();
        assert_eq!(
            m.inputs(&past),
            Err(Error::Expired {
                expiry_ms: past.expiry().unwrap().0
            })
        );
        let future = Instrument::parse("BTC-25SEP26").unwrap();
        assert!(matches!(
            m.inputs(&future),
            Err(Error::MissingForward { .. })
        ));
    }
}
