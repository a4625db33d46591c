//! Shared by the integration tests: the bundled history read with plain string splitting,
//! independently of the library's history reader.

/// (BTC, ETH) closes of the bundled aligned file, oldest first.
pub fn aligned_closes() -> Vec<[f64; 2]> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/btc-eth-daily/btc_eth_daily_close_aligned.csv"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            [f[1].parse().unwrap(), f[2].parse().unwrap()]
        })
        .collect()
}
