//! Tests of VaR/ES against hand values and independent routes (full sort, the
//! Rockafellar–Uryasev minimum).

use super::*;
use proptest::prelude::*;
use std::vec::Vec;

#[test]
fn hand_example_with_a_fractional_tail() {
    let losses = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, 10.0];
    let mut order = [0; 10];
    let t = tail(&losses, 0.75, &mut order).unwrap();
    // m = 10 × 0.25 = 2.5: the worst two in full, half of the third.
    assert_eq!((t.m, t.k, t.count), (2.5, 2, 3));
    assert_eq!(order[..3], [9, 2, 6]);
    assert_eq!((t.var, t.var_index), (8.0, 6));
    assert_eq!(t.es, (10.0 + 9.0 + 0.5 * 8.0) / 2.5);
    let weights: Vec<f64> = (0..5).map(|r| tail_weight(r, &t)).collect();
    assert_eq!(weights, [0.4, 0.4, 0.2, 0.0, 0.0]);
}

#[test]
fn ties_rank_the_lower_index_first() {
    let losses = [1.0, 3.0, 3.0, 0.0, 3.0, -0.0];
    let mut order = [0; 6];
    let t = tail(&losses, 0.5, &mut order).unwrap();
    assert_eq!((t.count, t.var_index), (3, 4));
    assert_eq!(order[..3], [1, 2, 4]);
    let t = tail(&losses, 1.0 / 6.0, &mut order).unwrap();
    assert_eq!(t.count, 5);
    // +0 (index 3) and −0 (index 5) are equal losses: the index decides.
    assert_eq!(order[..5], [1, 2, 4, 0, 3]);
}

#[test]
fn m_is_rounded_to_a_whole_number_within_1e9() {
    let raw = 1000.0 * (1.0 - 0.99);
    assert_ne!(raw, 10.0, "the case this rule exists for");
    let losses: Vec<f64> = (0..1000).map(|i| f64::from(i % 97)).collect();
    let mut order = vec![0; 1000];
    let t = tail(&losses, 0.99, &mut order).unwrap();
    assert_eq!((t.m, t.k, t.count), (10.0, 10, 10));
    assert_eq!(tail_weight(10, &t), 0.0);
    let top: f64 = order[..10].iter().map(|&i| losses[i]).sum();
    assert_eq!(t.es, top / 10.0);
    assert_eq!(t.var, 96.0);
    // A genuinely fractional m is left alone.
    let t = tail(&losses[..999], 0.99, &mut order).unwrap();
    assert!((t.m - 9.99).abs() < 1e-12 && t.count == 10 && t.k == 9);
}

#[test]
fn errors_name_the_problem() {
    let mut order = [0; 100];
    for c in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(matches!(
            tail(&[1.0; 10], c, &mut order),
            Err(Error::OutOfRange { .. })
        ));
    }
    assert_eq!(
        tail(&[1.0; 50], 0.99, &mut order),
        Err(Error::TooFewScenarios {
            needed: 100,
            available: 50
        })
    );
    // 40 × (1 − 0.975) = 1.0000000000000009 rounds to 1: 40 suffice.
    assert!(tail(&[1.0; 40], 0.975, &mut order).is_ok());
    assert_eq!(
        tail(&[1.0; 39], 0.975, &mut order),
        Err(Error::TooFewScenarios {
            needed: 40,
            available: 39
        })
    );
    assert_eq!(
        tail(&[], 0.5, &mut order),
        Err(Error::TooFewScenarios {
            needed: 2,
            available: 0
        })
    );
    assert_eq!(
        tail(&[1.0, 2.0, 3.0, f64::INFINITY], 0.5, &mut order),
        Err(Error::NonFiniteAt {
            what: "loss",
            index: 3
        })
    );
    assert_eq!(
        tail(&[1.0; 10], 0.5, &mut order[..9]),
        Err(Error::Capacity {
            needed: 10,
            available: 9
        })
    );
    let t = tail(&[1.0; 10], 0.5, &mut order).unwrap();
    assert!(matches!(
        es_contributions(&t, &order[..4], |_, _| 0.0, 1, &mut [0.0]),
        Err(Error::Capacity { .. })
    ));
    assert!(matches!(
        es_contributions(&t, &order, |_, _| 0.0, 2, &mut [0.0]),
        Err(Error::Capacity { .. })
    ));
}

#[test]
fn contributions_of_a_losing_book_add_up_to_es() {
    // Three positions over 500 scenarios, all losing on average: ES is far from 0.
    let loss = |p: usize, s: usize| {
        let x = ((s * 7919 + p * 104_729) % 1000) as f64 / 1000.0;
        (p as f64 + 1.0) * (x - 0.3)
    };
    let losses: Vec<f64> = (0..500).map(|s| (0..3).map(|p| loss(p, s)).sum()).collect();
    let mut order = vec![0; 500];
    let t = tail(&losses, 0.975, &mut order).unwrap();
    assert!((t.m - 12.5).abs() < 1e-12 && (t.k, t.count) == (12, 13));
    let mut out = [0.0; 3];
    es_contributions(&t, &order, loss, 3, &mut out).unwrap();
    let total: f64 = out.iter().sum();
    assert!(
        t.es > 1.0 && (total - t.es).abs() <= 1e-12 * t.es,
        "{total} vs {}",
        t.es
    );
}

/// Rockafellar–Uryasev: min over α of α + Σ(L_i − α)⁺ / (N(1 − c)); piecewise linear and
/// convex in α, so the minimum is at a data point.
fn rockafellar_uryasev(losses: &[f64], c: f64) -> f64 {
    let m = losses.len() as f64 * (1.0 - c);
    losses
        .iter()
        .map(|&a| a + losses.iter().map(|&l| (l - a).max(0.0)).sum::<f64>() / m)
        .fold(f64::INFINITY, f64::min)
}

/// Losses with many ties (small integers) or spread-out floats.
fn losses_strategy() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec((-5i32..6).prop_map(f64::from), 1..60),
        prop::collection::vec(-1e3..1e3f64, 1..60),
    ]
}

proptest! {
    #[test]
    fn tail_agrees_with_independent_routes(losses in losses_strategy(), c in 0.01..0.99f64) {
        let n = losses.len();
        let mut order = vec![usize::MAX; n];
        let t = match tail(&losses, c, &mut order) {
            Err(Error::TooFewScenarios { needed, available }) => {
                prop_assert!(n as f64 * (1.0 - c) < 1.0 && needed > available);
                return Ok(());
            }
            other => other.unwrap(),
        };
        // Full sort by (loss desc, index asc).
        let mut full: Vec<usize> = (0..n).collect();
        full.sort_by(|&a, &b| losses[b].partial_cmp(&losses[a]).unwrap().then(a.cmp(&b)));
        prop_assert_eq!(&order[..t.count], &full[..t.count]);
        prop_assert_eq!(t.var, losses[full[t.count - 1]]);
        let mut rest = order.clone();
        rest.sort_unstable();
        prop_assert_eq!(rest, (0..n).collect::<Vec<_>>());
        // ES ≥ VaR and ES = Rockafellar–Uryasev minimum.
        prop_assert!(t.es >= t.var - 1e-12 * t.var.abs());
        let ru = rockafellar_uryasev(&losses, c);
        prop_assert!((t.es - ru).abs() <= 1e-9 * (1.0 + ru.abs()), "es {} ru {}", t.es, ru);
        let weights: f64 = (0..n).map(|r| tail_weight(r, &t)).sum();
        prop_assert!((weights - 1.0).abs() < 1e-12);
    }

    #[test]
    fn contributions_add_up_to_es(
        rows in prop::collection::vec(prop::collection::vec(-100.0..100.0f64, 1..5), 2..80),
        c in 0.5..0.99f64,
    ) {
        // rows[s][p]: loss of position p in scenario s (ragged rows padded with 0).
        let positions = rows.iter().map(Vec::len).max().unwrap();
        let loss = |p: usize, s: usize| rows[s].get(p).copied().unwrap_or(0.0);
        let losses: Vec<f64> = (0..rows.len())
            .map(|s| (0..positions).map(|p| loss(p, s)).sum())
            .collect();
        let mut order = vec![0; rows.len()];
        let Ok(t) = tail(&losses, c, &mut order) else { return Ok(()) };
        let mut out = vec![0.0; positions];
        es_contributions(&t, &order, loss, positions, &mut out).unwrap();
        let total: f64 = out.iter().sum();
        // Rounding is relative to the size of what is summed, which may exceed |ES| when
        // positions offset each other.
        let scale: f64 = (0..t.count)
            .map(|r| tail_weight(r, &t) * (0..positions).map(|p| loss(p, order[r]).abs()).sum::<f64>())
            .sum();
        prop_assert!((total - t.es).abs() <= 1e-12 * scale.max(t.es.abs()), "{} vs {}", total, t.es);
    }
}
