#!/usr/bin/python3
"""Read a slotdiff .npy training shard (docs/formats.md) with numpy and print its examples."""
import json, pathlib, sys
import numpy as np

d = pathlib.Path(sys.argv[1]); meta = json.loads((d / "shard.json").read_text())
a = {p.stem: np.load(p) for p in d.glob("*.npy")}
assert len(a["input_offsets"]) == meta["examples"] + 1 and len(a["steps"]) == meta["trajectories"]
for e in range(min(meta["examples"], int(sys.argv[2]) if len(sys.argv) > 2 else 5)):
    x = a["inputs"][a["input_offsets"][e]:a["input_offsets"][e + 1]]        # x_{t+1}
    y = a["targets"][a["target_offsets"][e]:a["target_offsets"][e + 1]]     # one id per slot of x_{t+1}
    print(f"sentence {a['example_sentence'][e]} step {a['example_step'][e]}: x={x.tolist()} targets={y.tolist()}")
print(f"{meta['trajectories']} trajectories, {meta['examples']} examples, layout {meta['layout']}", file=sys.stderr)
