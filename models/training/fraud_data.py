#!/usr/bin/python3
"""Synthetic card-fraud transactions: a documented, deterministic generative process.

Every row is one card transaction.  Columns (in this order, CSV header included):

    request_id             string, unique ("txn-<tag>-<seed>-<index>", tag "n"/"d" for no-drift/drift)
    event_time             epoch milliseconds (UTC), strictly increasing, spanning 3 days
                           starting 2026-01-05T00:00:00Z (1767571200000)
    entity_id              card id "card-NNNNN" (population of N_CARDS = 4000 cards)
    region                 home region of the card: EU / NA / APAC / LATAM
    channel                web / app / pos
    amount                 transaction amount, raw currency units (2 decimals)
    hour                   local hour 0..23 in the card's home time zone (derived from event_time)
    merchant_risk          0..1 risk score of the merchant category
    txn_count_1h           transactions of this card in the preceding hour (excl. this one)
    txn_count_24h          transactions of this card in the preceding 24 h (excl. this one, >= txn_count_1h)
    amount_to_avg_ratio    amount / the card's running average amount
    distance_from_home_km  distance between the transaction location (or IP geolocation) and home
    is_foreign             1 if the merchant/IP is outside the home country, else 0
    card_age_days          days since card issue
    label                  1 fraud, 0 legit (ground truth, always filled)
    label_delay_ms         when the label becomes known, relative to event_time; EMPTY = never labelled

All nine numeric features are written as floats in RAW units (no scaling).  The velocity
counters also count card activity that is not part of the sample (the sample is a ~1/10
traffic sample), so they are drawn from the card's activity rate plus any burst observed here.

Generative process (per seed, numpy PCG64 ``default_rng(seed)``; same seed => byte-identical CSV)
------------------------------------------------------------------------------------------------
1. Card population (4000 cards): home region EU .35 / NA .35 / APAC .20 / LATAM .10
   (time-zone offsets +1 / -5 / +8 / -3 h); card age: 12 % brand-new cards U(1, 90) days, the
   rest lognormal(median 700 d) capped at 3650; average ticket lognormal(median 45, sigma .7);
   activity weight Gamma(2, 1); daily transaction rate Gamma(3, 1.2).
2. Each row gets a latent *scenario*:
     legit (rest)
     A  card-not-present spree  1.2 %  foreign (p .65), night-biased hours, web/app, big amounts
                                        (ratio ~ lognormal(median 5)), high-risk merchants (p .5)
     B  velocity burst / testing 0.9 % rows emitted as bursts of 3-8 consecutive transactions on
                                        one card a few minutes apart; small amounts, high-risk
                                        merchants (p .7), preferentially young cards; txn_count_1h
                                        rises inside the burst
     C  skimmed card present     0.7 % POS, domestic but far from home (median 400 km), ratio ~2.2
   Legit traffic deliberately contains every single ingredient of the attacks (travel: 6 % foreign;
   night owls; 3 % big purchases; 3 % shopping sprees with high 1h counts; 10 % high-risk merchant
   categories), so only *conjunctions* of features (amount AND foreign AND night, burst AND risky
   merchant AND young card, POS AND far-but-domestic) separate fraud from legit, and the hour
   signal is cyclic (night = 0-5 h).  A linear model on standardised raw features therefore
   underperforms a small MLP.
3. Label: attack rows are fraud with p .93 (the rest are never reported and look legit);
   legit rows are fraud with p .002 (friendly fraud / noise).  Resulting fraud rate ~ 2.8 %.
4. Label delay: fraud -> chargeback, lognormal with median 3 days (sigma .6), capped at 13 days;
   legit -> confirmation window, uniform 7..10 days; 3 % of all rows (independently of the label)
   are never labelled (empty label_delay_ms, label column still holds the ground truth).

Drift (``--drift`` / ``drift=True``) changes exactly these things and nothing else:
  * legit foreign share 6 % -> 15 % (holiday travel), and the legit hour distribution puts
    2.5x more weight on night hours 0-5;
  * a NEW fraud scenario D "account takeover" with share 1.5 %: app (p .8) / web, domestic,
    daytime hours (9-20), moderate amounts (ratio ~ lognormal(median 1.6)), low-risk merchants
    (Beta(2, 8)), normal velocity, established cards (age > 365 d), distance from home
    lognormal(median 250 km).  It looks legit on the features the live model relies on, so
    both shipped models largely miss it; fraud rate under drift ~ 4.2 %.
Scenario shares of A/B/C are unchanged under drift.

Usage:  /usr/bin/python3 fraud_data.py --rows 20000 --seed 2002 [--drift] --out file.csv
"""
import argparse
import csv
import sys

import numpy as np

START_MS = 1767571200000  # 2026-01-05T00:00:00Z
SPAN_MS = 3 * 86_400_000
N_CARDS = 4000
REGIONS = np.array(["EU", "NA", "APAC", "LATAM"])
REGION_P = np.array([0.35, 0.35, 0.20, 0.10])
TZ_H = np.array([1, -5, 8, -3])
CHANNELS = np.array(["web", "app", "pos"])
# legit channel mix per home region (web, app, pos)
CHANNEL_P = np.array([[0.30, 0.25, 0.45], [0.35, 0.25, 0.40], [0.25, 0.45, 0.30], [0.30, 0.30, 0.40]])

FEATURES = ["amount", "hour", "merchant_risk", "txn_count_1h", "txn_count_24h",
            "amount_to_avg_ratio", "distance_from_home_km", "is_foreign", "card_age_days"]
COLUMNS = ["request_id", "event_time", "entity_id", "region", "channel"] + FEATURES + ["label", "label_delay_ms"]

LEGIT, A_SPREE, B_BURST, C_SKIM, D_ATO = 0, 1, 2, 3, 4
SHARE = {A_SPREE: 0.012, B_BURST: 0.009, C_SKIM: 0.007}
SHARE_DRIFT_D = 0.015
DAY_MS = 86_400_000
NEVER_LABELLED_P = 0.03

# legit local-hour profile (relative weights for hour 0..23)
HOUR_W = np.array([1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 3.5, 4.0, 4.5, 5.0,
                   5.5, 5.0, 4.6, 4.6, 4.8, 5.2, 5.6, 5.4, 4.6, 3.6, 2.6, 1.6])
# attack A local-hour profile: night-biased
HOUR_A = np.array([5.0, 5.5, 5.5, 5.0, 4.5, 3.5, 2.0, 1.5, 1.0, 1.0, 1.0, 1.0,
                   1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.5, 2.0, 3.0, 4.0])


def _lognormal(rng, median, sigma, size):
    return rng.lognormal(np.log(median), sigma, size)


def _cards(rng):
    region = rng.choice(4, size=N_CARDS, p=REGION_P)
    new = rng.random(N_CARDS) < 0.12
    age = np.where(new, rng.uniform(1, 90, N_CARDS), np.minimum(_lognormal(rng, 700, 0.8, N_CARDS), 3650))
    return {
        "region": region,
        "age": np.floor(age),
        "avg_amount": _lognormal(rng, 45, 0.7, N_CARDS),
        "weight": rng.gamma(2.0, 1.0, N_CARDS),
        "rate24": rng.gamma(3.0, 1.2, N_CARDS),
    }


def generate(n_rows, seed, drift=False):
    """Return a dict column -> numpy array with n_rows rows, sorted by event_time."""
    rng = np.random.default_rng(seed)
    cards = _cards(rng)
    n = n_rows

    # ---- scenarios -------------------------------------------------------------------------
    shares = dict(SHARE)
    if drift:
        shares[D_ATO] = SHARE_DRIFT_D
    keys = [LEGIT] + list(shares)
    probs = [1.0 - sum(shares.values())] + [shares[k] for k in shares]
    scen = rng.choice(keys, size=n, p=probs)

    # ---- card assignment -------------------------------------------------------------------
    w = cards["weight"] / cards["weight"].sum()
    card = rng.choice(N_CARDS, size=n, p=w)
    uniform_card = rng.integers(0, N_CARDS, n)
    card = np.where((scen == A_SPREE) | (scen == C_SKIM), uniform_card, card)
    young = np.flatnonzero(cards["age"] < 90)
    old = np.flatnonzero(cards["age"] > 365)
    if drift:
        d_idx = np.flatnonzero(scen == D_ATO)
        card[d_idx] = rng.choice(old, size=d_idx.size)

    # ---- event time (before the hour is derived) -------------------------------------------
    tz = TZ_H[cards["region"][card]]
    hw = HOUR_W.copy()
    if drift:
        hw[0:6] *= 2.5
    local_hour = rng.choice(24, size=n, p=hw / hw.sum())
    a_idx = np.flatnonzero(scen == A_SPREE)
    local_hour[a_idx] = rng.choice(24, size=a_idx.size, p=HOUR_A / HOUR_A.sum())
    if drift:
        local_hour[d_idx] = rng.integers(9, 21, d_idx.size)
    day = rng.integers(0, 3, n)
    within = rng.integers(0, 3_600_000, n)
    t = day * DAY_MS + (local_hour - tz) * 3_600_000 + within
    t = np.mod(t, SPAN_MS)

    # ---- velocity bursts (scenario B): chunk B rows into bursts on one card -----------------
    burst_pos = np.zeros(n, dtype=np.int64)
    b_idx = np.flatnonzero(scen == B_BURST)
    i = 0
    while i < b_idx.size:
        k = int(rng.integers(3, 9))
        chunk = b_idx[i:i + k]
        c = int(rng.choice(young)) if rng.random() < 0.6 else int(rng.integers(0, N_CARDS))
        card[chunk] = c
        t0 = int(rng.integers(0, SPAN_MS - 3_600_000))
        gaps = np.cumsum(rng.exponential(4 * 60_000, chunk.size)).astype(np.int64)
        t[chunk] = t0 + gaps
        burst_pos[chunk] = np.arange(chunk.size)
        i += k

    region = cards["region"][card]
    tz = TZ_H[region]

    # ---- channel ---------------------------------------------------------------------------
    u = rng.random(n)
    cum = np.cumsum(CHANNEL_P[region], axis=1)
    channel = (u[:, None] > cum).sum(axis=1)
    channel = np.minimum(channel, 2)
    sel = scen == A_SPREE
    channel[sel] = np.where(rng.random(sel.sum()) < 0.75, 0, 1)
    sel = scen == B_BURST
    channel[sel] = rng.choice(3, size=sel.sum(), p=[0.5, 0.3, 0.2])
    sel = scen == C_SKIM
    channel[sel] = np.where(rng.random(sel.sum()) < 0.9, 2, 1)
    if drift:
        sel = scen == D_ATO
        channel[sel] = np.where(rng.random(sel.sum()) < 0.8, 1, 0)

    # ---- is_foreign --------------------------------------------------------------------------
    p_foreign = np.where(channel == 2, 0.04, 0.08)
    if drift:
        p_foreign = p_foreign * 2.5
    p_foreign = np.where(scen == A_SPREE, 0.65, p_foreign)
    p_foreign = np.where(scen == B_BURST, 0.30, p_foreign)
    p_foreign = np.where(scen == C_SKIM, 0.15, p_foreign)
    p_foreign = np.where(scen == D_ATO, 0.0, p_foreign)
    foreign = (rng.random(n) < p_foreign).astype(np.float64)

    # ---- distance ----------------------------------------------------------------------------
    d_pos = _lognormal(rng, 6, 1.0, n)
    d_remote = _lognormal(rng, 20, 1.2, n)
    d_foreign = 200 + _lognormal(rng, 1500, 0.8, n)
    dist = np.where(channel == 2, d_pos, d_remote)
    dist = np.where(foreign == 1, d_foreign, dist)
    sel = scen == A_SPREE
    dist[sel] = np.where(foreign[sel] == 1, 200 + _lognormal(rng, 3000, 0.7, sel.sum()),
                         _lognormal(rng, 60, 1.2, sel.sum()))
    sel = (scen == B_BURST) & (foreign == 0)
    dist[sel] = _lognormal(rng, 30, 1.3, sel.sum())
    sel = (scen == C_SKIM) & (foreign == 0)
    dist[sel] = _lognormal(rng, 400, 0.6, sel.sum())
    sel = scen == D_ATO
    dist[sel] = _lognormal(rng, 250, 0.5, sel.sum())

    # ---- amount and ratio ------------------------------------------------------------------
    avg = cards["avg_amount"][card]
    mult = _lognormal(rng, 1.0, 0.55, n)
    big = rng.random(n) < 0.03
    mult = np.where(big, mult * _lognormal(rng, 4.0, 0.5, n), mult)
    sel = scen == A_SPREE
    mult[sel] = _lognormal(rng, 5.0, 0.6, sel.sum())
    sel = scen == C_SKIM
    mult[sel] = _lognormal(rng, 2.2, 0.5, sel.sum())
    sel = scen == D_ATO
    mult[sel] = _lognormal(rng, 1.6, 0.4, sel.sum())
    amount = avg * mult
    sel = scen == B_BURST
    amount[sel] = _lognormal(rng, 15, 0.6, sel.sum())
    amount = np.maximum(np.round(amount, 2), 0.5)
    running_avg = avg * _lognormal(rng, 1.0, 0.08, n)
    ratio = np.round(amount / running_avg, 4)

    # ---- merchant risk ---------------------------------------------------------------------
    risky = rng.random(n) < 0.10
    risky = np.where(scen == A_SPREE, rng.random(n) < 0.5, risky)
    risky = np.where(scen == B_BURST, rng.random(n) < 0.7, risky)
    risky = np.where(scen == C_SKIM, rng.random(n) < 0.1, risky)
    risky = np.where(scen == D_ATO, False, risky)
    mrisk = np.where(risky, rng.beta(6, 3, n), rng.beta(2, 9, n))
    sel = scen == D_ATO
    mrisk[sel] = rng.beta(2, 8, sel.sum())
    mrisk = np.round(mrisk, 4)

    # ---- velocity ----------------------------------------------------------------------------
    rate = cards["rate24"][card]
    c24 = rng.poisson(rate)
    c1 = rng.binomial(c24, 0.06)
    spree = rng.random(n) < 0.03
    c1 = np.where(spree, c1 + rng.poisson(4, n), c1)
    sel = scen == A_SPREE
    c1[sel] += rng.poisson(1.0, sel.sum())
    sel = scen == B_BURST
    c1[sel] = burst_pos[sel] + rng.poisson(2.0, sel.sum())
    c24 = np.maximum(c24, c1)
    c24 = np.where(scen == B_BURST, c24 + c1, c24)

    # ---- card age (grows with the day of the event) ----------------------------------------
    # ---- strictly increasing event times ----------------------------------------------------
    order = np.argsort(t, kind="stable")
    idx = np.arange(n)
    ts = t[order]
    ts = np.maximum.accumulate(ts - idx) + idx  # strictly increasing, ms resolution
    event_time = START_MS + ts

    def o(a):
        return a[order]

    scen, card, region, channel = o(scen), o(card), o(region), o(channel)
    tz = TZ_H[region]
    hour = np.mod(np.floor(ts / 3_600_000).astype(np.int64) + tz, 24).astype(np.float64)
    card_age = cards["age"][card] + np.floor(ts / DAY_MS)

    # ---- labels --------------------------------------------------------------------------
    p_fraud = np.where(scen == LEGIT, 0.002, 0.93)
    label = (rng.random(n) < p_fraud).astype(np.int64)
    delay_fraud = np.minimum(_lognormal(rng, 3 * DAY_MS, 0.6, n), 13 * DAY_MS)
    delay_legit = rng.uniform(7 * DAY_MS, 10 * DAY_MS, n)
    delay = np.where(label == 1, delay_fraud, delay_legit).astype(np.int64)
    never = rng.random(n) < NEVER_LABELLED_P

    tag = "d" if drift else "n"
    return {
        "request_id": np.array([f"txn-{tag}-{seed}-{k:07d}" for k in range(n)]),
        "event_time": event_time.astype(np.int64),
        "entity_id": np.array([f"card-{c:05d}" for c in card]),
        "region": REGIONS[region],
        "channel": CHANNELS[channel],
        "amount": o(amount),
        "hour": hour,
        "merchant_risk": o(mrisk),
        "txn_count_1h": o(c1).astype(np.float64),
        "txn_count_24h": o(c24).astype(np.float64),
        "amount_to_avg_ratio": o(ratio),
        "distance_from_home_km": np.round(o(dist), 1),
        "is_foreign": o(foreign),
        "card_age_days": card_age.astype(np.float64),
        "label": label,
        "label_delay_ms": delay,
        "labelled": ~never,
        "scenario": scen,  # not written to CSV; for diagnostics only
    }


def feature_matrix(data):
    """[n, 9] float32 matrix in FEATURES order (exactly what the models consume)."""
    return np.stack([data[f] for f in FEATURES], axis=1).astype(np.float32)


def _fmt(x):
    return repr(float(x))


def write_csv(data, path_or_file):
    close = False
    if isinstance(path_or_file, str):
        f = open(path_or_file, "w", newline="")
        close = True
    else:
        f = path_or_file
    w = csv.writer(f, lineterminator="\n")
    w.writerow(COLUMNS)
    n = len(data["request_id"])
    for k in range(n):
        row = [data["request_id"][k], int(data["event_time"][k]), data["entity_id"][k],
               data["region"][k], data["channel"][k]]
        row += [_fmt(data[f][k]) for f in FEATURES]
        row.append(int(data["label"][k]))
        row.append(int(data["label_delay_ms"][k]) if data["labelled"][k] else "")
        w.writerow(row)
    if close:
        f.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=2002)
    ap.add_argument("--drift", action="store_true")
    ap.add_argument("--out", default="-")
    a = ap.parse_args(argv)
    data = generate(a.rows, a.seed, a.drift)
    write_csv(data, sys.stdout if a.out == "-" else a.out)
    lab = data["label"]
    print(f"rows={a.rows} seed={a.seed} drift={a.drift} fraud_rate={lab.mean():.4f} "
          f"never_labelled={(~data['labelled']).mean():.4f}", file=sys.stderr)


if __name__ == "__main__":
    main()
