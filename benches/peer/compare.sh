#!/usr/bin/env bash
# margin vs numpy: statistical VaR/ES side by side, one thread each (see README.md here).
#
# Book: examples/portfolio-usdc-200.json (200 linear USDC options, BTC and ETH) on the Deribit
# chain of 2026-08-22 and the aligned BTC/ETH daily closes 2017-11-09 .. 2024-05-26, c = 0.99.
#   hs: every overlapping 2-day window of the closes (N = 2389), x = P_{t+2}/P_t - 1;
#   mc: 100,000 scenarios, r = sqrt(2) L z, L = Cholesky of the RiskMetrics EWMA covariance
#       (lambda 0.94, 30-day seed), x = e^r - 1 (same covariance, different random draws).
# Both: loss = -sum size (V(F(1+x)) - V(F)), Black-76, vols unchanged, no time step;
# m = N(1-c), k = floor(m), ES = (L(1)+..+L(k) + (m-k) L(k+1))/m, VaR = L(ceil(m)).
#
# margin: `margin var --json`, RAYON_NUM_THREADS=1, best of $REPEAT wall times of the whole
#   command (process start and parsing the chain/history, ~10 ms, included), and, unless
#   CARGO_BENCH=0, the criterion figures of `cargo bench --bench statistical` (var::run alone).
# numpy: var_numpy.py, best of $REPEAT in-process runs of scenarios + valuation + ES
#   ("compute"); "total" adds its one-time parsing (interpreter start and imports excluded).
# ratio = numpy seconds / margin seconds (the issue's goal: >= 20).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export RAYON_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
export REPEAT=${REPEAT:-5} CARGO_BENCH=${CARGO_BENCH:-1}

echo "== building margin (cargo build --release -p margin-cli)" >&2
cargo build --release -q -p margin-cli
if [ "$CARGO_BENCH" != 0 ]; then
  echo "== cargo bench -p margin-benches --bench statistical (a minute or two)" >&2
  cargo bench -q -p margin-benches --bench statistical -- \
    --warm-up-time 1 --measurement-time 5 --noplot > target/peer-cargo-bench.txt 2>&1 \
    || { echo "cargo bench failed, see target/peer-cargo-bench.txt" >&2; CARGO_BENCH=0; }
fi

echo "== machine" 
echo "cpu:     $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc --all) cores" \
     "(load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "margin:  $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD \
     -- . ':!benches/peer' 2>/dev/null || echo ' + uncommitted changes'), $(rustc --version)"
python3 - <<'EOF'
import json, math, os, re, subprocess, sys, tempfile, time
from datetime import date, timedelta
import numpy, scipy
print(f"numpy:   {numpy.__version__}, scipy {scipy.__version__}, Python {sys.version.split()[0]}")
REPEAT, PEER = int(os.environ["REPEAT"]), "benches/peer/var_numpy.py"
PORT, CHAIN = "examples/portfolio-usdc-200.json", \
    "data/deribit/deribit_options_snapshot_20260822T153351Z.csv"
ALIGNED, BTC = "data/btc-eth-daily/btc_eth_daily_close_aligned.csv", \
    "data/btc-eth-daily/BTC-USD.csv"

def margin(port, hist, method, *extra):
    """Best wall time of REPEAT whole `margin var` commands, and the last JSON."""
    cmd = ["target/release/margin", "var", "--portfolio", port, "--market", CHAIN,
           "--history", hist, "--method", method, "--horizon", "2", "--json", *extra]
    if method == "mc":
        cmd += ["--scenarios", "100000", "--seed", "1"]
    best = math.inf
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        best = min(best, time.perf_counter() - t0)
    return best, json.loads(out)

def peer(port, hist, method, extra=()):
    cmd = [sys.executable, PEER, "--portfolio", port, "--market", CHAIN, "--history", hist,
           "--method", method, "--horizon", "2", "--scenarios", "100000", "--seed", "1",
           "--repeat", str(REPEAT), *extra]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b))

def agreement(rs, py):
    if py["method"] == "hs":
        r = max(rel(rs["var"], py["var"]), rel(rs["es"], py["es"]))
        return f"{'yes' if r <= 1e-9 else 'NO'} (max rel diff {r:.1e})"
    z = (py["es"] - rs["es"]) / (math.sqrt(2) * py["es_se"])  # two independent estimates
    s = max(rel(rs["volatility"][c], v) for c, v in py["volatility"].items())
    return f"ES z = {z:+.2f} ({'ok' if abs(z) < 3 else 'CHECK'}, se {py['es_se']:.0f}); " \
           f"EWMA sigma rel diff {s:.0e}"

rows, details = [], []
for method in ("hs", "mc"):
    t, rs = margin(PORT, ALIGNED, method)
    py = peer(PORT, ALIGNED, method)
    total = py["seconds_build"] + py["seconds_compute"]
    rows.append((method, rs["scenarios"], t, py["seconds_compute"], total,
                 py["seconds_compute"] / t, total / t, agreement(rs, py)))
    details.append(f"{method}: margin VaR {rs['var']:.6f} ES {rs['es']:.6f} | "
                   f"numpy VaR {py['var']:.6f} ES {py['es']:.6f}")

print("\n== 200 USDC options, c = 0.99, 2-day horizon, one thread each")
hdr = ("method", "N", "margin s", "numpy s", "numpy s", "ratio", "ratio", "agreement")
sub = ("", "", "(whole cmd)", "(compute)", "(total)", "compute", "total", "")
fmt = "{:<6} {:>7} {:>11} {:>10} {:>9} {:>8} {:>6}  {}"
print(fmt.format(*hdr)); print(fmt.format(*sub))
for m, n, t, c, tot, r1, r2, ok in rows:
    print(fmt.format(m, n, f"{t:.4f}", f"{c:.4f}", f"{tot:.4f}", f"{r1:.2f}x", f"{r2:.2f}x", ok))
print("\n".join(details))
# margin's fixed cost: the same hs command on the last 102 closes only (N = 100 windows).
last = date.fromisoformat(open(ALIGNED).read().split()[-1].split(",")[0])
t, rs = margin(PORT, ALIGNED, "hs", "--from", str(last - timedelta(days=101)))
print(f"margin fixed cost (process start, parsing, JSON; hs with N = {rs['scenarios']}): "
      f"{t:.4f} s")

if os.environ["CARGO_BENCH"] != "0":
    text = open("target/peer-cargo-bench.txt").read()
    unit = {"s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}
    found = re.findall(r"(statistical/\S+)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text)
    print("\n== cargo bench --bench statistical: var::run alone (no parsing), criterion mean")
    fmt = "{:<50} {:>9} {:>9} {:>7}  {}"
    print(fmt.format("bench", "margin s", "numpy s", "ratio", "numpy peer / agreement"))
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f50:
        p = json.load(open(PORT)); p["positions"] = p["positions"][:50]
        json.dump(p, f50); f50.flush()
        for name, value, u in found:
            t = float(value) * unit[u]
            if "mc_es_100000" in name and "200_options" in name:
                py, note = peer(PORT, ALIGNED, "mc"), "mc, same book as above"
            elif "hs_es_full_btc_history_x_50" in name:
                py = peer(f50.name, BTC, "hs")
                note = "hs, first 50 positions, BTC-USD.csv: " + \
                    agreement(margin(f50.name, BTC, "hs")[1], py)
            else:
                print(fmt.format(name, f"{t:.4f}", "-", "-", "no numpy peer")); continue
            c = py["seconds_compute"]
            print(fmt.format(name, f"{t:.4f}", f"{c:.4f}", f"{c / t:.2f}x", note))
    if not found:
        print("(no criterion results parsed; see target/peer-cargo-bench.txt)")
EOF
