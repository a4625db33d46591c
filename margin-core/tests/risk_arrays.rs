//! The risk-array builder's hoisted fast path (tenor scale once per option, `√T` and `e^(−rT)`
//! once per time, `ln(F/K)` once per price move) against the plain route, cell by cell and to
//! the bit: `pricing::value(shocked inputs) − pricing::value(current inputs)` with the vol
//! shocked by the public `VolShock::apply`. Every cell of the bundled 2026-08-22 chain (all
//! options plus both perpetuals), under every preset (Deribit tenor shocks, SPAN absolute
//! shocks with a one-day time step, the weighted grid).

mod common;

use common::{CHAIN_20260822, chain_market, load_chain};
use margin_core::market::PricingInputs;
use margin_core::model::{GRID_PRESETS, Model};
use margin_core::pricing::{self, Valuation};
use margin_core::risk::{RiskArrays, RiskStorage};
use margin_core::scenario::ScenarioSet;
use margin_core::{Instrument, Kind};

#[test]
fn fast_path_equals_plain_revaluation_to_the_bit() {
    let rows = load_chain(CHAIN_20260822);
    let data = chain_market(CHAIN_20260822);
    let views = data.views();
    let market = data.snapshot(&views).unwrap();
    let mut instruments: Vec<Instrument> = rows.iter().map(|r| r.instrument).collect();
    instruments.push(Instrument::parse("BTC-PERPETUAL").unwrap());
    instruments.push(Instrument::parse("ETH-PERPETUAL").unwrap());
    let n = instruments.len();
    for name in GRID_PRESETS {
        let model = Model::preset(name).unwrap();
        let scenarios = model.scenarios().unwrap();
        let set = ScenarioSet::new(&scenarios, model.tenor()).unwrap();
        let (mut inputs, mut vals) = (vec![PricingInputs::ZERO; n], vec![Valuation::ZERO; n]);
        let mut pnl = vec![0.0; n * set.len()];
        let storage = RiskStorage {
            inputs: &mut inputs,
            valuations: &mut vals,
            pnl: &mut pnl,
        };
        let arrays = RiskArrays::build(market, set, &instruments, storage).unwrap();
        for (i, inst) in instruments.iter().enumerate() {
            let now = market.inputs(inst).unwrap();
            let base = pricing::value(inst, &now, now.forward).unwrap();
            let option = matches!(inst.kind, Kind::Option { .. });
            for (s, sc) in set.scenarios().iter().enumerate() {
                let shocked = PricingInputs {
                    forward: now.forward
                        * (1.0
                            + if option {
                                sc.price_move
                            } else {
                                sc.delta_one_move
                            }),
                    vol: if option {
                        sc.vol_shock.apply(now.vol, now.time * 365.0, set.tenor())
                    } else {
                        now.vol
                    },
                    time: now.time - sc.time_step,
                    rate: now.rate,
                };
                let want = pricing::value(inst, &shocked, now.forward).unwrap() - base;
                let got = arrays.row(i)[s];
                assert_eq!(
                    got.to_bits(),
                    want.to_bits(),
                    "{name}: {inst} scenario {s} ({sc}): {got} vs {want}"
                );
            }
        }
    }
}
