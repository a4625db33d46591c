#!/usr/bin/env python3
"""numpy peer of `margin var` (HS and MC), to time side by side with the Rust engine.

Same book, same market conventions, same estimators as margin-opt/src/var.rs:

* Market (Deribit chain CSV, as margin-core/src/io/deribit.rs reads it): valuation time = the
  `timestamp` column truncated to the millisecond; forward of (coin, expiry) = MEDIAN of the
  `underlying` column over that coin's rows of that expiry (not `futures_price`); index and
  perpetual price = median `index_price`; vol = `implied_volatility` as a decimal, looked up by
  (expiry, strike, right), else the other right at that strike; rate 0. Expiries 08:00 UTC;
  T = ms to expiry / (365 * 86,400,000) (margin-core/src/time.rs: 365-day year, not 365.25).
* Value: Black-76 on the forward, N(x) = scipy.special.ndtr; linear options in USD, inverse
  ones in coin (USD value / F). Futures and perpetuals: F' - F (linear), 1 - F/F' (inverse).
  Every position must settle in the account currency.
* Scenario s moves each forward by its coin's relative move x: F' = F(1 + x); vols unchanged,
  no time step. loss_s = -sum_i size_i * (V_i(F') - V_i(F)).
  HS: x = P_{t+h}/P_t - 1 over every overlapping h-day window of the closes.
  MC: daily log returns r; RiskMetrics EWMA covariance (lambda 0.94), seeded with the mean of
  the first 30 outer products, then S <- lambda*S + (1-lambda)*r r^T over ALL returns
  (vectorised as a weighted sum); Cholesky L; r = sqrt(h) L z with z ~ N(0, I) from
  numpy.random.default_rng(seed) (not margin's xoshiro streams); x = expm1(r).
* N equally likely losses, m = N(1-c) (rounded when within 1e-9 of a whole number),
  k = floor(m): ES = (L(1) + ... + L(k) + (m-k) L(k+1))/m, VaR = L(ceil(m)), L(1) the largest.
  MC also prints es_se, the asymptotic standard error sqrt((Var_tail + c (ES-VaR)^2)/(N(1-c))).

Output: one JSON line {method, scenarios, var, es, seconds_build, seconds_compute, ...};
seconds_compute is the best of --repeat runs of scenarios + valuation + ES (parsing excluded,
reported as seconds_build).
"""
import argparse, csv, json, math, statistics, sys, time
from datetime import date, datetime, timedelta, timezone

T_IMPORT = time.perf_counter()
import numpy as np
from scipy.special import ndtr

SECONDS_IMPORT = time.perf_counter() - T_IMPORT
MS_PER_YEAR = 365.0 * 86_400_000.0
MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CHUNK = 4096  # scenarios per valuation block (keeps the n x CHUNK temporaries in cache)


def fail(msg):
    sys.exit(f"var_numpy: {msg}")


def ms(dt):  # datetime -> ms since epoch, fractions of a ms truncated (as margin does)
    return (dt - EPOCH) // timedelta(milliseconds=1)


def parse_symbol(sym):
    """Deribit symbol -> (coin, quote or None, kind, expiry_ms, strike, is_call)."""
    parts = sym.split("-")
    coin, _, quote = parts[0].partition("_")
    if quote and quote not in ("USDC", "USDT"):
        fail(f"{sym}: only USDC/USDT linear contracts are supported")
    if len(parts) == 2 and parts[1] == "PERPETUAL":
        return coin, quote or None, "perpetual", None, None, None
    if len(parts) not in (2, 4):
        fail(f"{sym}: unsupported (spot, or not a Deribit symbol); "
             "options, futures and perpetuals only")
    d = parts[1]
    expiry = datetime(2000 + int(d[-2:]), MONTHS.index(d[-5:-2]) + 1, int(d[:-5]), 8,
                      tzinfo=timezone.utc)
    if len(parts) == 2:
        return coin, quote or None, "future", ms(expiry), None, None
    if parts[3] not in ("C", "P"):
        fail(f"{sym}: bad right")
    return coin, quote or None, "option", ms(expiry), float(parts[2].replace("d", ".")), \
        parts[3] == "C"


def read_chain(path):
    """-> (valuation ms, {coin: index}, {(coin, expiry): forward}, {(coin, exp, K, call): vol})"""
    times, index, fwd, vol = set(), {}, {}, {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            times.add(ms(datetime.fromisoformat(row["timestamp"])))
            coin, _, kind, expiry, strike, call = parse_symbol(row["instrument_name"])
            if kind != "option" or row["currency"] != coin:
                fail(f"{path}: {row['instrument_name']}: not an option of {row['currency']}")
            index.setdefault(coin, []).append(float(row["index_price"]))
            fwd.setdefault((coin, expiry), []).append(float(row["underlying"]))
            vol[(coin, expiry, strike, call)] = float(row["implied_volatility"])
    if len(times) != 1:
        fail(f"{path}: expected one snapshot timestamp, found {len(times)}")
    med = lambda d: {k: statistics.median(v) for k, v in d.items()}
    return times.pop(), med(index), med(fwd), vol


def read_history(path):
    """Wide CSV date,<coin>[_close_usd],... or Yahoo COIN-USD.csv (Date,...,Close,...)
    -> (coins, T x U closes)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    head = [h.strip().upper() for h in rows[0]]
    if "CLOSE" in head:  # per-coin OHLC; the coin is the file name's part before '-'
        coins, cols = [path.rsplit("/", 1)[-1].split("-")[0].upper()], [head.index("CLOSE")]
    else:
        coins, cols = [h.removesuffix("_CLOSE_USD") for h in head[1:]], range(1, len(head))
    days = [date.fromisoformat(r[0]).toordinal() for r in rows[1:]]
    if any(b - a != 1 for a, b in zip(days, days[1:])):
        fail(f"{path}: dates must be consecutive days")
    return coins, np.array([[float(r[c]) for c in cols] for r in rows[1:]])


def build_book(portfolio, chain, history, first=None):
    """Parses the three files into flat arrays (the book of the first `first` positions, or
    all): the only part not timed by seconds_compute."""
    with open(portfolio) as f:
        pf = json.load(f)
    pf["positions"] = pf["positions"][:first]
    now, index, fwd, vols = read_chain(chain)
    hist_coins, closes = read_history(history)
    cur, seen, pos = pf["currency"], set(), []
    for p in pf["positions"]:
        sym, size = p["instrument"], float(p["size"])
        coin, quote, kind, expiry, strike, call = parse_symbol(sym)
        if (quote or coin) != cur:
            fail(f"{sym} settles in {quote or coin}, the account in {cur}")
        if sym in seen or coin not in hist_coins or coin not in index:
            fail(f"{sym}: repeated, or its coin is missing from the history or the chain")
        if expiry is not None and expiry <= now:
            fail(f"{sym}: expired")
        seen.add(sym)
        f = index[coin] if kind == "perpetual" else fwd.get((coin, expiry))
        v = vols.get((coin, expiry, strike, call), vols.get((coin, expiry, strike, not call)))
        if f is None or (kind == "option" and v is None):
            fail(f"{sym}: no forward or no vol in {chain}")
        t = (expiry - now) / MS_PER_YEAR if expiry is not None else 0.0
        pos.append((hist_coins.index(coin), kind == "option", call, quote is None, f,
                    strike or 0.0, v or 0.0, t, size))
    cols = sorted({p[0] for p in pos})  # the book's coins, in history order
    a = lambda j, dt=float: np.array([p[j] for p in pos], dtype=dt)
    book = dict(col=np.array([cols.index(p[0]) for p in pos]), opt=a(1, bool),
                sign=np.where(a(2, bool), 1.0, -1.0), inverse=a(3, bool), F=a(4), K=a(5),
                sd=a(6) * np.sqrt(a(7)), size=a(8))
    return book, [hist_coins[c] for c in cols], np.ascontiguousarray(closes[:, cols])


def black76(F, K, sd, sign):
    """Black-76 (rate 0) in USD; sign +1 call, -1 put; K, sd, sign are column vectors."""
    d1 = np.log(F / K) / sd + 0.5 * sd
    d2 = d1 - sd
    return np.maximum(sign * (F * ndtr(sign * d1) - K * ndtr(sign * d2)), 0.0)


def losses(book, moves):
    """loss_s = -sum_i size_i (V_i(F_i (1 + x_{s,coin(i)})) - V_i(F_i)), blocks of CHUNK."""
    o, d = book["opt"], ~book["opt"]
    F, col, inv = book["F"], book["col"], book["inverse"]
    K, sd, sign = (book[k][o][:, None] for k in ("K", "sd", "sign"))
    base = black76(F[o][:, None], K, sd, sign)
    base = np.where(inv[o][:, None], base / F[o][:, None], base)
    out = np.empty(len(moves))
    for s in range(0, len(moves), CHUNK):
        x = moves[s:s + CHUNK].T  # U x B
        Fo = F[o][:, None] * (1.0 + x[col[o]])  # options x B shocked forwards
        v = black76(Fo, K, sd, sign)
        pnl = np.where(inv[o][:, None], v / Fo, v) - base
        loss = -(book["size"][o] @ pnl)
        if d.any():  # futures and perpetuals: F' - F (linear) or 1 - F/F' (inverse)
            Fd = F[d][:, None] * (1.0 + x[col[d]])
            pd = np.where(inv[d][:, None], 1.0 - F[d][:, None] / Fd, Fd - F[d][:, None])
            loss -= book["size"][d] @ pd
        out[s:s + CHUNK] = loss
    return out


def var_es(loss, c):
    """Acerbi-Tasche ES and VaR = L(ceil(m)) of equally likely losses (module docs)."""
    n = len(loss)
    m = n * (1.0 - c)
    m = float(round(m)) if abs(m - round(m)) < 1e-9 else m
    if m < 1.0:
        fail(f"{n} scenarios hold no tail at confidence {c}")
    k, count = math.floor(m), min(math.ceil(m), n)
    worst = -np.sort(np.partition(-loss, count - 1)[:count])  # count largest, descending
    es = (np.cumsum(worst[:k])[-1] if k else 0.0) + ((m - k) * worst[k] if count > k else 0.0)
    return float(worst[count - 1]), float(es / m), worst


def ewma_cov(r, lam):
    """RiskMetrics EWMA: S_0 = mean of the first 30 r r^T, then S <- lam S + (1-lam) r r^T."""
    n = len(r)
    w = (1.0 - lam) * lam ** np.arange(n - 1, -1, -1.0)
    return lam**n * (r[:30].T @ r[:30] / 30.0) + (r * w[:, None]).T @ r


def run(book, closes, a):
    """Scenarios + valuation + ES: the timed part."""
    h, extra = a.horizon, {}
    if a.method == "hs":
        moves = closes[h:] / closes[:-h] - 1.0
    else:
        r = np.log(closes[1:] / closes[:-1])
        cov = ewma_cov(r, a.ewma_lambda)
        z = np.random.default_rng(a.seed).standard_normal((a.scenarios, closes.shape[1]))
        moves = np.expm1(math.sqrt(h) * (z @ np.linalg.cholesky(cov).T))
        extra["volatility"] = np.sqrt(np.diag(cov)).tolist()
    loss = losses(book, moves)
    var, es, worst = var_es(loss, a.confidence)
    if a.method == "mc":
        tail_var = float(np.var(worst)) if len(worst) > 1 else 0.0
        extra["es_se"] = math.sqrt((tail_var + a.confidence * (es - var) ** 2)
                                   / (len(loss) * (1.0 - a.confidence)))
    return len(loss), var, es, extra


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--portfolio", required=True)
    p.add_argument("--market", required=True, help="Deribit option-chain CSV")
    p.add_argument("--history", required=True, help="wide CSV date,btc_close_usd,...")
    p.add_argument("--method", choices=["hs", "mc"], default="hs")
    p.add_argument("--horizon", type=int, default=1)
    p.add_argument("--scenarios", type=int, default=100_000)
    p.add_argument("--confidence", type=float, default=0.99)
    p.add_argument("--ewma-lambda", type=float, default=0.94)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--positions", type=int, help="only the first N positions of the portfolio")
    a = p.parse_args()
    if a.horizon < 1 or not 0.0 < a.confidence < 1.0 or a.repeat < 1:
        fail("--horizon >= 1, 0 < --confidence < 1 and --repeat >= 1 are required")
    t0 = time.perf_counter()
    book, coins, closes = build_book(a.portfolio, a.market, a.history, a.positions)
    build = time.perf_counter() - t0
    best = math.inf
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        n, var, es, extra = run(book, closes, a)
        best = min(best, time.perf_counter() - t0)
    if "volatility" in extra:
        extra["volatility"] = dict(zip(coins, extra["volatility"]))
    print(json.dumps(dict(method=a.method, scenarios=n, var=var, es=es, positions=len(book["F"]),
                          seconds_build=build, seconds_compute=best,
                          seconds_import=SECONDS_IMPORT, **extra)))


if __name__ == "__main__":
    main()
