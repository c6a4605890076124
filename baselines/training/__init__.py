"""Offline-RL planners (paper B): learn a planner from judged trajectories, then run it as a system.

- :mod:`.options` — every training choice, paper B's value and its code's (``preset=paper|code``);
- :mod:`.records` — one trajectory as data, and the prompt and target format shared with inference;
- :mod:`.sources` — run stores (any judge's score as reward), paper B's released layout, JSONL;
- :mod:`.testbed` — the exact-reward testbed (styling suites, noisy rule data planner, exact judge);
- :mod:`.splits` — group-disjoint seeded splits; evaluated images never train;
- :mod:`.methods` — S, R, RW, SW as filter + weight + normaliser; DPO pairs;
- :mod:`.encode`, :mod:`.trainer`, :mod:`.checkpoint` — tokenisation, the loop (LoRA via peft,
  accelerate, bf16 on GPU), resumable checkpoints;
- :mod:`.pipeline` — records to a trained planner folder (``train.json``); :mod:`.tinylm` — small
  models from a config; :mod:`.trained_planner` — the ``trained-planner`` system;
  :mod:`.evaluate` — held-out exact scores.

Importing this package imports no heavy library; torch, transformers and peft load inside functions.
"""
