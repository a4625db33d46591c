//! Edge cases of accounts: every bad input is a typed error, never a panic; status boundaries.

mod common;

use common::*;
use margin_core::Error;
use margin_core::account::{self, Account};
use margin_core::model::Model;
use margin_core::risk::Position;

fn pos(instrument: usize, size: f64) -> Position {
    Position { instrument, size }
}

/// Regression: an account validated against one set of arrays and then evaluated against
/// another (fewer instruments) used to index out of bounds and panic in `margin`/`what_if`.
#[test]
fn account_used_with_other_arrays_is_an_error_not_a_panic() {
    let model = Model::preset("deribit-btc").unwrap();
    let big = arrays(&model, &BTC_INVERSE);
    let small = arrays(&model, &BTC_INVERSE[..2]);
    let positions = [pos(0, 1.0), pos(8, -2.0)];
    let acct = Account::new(&big, btc(), 10.0, &positions).unwrap();
    let mut scratch = vec![0.0; acct.scratch_len(&big)];
    assert_eq!(
        account::margin(&small, &model, &acct, &mut scratch),
        Err(Error::UnknownInstrument { index: 1 })
    );
    account::margin(&big, &model, &acct, &mut scratch).unwrap();
    assert_eq!(
        account::what_if(&small, &model, &acct, &scratch, pos(0, 1.0)),
        Err(Error::UnknownInstrument { index: 1 })
    );
    // Same length, other underlying at that row: the position no longer belongs to a group.
    let usd = arrays(&model, &USDC_LINEAR);
    let acct = Account::new(&big, btc(), 10.0, &positions[..1]).unwrap();
    assert_eq!(
        account::margin(&usd, &model, &acct, &mut scratch),
        Err(Error::CurrencyMismatch { index: 0 })
    );
}
