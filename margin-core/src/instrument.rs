//! Contract terms and Deribit symbol parsing. An [`Instrument`] knows no prices.
//!
//! Symbols follow Deribit's naming:
//!
//! | symbol | instrument |
//! |---|---|
//! | `BTC` | the coin itself (collateral), coin-settled |
//! | `BTC_USDC` | linear spot pair |
//! | `BTC-PERPETUAL` / `BTC_USDC-PERPETUAL` | inverse / linear perpetual |
//! | `BTC-27MAR26` / `BTC_USDC-27MAR26` | inverse / linear future, expiring 08:00 UTC |
//! | `BTC-27MAR26-90000-C` / `SOL_USDC-27MAR26-142d5-P` | inverse / linear European option (`d` is the decimal point) |
//!
//! Inverse products are valued and settled in the coin; linear ones in the quote currency,
//! which the engine values as USD — so the quote must be a USD stablecoin it supports
//! ([`USD_STABLECOINS`]: `USDC`, `USDT`). A coin-quoted symbol (`BTC_BTC-PERPETUAL`,
//! `ETH_BTC-…`, `BTC_DOGE-PERPETUAL`) is rejected with [`SymbolError::UnsupportedQuote`]
//! rather than valued in USD and labelled in the coin.
//! One unit of any instrument refers to one coin of the underlying.

use crate::error::{Error, SymbolError};
use crate::time::Timestamp;
use core::fmt;

/// Longest asset code accepted (e.g. `1000PEPE`).
pub const ASSET_CAPACITY: usize = 10;
const MONTHS: [&[u8; 3]; 12] = [
    b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG", b"SEP", b"OCT", b"NOV", b"DEC",
];
/// The quote currencies of linear contracts: USD stablecoins, valued 1:1 as USD.
pub const USD_STABLECOINS: [&str; 2] = ["USDC", "USDT"];
/// Deribit expiries fall at 08:00 UTC.
pub const EXPIRY_HOUR_UTC: u32 = 8;

/// An asset code such as `BTC` or `USDC`: upper-case ASCII letters and digits, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asset {
    bytes: [u8; ASSET_CAPACITY],
    len: u8,
}

impl Asset {
    /// The asset named `code`, or `None` if it is empty, too long or not upper-case alphanumeric.
    pub fn new(code: &str) -> Option<Asset> {
        let b = code.as_bytes();
        if b.is_empty()
            || b.len() > ASSET_CAPACITY
            || !b
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return None;
        }
        let mut bytes = [0u8; ASSET_CAPACITY];
        bytes[..b.len()].copy_from_slice(b);
        Some(Asset {
            bytes,
            len: b.len() as u8,
        })
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        core::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Asset({})", self.as_str())
    }
}

/// How an instrument settles, which fixes the currency its value and P&L are expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Settlement {
    /// Coin-settled against the USD index (Deribit `BTC-…`): values in the underlying coin.
    Inverse,
    /// Settled in a quote currency (Deribit `BTC_USDC-…`): values in that currency, taken as USD.
    Linear {
        /// The quote currency, e.g. `USDC`.
        quote: Asset,
    },
}

/// Call or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Right {
    /// The right to buy at the strike.
    Call,
    /// The right to sell at the strike.
    Put,
}

/// What kind of contract, with its terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// The asset itself (collateral or a spot pair).
    Spot,
    /// A perpetual swap, priced at the perpetual's mark.
    Perpetual,
    /// A dated future, priced at the forward of its expiry.
    Future {
        /// Expiry instant.
        expiry: Timestamp,
    },
    /// A European option on the forward of its expiry.
    Option {
        /// Expiry instant.
        expiry: Timestamp,
        /// Strike in USD per coin.
        strike: f64,
        /// Call or put.
        right: Right,
    },
}

/// A tradable contract: underlying, settlement and kind. Knows no prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instrument {
    /// The coin the contract refers to, e.g. `BTC`.
    pub underlying: Asset,
    /// Inverse (coin) or linear (quote currency).
    pub settlement: Settlement,
    /// Spot, perpetual, future or option, with terms.
    pub kind: Kind,
}

impl Instrument {
    /// Parses a Deribit-style symbol (see the module table).
    pub fn parse(symbol: &str) -> Result<Instrument, Error> {
        if symbol.is_empty() {
            return Err(SymbolError::Empty.into());
        }
        let mut parts = symbol.split('-');
        let head = parts.next().unwrap_or("");
        let (underlying, settlement) = match head.split_once('_') {
            None => (
                Asset::new(head).ok_or(SymbolError::BadUnderlying)?,
                Settlement::Inverse,
            ),
            Some((u, q)) => {
                let underlying = Asset::new(u).ok_or(SymbolError::BadUnderlying)?;
                let quote = Asset::new(q).ok_or(SymbolError::BadQuote)?;
                if !USD_STABLECOINS.contains(&quote.as_str()) {
                    return Err(SymbolError::UnsupportedQuote.into());
                }
                (underlying, Settlement::Linear { quote })
            }
        };
        let kind = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (None, ..) => Kind::Spot,
            (Some("PERPETUAL"), None, ..) => Kind::Perpetual,
            (Some(date), None, ..) => Kind::Future {
                expiry: parse_expiry(date)?,
            },
            (Some(date), Some(strike), Some(right), None) => Kind::Option {
                expiry: parse_expiry(date)?,
                strike: parse_strike(strike)?,
                right: match right {
                    "C" => Right::Call,
                    "P" => Right::Put,
                    _ => return Err(SymbolError::BadRight.into()),
                },
            },
            _ => return Err(SymbolError::BadShape.into()),
        };
        Ok(Instrument {
            underlying,
            settlement,
            kind,
        })
    }

    /// Expiry instant of futures and options; `None` for spot and perpetuals.
    pub fn expiry(&self) -> Option<Timestamp> {
        match self.kind {
            Kind::Future { expiry } | Kind::Option { expiry, .. } => Some(expiry),
            Kind::Spot | Kind::Perpetual => None,
        }
    }

    /// True for coin-settled instruments.
    pub fn is_inverse(&self) -> bool {
        self.settlement == Settlement::Inverse
    }

    /// The currency the contract settles and is valued in: the coin for inverse contracts,
    /// the quote for linear ones. Returned by reference (hot in account validation).
    pub fn settlement_currency(&self) -> &Asset {
        match &self.settlement {
            Settlement::Inverse => &self.underlying,
            Settlement::Linear { quote } => quote,
        }
    }
}

impl fmt::Display for Instrument {
    /// Writes the Deribit symbol; `Instrument::parse` reads it back to an equal instrument.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.underlying.as_str())?;
        if let Settlement::Linear { quote } = self.settlement {
            write!(f, "_{quote}")?;
        }
        match self.kind {
            Kind::Spot => Ok(()),
            Kind::Perpetual => f.write_str("-PERPETUAL"),
            Kind::Future { expiry } => write_expiry(f, expiry),
            Kind::Option {
                expiry,
                strike,
                right,
            } => {
                write_expiry(f, expiry)?;
                f.write_str("-")?;
                write_strike(f, strike)?;
                f.write_str(if right == Right::Call { "-C" } else { "-P" })
            }
        }
    }
}

fn write_expiry(f: &mut fmt::Formatter<'_>, expiry: Timestamp) -> fmt::Result {
    let (y, m, d) = expiry.civil_date();
    let month = core::str::from_utf8(MONTHS[m as usize - 1]).unwrap_or("");
    write!(f, "-{d}{month}{:02}", y.rem_euclid(100))
}

/// Writes a strike the Deribit way: shortest decimal, with `d` for the decimal point.
fn write_strike(f: &mut fmt::Formatter<'_>, strike: f64) -> fmt::Result {
    struct DecimalAsD<'a, 'b>(&'a mut fmt::Formatter<'b>);
    impl fmt::Write for DecimalAsD<'_, '_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for part in s.split_inclusive('.') {
                match part.strip_suffix('.') {
                    Some(p) => {
                        self.0.write_str(p)?;
                        self.0.write_str("d")?;
                    }
                    None => self.0.write_str(part)?,
                }
            }
            Ok(())
        }
    }
    fmt::write(&mut DecimalAsD(f), format_args!("{strike}"))
}

/// `27MAR26` → 2026-03-27T08:00:00Z. The day may be one or two digits; years are 20YY.
fn parse_expiry(s: &str) -> Result<Timestamp, SymbolError> {
    let b = s.as_bytes();
    let day_len = b
        .len()
        .checked_sub(5)
        .filter(|n| (1..=2).contains(n))
        .ok_or(SymbolError::BadExpiry)?;
    let digits = |r: &[u8]| -> Option<u32> {
        r.iter().try_fold(0u32, |v, c| {
            c.is_ascii_digit().then(|| v * 10 + (c - b'0') as u32)
        })
    };
    let day = digits(&b[..day_len]).ok_or(SymbolError::BadExpiry)?;
    let month = MONTHS
        .iter()
        .position(|m| m[..] == b[day_len..day_len + 3])
        .ok_or(SymbolError::BadExpiry)? as u32
        + 1;
    let year = digits(&b[day_len + 3..]).ok_or(SymbolError::BadExpiry)?;
    Timestamp::from_civil(2000 + year as i64, month, day, EXPIRY_HOUR_UTC)
        .ok_or(SymbolError::BadExpiry)
}

/// `90000` or `142d5` → a positive finite strike.
fn parse_strike(s: &str) -> Result<f64, SymbolError> {
    let b = s.as_bytes();
    let mut buf = [0u8; 24];
    if b.is_empty() || b.len() > buf.len() {
        return Err(SymbolError::BadStrike);
    }
    let mut seen_point = false;
    for (i, &c) in b.iter().enumerate() {
        buf[i] = match c {
            b'0'..=b'9' => c,
            b'd' | b'.' if !seen_point && i > 0 && i + 1 < b.len() => {
                seen_point = true;
                b'.'
            }
            _ => return Err(SymbolError::BadStrike),
        };
    }
    let text = core::str::from_utf8(&buf[..b.len()]).map_err(|_| SymbolError::BadStrike)?;
    match text.parse::<f64>() {
        Ok(k) if k.is_finite() && k > 0.0 => Ok(k),
        _ => Err(SymbolError::BadStrike),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn parses_every_documented_form() {
        let c = Instrument::parse("BTC-27MAR26-90000-C").unwrap();
        assert_eq!(c.underlying.as_str(), "BTC");
        assert_eq!(c.settlement, Settlement::Inverse);
        assert_eq!(
            c.kind,
            Kind::Option {
                expiry: Timestamp::from_civil(2026, 3, 27, 8).unwrap(),
                strike: 90000.0,
                right: Right::Call
            }
        );
        let p = Instrument::parse("ETH-25DEC26-3000-P").unwrap();
        assert!(
            matches!(p.kind, Kind::Option { right: Right::Put, strike, .. } if strike == 3000.0)
        );
        assert_eq!(
            Instrument::parse("BTC-PERPETUAL").unwrap().kind,
            Kind::Perpetual
        );
        let lp = Instrument::parse("BTC_USDC-PERPETUAL").unwrap();
        assert_eq!(
            lp.settlement,
            Settlement::Linear {
                quote: Asset::new("USDC").unwrap()
            }
        );
        assert_eq!(lp.settlement_currency().as_str(), "USDC");
        assert_eq!(c.settlement_currency().as_str(), "BTC");
        assert!(matches!(
            Instrument::parse("BTC-27MAR26").unwrap().kind,
            Kind::Future { .. }
        ));
        assert!(
            !Instrument::parse("BTC_USDC-27MAR26-90000-C")
                .unwrap()
                .is_inverse()
        );
        assert_eq!(Instrument::parse("BTC").unwrap().kind, Kind::Spot);
        let usdt = Instrument::parse("BTC_USDT-PERPETUAL").unwrap();
        assert_eq!(usdt.settlement_currency().as_str(), "USDT");
        let sol = Instrument::parse("SOL_USDC-5JAN26-142d5-P").unwrap();
        assert!(matches!(sol.kind, Kind::Option { strike, .. } if strike == 142.5));
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "BTC",
            "BTC_USDC",
            "BTC-PERPETUAL",
            "BTC_USDC-PERPETUAL",
            "BTC-27MAR26",
            "BTC-27MAR26-90000-C",
            "ETH-25DEC26-3000-P",
            "BTC_USDC-27MAR26-90000-C",
            "SOL_USDC-5JAN26-142d5-P",
        ] {
            assert_eq!(Instrument::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_malformed_symbols() {
        use SymbolError::*;
        let cases = [
            ("", Empty),
            ("btc-PERPETUAL", BadUnderlying),
            ("-PERPETUAL", BadUnderlying),
            ("BTC_-PERPETUAL", BadQuote),
            ("BTC-32MAR26", BadExpiry),
            ("BTC-29FEB26", BadExpiry),
            ("BTC-27MRZ26", BadExpiry),
            ("BTC-27MAR26-0-C", BadStrike),
            ("BTC-27MAR26-9e4-C", BadStrike),
            ("BTC-27MAR26-d5-C", BadStrike),
            ("BTC-27MAR26-90000-X", BadRight),
            ("BTC-27MAR26-90000", BadShape),
            ("BTC-27MAR26-90000-C-X", BadShape),
            ("VERYLONGCOIN1-PERPETUAL", BadUnderlying),
            // Issue 13: linear contracts quoted in a coin are not modelled.
            ("BTC_BTC-PERPETUAL", UnsupportedQuote),
            ("ETH_BTC-25SEP26-3000-C", UnsupportedQuote),
            ("BTC_DOGE-PERPETUAL", UnsupportedQuote),
            ("ETH_BTC", UnsupportedQuote),
            ("BTC_USD-PERPETUAL", UnsupportedQuote),
        ];
        for (s, e) in cases {
            assert_eq!(Instrument::parse(s), Err(Error::Symbol(e)), "{s}");
        }
    }
}
