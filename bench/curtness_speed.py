"""Speed of the curt-reply detector: replies per second on one core, model load time, memory added.

    python -m bench.curtness_speed [--seconds 3]

Measured in fresh child processes (one at a time, so one core each) on the replies of the shipped test
split, questions included. Baselines measured in the same run, so the ratios hold on any machine:
``legacy`` is the previous rule-based detector (bench/curtness_legacy.py), ``trivial`` a bag-of-words
dictionary sum (the floor for anything that reads every word). The split repeats, so every word's
weights are cached after the first pass; ``unseen`` empties that cache before every reply (the worst
case: text made only of words never seen before). Targets (``model``): >= 5,000 replies/s,
load < 200 ms, resident memory added < 30 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = r"""
import json, sys, time, gc

def rss_kb():
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    import os
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024

which, seconds = sys.argv[1], float(sys.argv[2])
from curtness_eval.datasets import bundled_test_split
rows = [(r["text"], r.get("question"), r.get("reply_seconds"), bool(r.get("interrupted_focus")))
        for r in bundled_test_split()]
gc.collect()
before = rss_kb()
start = time.perf_counter()
if which in ("model", "unseen"):
    from handlers.curtness import _model, assess_reply, model_info
    model_info()  # loads the weights and the lexicon
    assess_reply("warm up", question="Klopt dit?")
    forget = _model().word_entries.cache_clear
    if which == "model":
        def score(text, question, seconds, focus):
            return assess_reply(text, question=question, reply_seconds=seconds, interrupted_focus=focus).score
    else:  # every reply as if its words were new: the per-word weight cache emptied first
        def score(text, question, seconds, focus):
            forget()
            return assess_reply(text, question=question, reply_seconds=seconds, interrupted_focus=focus).score
elif which == "legacy":
    from bench.curtness_legacy import assess_reply
    def score(text, question, seconds, focus):
        return assess_reply(text, question=question, reply_seconds=seconds, interrupted_focus=focus).score
else:
    weights = {"nee": 0.4, "zie": 0.6, "wiki": 0.5, "docs": 0.5, "thanks": -0.8, "klopt": -0.9}
    def score(text, question, seconds, focus):
        return sum(weights.get(word, 0.0) for word in text.lower().split())
load_ms = (time.perf_counter() - start) * 1000
for row in rows:
    score(*row)
after = rss_kb()
done = 0
cpu_start = time.process_time()
deadline = time.perf_counter() + seconds
while time.perf_counter() < deadline:
    for row in rows:
        score(*row)
    done += len(rows)
cpu = time.process_time() - cpu_start
print(json.dumps({"which": which, "load_ms": load_ms, "rss_added_mb": (after - before) / 1024,
                  "per_second": done / cpu, "replies": done}))
"""


def measure(which: str, seconds: float) -> dict:
    output = subprocess.run([sys.executable, "-c", _CHILD, which, str(seconds)], check=True, capture_output=True,
                            text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="scoring time per detector")
    args = parser.parse_args(argv)
    results = {which: measure(which, args.seconds) for which in ("model", "unseen", "legacy", "trivial")}
    model = results["model"]
    print(f"{'detector':<10} {'replies/s (1 core)':>19} {'load ms':>9} {'RSS added MB':>13}")
    for which, result in results.items():
        print(f"{which:<10} {result['per_second']:>19,.0f} {result['load_ms']:>9.1f} {result['rss_added_mb']:>13.1f}")
    print(f"unseen: the model with its per-word cache emptied before every reply (words never seen before), "
          f"x{results['unseen']['per_second'] / model['per_second']:.2f} of the model's speed")
    for base in ("legacy", "trivial"):
        other = results[base]
        print(f"model vs {base}: speed x{model['per_second'] / other['per_second']:.2f}, "
              f"load x{model['load_ms'] / max(other['load_ms'], 1e-3):.1f}, "
              f"memory {model['rss_added_mb'] - other['rss_added_mb']:+.1f} MB")
    targets = [("replies/s >= 5000", model["per_second"] >= 5000), ("load < 200 ms", model["load_ms"] < 200),
               ("RSS added < 30 MB", model["rss_added_mb"] < 30)]
    print("targets: " + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
