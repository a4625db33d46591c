//! Tests of HS and FHS moves against hand-computed values.

use super::*;

/// Closes of coins 0 and 1 on days 0..=3, date-major.
const TABLE: [f64; 8] = [100.0, 10.0, 110.0, 9.0, 99.0, 12.0, 121.0, 12.0];

#[test]
fn hs_moves_are_joint_ratios() {
    let mut moves = [0.0; 8];
    let mut windows = [(0, 0); 4];
    let n = hs_moves(&TABLE, 2, 1, true, &mut moves, &mut windows).unwrap();
    assert_eq!(n, 3);
    assert_eq!(windows[..3], [(0, 1), (1, 2), (2, 3)]);
    let expected = [
        110.0 / 100.0 - 1.0,
        9.0 / 10.0 - 1.0,
        99.0 / 110.0 - 1.0,
        12.0 / 9.0 - 1.0,
        121.0 / 99.0 - 1.0,
        12.0 / 12.0 - 1.0,
    ];
    assert_eq!(moves[..6], expected);

    let n = hs_moves(&TABLE, 2, 2, true, &mut moves, &mut windows).unwrap();
    assert_eq!((n, &windows[..2]), (2, &[(0, 2), (1, 3)][..]));
    assert_eq!(
        moves[..4],
        [
            99.0 / 100.0 - 1.0,
            12.0 / 10.0 - 1.0,
            121.0 / 110.0 - 1.0,
            12.0 / 9.0 - 1.0
        ]
    );

    // Non-overlapping 2-day windows are anchored at the newest close: only [1, 3] fits.
    let n = hs_moves(&TABLE, 2, 2, false, &mut moves, &mut windows).unwrap();
    assert_eq!((n, windows[0]), (1, (1, 3)));
    assert_eq!(moves[..2], [121.0 / 110.0 - 1.0, 12.0 / 9.0 - 1.0]);
}

#[test]
fn window_counts_in_both_modes() {
    // M = 4 (5 closes), h = 2: overlapping [0,2],[1,3],[2,4]; non-overlapping [2,4],[0,2].
    assert_eq!(window_count(5, 2, true), 3);
    assert_eq!(window_count(5, 2, false), 2);
    // M = 5: non-overlapping [3,5],[1,3]; close 0 unused.
    assert_eq!(window_count(6, 2, false), 2);
    assert_eq!(window_count(6, 1, false), 5);
    assert_eq!(window_count(6, 1, true), 5);
    assert_eq!(window_count(5, 4, true), 1);
    assert_eq!(window_count(5, 4, false), 1);
    for (len, h) in [(5, 5), (5, 0), (1, 1), (0, 1)] {
        assert_eq!(window_count(len, h, true), 0);
        assert_eq!(window_count(len, h, false), 0);
    }
    // FHS: the first 30 closes' returns seed the variance.
    assert_eq!(fhs_window_count(31 + 3, 3, true), 1);
    assert_eq!(fhs_window_count(30 + 3, 3, true), 0);
    assert_eq!(fhs_window_count(31 + 7, 3, true), 5);
    assert_eq!(fhs_window_count(31 + 7, 3, false), 2);
    assert_eq!(fhs_window_count(100, 5, false), window_count(70, 5, false));

    let closes = [1.0; 6];
    let mut moves = [0.0; 6];
    let mut windows = [(0, 0); 6];
    let n = hs_moves(&closes, 1, 2, false, &mut moves, &mut windows).unwrap();
    assert_eq!(
        windows[..n],
        [(1, 3), (3, 5)],
        "oldest first, close 0 unused"
    );
}

/// Closes of `u` coins whose daily log return on day t is `r(t, c)`, from 100.
fn closes_from_returns(days: usize, u: usize, r: impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let mut p = vec![100.0; u];
    let mut out = p.clone();
    for t in 1..days {
        for (c, pc) in p.iter_mut().enumerate() {
            *pc *= libm::exp(r(t, c));
        }
        out.extend_from_slice(&p);
    }
    out
}

#[test]
fn fhs_with_constant_absolute_returns_is_plain_hs() {
    let sign = |t: usize| if t.is_multiple_of(3) { -1.0 } else { 1.0 };
    let closes = closes_from_returns(80, 2, |t, c| sign(t + c) * [0.02, 0.05][c]);
    for (h, overlapping) in [(1, true), (3, true), (3, false), (7, false)] {
        let mut hs = vec![0.0; 160];
        let mut hs_w = vec![(0, 0); 80];
        let n_hs = hs_moves(&closes, 2, h, overlapping, &mut hs, &mut hs_w).unwrap();
        let mut fhs = vec![0.0; 160];
        let mut fhs_w = vec![(0, 0); 80];
        let mut sigma = [0.0; 2];
        let n = fhs_moves(
            &closes,
            2,
            h,
            overlapping,
            0.94,
            &mut fhs,
            &mut fhs_w,
            &mut sigma,
        )
        .unwrap();
        assert_eq!(n, fhs_window_count(80, h, overlapping));
        assert!((sigma[0] - 0.02).abs() < 1e-15 && (sigma[1] - 0.05).abs() < 1e-15);
        for j in 0..n {
            let (s, e) = fhs_w[j];
            assert!(s >= 30 && e == s + h);
            let i = hs_w[..n_hs].iter().position(|&w| w == (s, e)).unwrap();
            for c in 0..2 {
                let (a, b) = (fhs[j * 2 + c], hs[i * 2 + c]);
                assert!(
                    (a - b).abs() <= 1e-15,
                    "h={h} window {j} coin {c}: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
fn fhs_scales_old_calm_returns_up_to_todays_volatility() {
    // |r| = 1% on days 1..=60, 2% on days 61..=120 (M = 120).
    let r = |t: usize, _| {
        (if t.is_multiple_of(2) { 1.0 } else { -1.0 }) * if t <= 60 { 0.01 } else { 0.02 }
    };
    let closes = closes_from_returns(121, 1, r);
    let mut moves = [0.0; 121];
    let mut windows = [(0, 0); 121];
    let mut sigma = [0.0];
    let n = fhs_moves(
        &closes,
        1,
        1,
        true,
        0.94,
        &mut moves,
        &mut windows,
        &mut sigma,
    )
    .unwrap();
    assert_eq!((n, windows[0]), (90, (30, 31)));
    // By hand: σ²_t = 1e-4 up to t = 61; then σ²_{61+k} = 4e-4 − 3e-4·0.94^k, so
    // σ_now = σ_121 = sqrt(4e-4 − 3e-4·0.94^60) = 0.0198160353… (python: 0.94**60 =
    // 0.0244158144585…).
    let sigma_now = libm::sqrt(4e-4 - 3e-4 * libm::pow(0.94, 60.0));
    assert!((sigma_now - 0.019_816_035_316_441_24).abs() < 1e-15);
    assert!((sigma[0] - sigma_now).abs() < 1e-15);
    // Return 31 (−1%, σ_31 = 1%) becomes −1% × σ_now / 1%: almost doubled.
    let old = moves[0];
    assert!((old - libm::expm1(-sigma_now)).abs() < 1e-14, "{old}");
    assert!(old < -0.0196);
    // Return 120 (+2%) with σ_120 = sqrt(4e-4 − 3e-4·0.94^59) = 0.019804…: the variance is
    // still rising towards 4e-4, so it is scaled up only by 1.0006.
    let s120 = libm::sqrt(4e-4 - 3e-4 * libm::pow(0.94, 59.0));
    let new = moves[n - 1];
    assert!(
        (new - libm::expm1(0.02 * sigma_now / s120)).abs() < 1e-14,
        "{new}"
    );
    assert!(new > libm::expm1(0.02) && new < libm::expm1(0.0201));
}

#[test]
fn bad_inputs_are_errors() {
    let mut moves = [0.0; 8];
    let mut windows = [(0, 0); 4];
    let mut bad = TABLE;
    bad[5] = 0.0;
    assert_eq!(
        hs_moves(&bad, 2, 1, true, &mut moves, &mut windows),
        Err(Error::NonPositiveAt {
            what: "close",
            index: 5,
            value: 0.0
        })
    );
    bad[5] = f64::NAN;
    assert_eq!(
        hs_moves(&bad, 2, 1, true, &mut moves, &mut windows),
        Err(Error::NonFiniteAt {
            what: "close",
            index: 5
        })
    );
    assert!(matches!(
        hs_moves(&TABLE, 3, 1, true, &mut moves, &mut windows),
        Err(Error::OutOfRange { .. })
    ));
    for h in [0, 4] {
        assert!(matches!(
            hs_moves(&TABLE, 2, h, true, &mut moves, &mut windows),
            Err(Error::OutOfRange { .. })
        ));
    }
    assert_eq!(
        hs_moves(&TABLE, 2, 1, true, &mut moves[..5], &mut windows),
        Err(Error::Capacity {
            needed: 6,
            available: 5
        })
    );
    assert_eq!(
        hs_moves(&TABLE, 2, 1, true, &mut moves, &mut windows[..2]),
        Err(Error::Capacity {
            needed: 3,
            available: 2
        })
    );
    let closes = closes_from_returns(40, 1, |_, _| 0.01);
    let mut moves = [0.0; 40];
    let mut windows = [(0, 0); 40];
    let mut sigma = [0.0];
    for lambda in [0.0, 1.0, f64::NAN] {
        assert!(matches!(
            fhs_moves(
                &closes,
                1,
                1,
                true,
                lambda,
                &mut moves,
                &mut windows,
                &mut sigma
            ),
            Err(Error::OutOfRange { .. })
        ));
    }
    assert!(matches!(
        fhs_moves(
            &closes,
            1,
            10,
            true,
            0.94,
            &mut moves,
            &mut windows,
            &mut sigma
        ),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        fhs_moves(&closes, 1, 1, true, 0.94, &mut moves, &mut windows, &mut []),
        Err(Error::Capacity { .. })
    ));
    let flat = [5.0; 40];
    assert!(matches!(
        fhs_moves(
            &flat,
            1,
            1,
            true,
            0.94,
            &mut moves,
            &mut windows,
            &mut sigma
        ),
        Err(Error::NonPositive { .. })
    ));
}
