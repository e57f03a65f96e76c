#!/usr/bin/env python3
"""backtesting.py reference run of a long-only SMA crossover.

usage: backtesting_py_sma.py CSV FAST SLOW OUT_TRADES_CSV [--cash C] [--commission F]
                 [--finalize-trades]

CSV: Binance public-data kline file, no header, 12 columns
(open_time, open, high, low, close, volume, close_time, ...).
open_time is ms; values > 1e14 are treated as µs (Binance spot 2025+ files).
Prints one JSON line; times only Backtest.run().
Trades CSV: entry_bar,exit_bar,entry_price,exit_price,size (0-based bars,
prices as repr(float), size as int). Only CLOSED trades (stats._trades).
"""
import argparse
import json
import sys
import time
import warnings

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover
from backtesting.test import SMA


class SmaCrossLong(Strategy):
    fast = 10
    slow = 30

    def init(self):
        close = self.data.Close
        self.sma_fast = self.I(SMA, close, self.fast)
        self.sma_slow = self.I(SMA, close, self.slow)

    def next(self):
        if crossover(self.sma_fast, self.sma_slow) and not self.position:
            self.buy()
        elif crossover(self.sma_slow, self.sma_fast) and self.position:
            self.position.close()


def load_binance(path):
    raw = pd.read_csv(path, header=None, usecols=range(6),
                      names=["open_time", "Open", "High", "Low", "Close", "Volume"],
                      dtype={"open_time": "int64", "Open": "float64", "High": "float64",
                             "Low": "float64", "Close": "float64", "Volume": "float64"})
    ot = raw["open_time"]
    unit = "us" if len(ot) and ot.iloc[0] > 10**14 else "ms"
    idx = pd.DatetimeIndex(pd.to_datetime(ot, unit=unit), name="open_time")
    df = raw[["Open", "High", "Low", "Close", "Volume"]].set_index(idx)
    return df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("fast", type=int)
    ap.add_argument("slow", type=int)
    ap.add_argument("out_trades")
    ap.add_argument("--cash", type=float, default=1_000_000)
    ap.add_argument("--commission", type=float, default=0.001)
    ap.add_argument("--finalize-trades", action="store_true",
                    help="Backtest(finalize_trades=True) (default False)")
    a = ap.parse_args()

    df = load_binance(a.csv)
    bt = Backtest(df, SmaCrossLong, cash=a.cash, commission=a.commission,
                  trade_on_close=False, exclusive_orders=False, hedging=False,
                  finalize_trades=a.finalize_trades)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        stats = bt.run(fast=a.fast, slow=a.slow)
        dt = time.perf_counter() - t0
    if caught:
        # One line per cancelled order would drown the output; the count says enough.
        print(f"backtesting.py warnings: {len(caught)} (e.g. {caught[0].message})", file=sys.stderr)

    tr = stats["_trades"]
    with open(a.out_trades, "w") as f:
        f.write("entry_bar,exit_bar,entry_price,exit_price,size\n")
        for eb, xb, ep, xp, sz in zip(tr["EntryBar"].tolist(), tr["ExitBar"].tolist(),
                                      tr["EntryPrice"].tolist(), tr["ExitPrice"].tolist(),
                                      tr["Size"].tolist()):
            f.write(f"{int(eb)},{int(xb)},{float(ep)!r},{float(xp)!r},{int(sz)}\n")

    n = len(df)
    print(json.dumps({"bars": n, "seconds": dt, "bars_per_second": n / dt,
                      "trades": int(len(tr)),
                      "final_equity": float(stats["Equity Final [$]"])}))


if __name__ == "__main__":
    main()
