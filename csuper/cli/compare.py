"""``csuper compare``: compressed-sensing comparisons of a saved toy model."""

from __future__ import annotations

import argparse

DESCRIPTION = (
    "Load toy models saved by 'csuper train --output MODEL.npz' (csuper.toy.save_model) and "
    "print, for each instance asked: the compressed-sensing scaling point (expected active "
    "features k, Amelunxen et al.'s approximation m*(n, k) of the nonnegative l1 threshold, "
    "k log(n/k), the compressed-sensing capacity, the represented features (|w_i| > T) and the "
    "recovered ones (the read-out explains half their variance)); the decoder gap (relative MSE "
    "and exact-recovery rate, on inputs with at least one active feature, of the model's ReLU "
    "read-out against other decoders of the same measurements h = W x); and the learned "
    "per-feature capacities against the Lagrangian allocation "
    "(csuper.compare.compare_capacities)."
)

_DEFAULT_DECODERS = ("relu", "ista", "nnbp", "nnbp_gaussian")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the options of ``csuper compare``."""
    from csuper.compare import DECODERS

    parser.add_argument("model", metavar="MODEL.npz", help="toy-model file (csuper.toy.save_model)")
    parser.add_argument(
        "--instance",
        type=int,
        nargs="+",
        default=None,
        metavar="I",
        help="instance index(es) to compare (default: every instance)",
    )
    parser.add_argument(
        "--n-samples",
        type=int,
        default=200,
        metavar="B",
        help="fresh samples x decoded per instance for the decoder gap",
    )
    parser.add_argument(
        "--decoders",
        nargs="+",
        choices=list(DECODERS),
        default=list(_DEFAULT_DECODERS),
        metavar="NAME",
        help="decoders of the decoder gap; choices: "
        + "; ".join(f"{k}: {v.description}" for k, v in DECODERS.items()),
    )
    parser.add_argument(
        "--represented-threshold",
        type=float,
        default=0.5,
        metavar="T",
        help="a feature is represented when its norm |w_i| exceeds this",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of the decoder-gap samples"
    )
    parser.add_argument(
        "--output",
        "-o",
        default=None,
        metavar="PATH",
        help="also write the results to this JSON file",
    )


def _instance_result(model, r: int, args: argparse.Namespace) -> dict:
    from csuper.compare import compare_capacities, decoder_gap, recovered_features, scaling_point

    W, p = model.W[r], model.feature_probability[r]
    pt = scaling_point(W, p, represented_threshold=args.represented_threshold)
    gap = decoder_gap(
        W,
        model.b[r],
        p,
        n_samples=args.n_samples,
        decoders=args.decoders,
        magnitude=model.distribution.get("magnitude", "uniform"),
        rng=[args.seed, r],
    )
    cap = compare_capacities(model, r, represented_threshold=args.represented_threshold)
    recovered = recovered_features(W, model.b[r], p, rng=[args.seed, r, 1]).count
    scaling = {**pt.__dict__, "two_klogk": pt.two_klogk, "recovered": recovered}
    return {
        "instance": r,
        "scaling": scaling,
        "decoder_gap": gap.to_records(),
        "frame_coherence": {k: float(v) for k, v in gap.frame_coherence.items()},
        "capacity": cap.summary(),
    }


def _print(res: dict) -> None:
    s, c = res["scaling"], res["capacity"]
    print(f"Instance {res['instance']}: n={s['n_features']}, m={s['n_dims']}")
    print(
        f"  scaling: k={s['k']:.4f} (p={s['feature_probability']:.4f}), "
        f"m*(n,k)={s['threshold']:.4f}, k log(n/k)={s['klogk']:.4f}, "
        f"2 k log(n/k)={s['two_klogk']:.4f}, cs_capacity={s['cs_capacity']}, "
        f"represented={s['represented']}, recovered={s['recovered']}"
    )
    print(f"  decoder gap ({res['decoder_gap'][0]['n_samples']} samples with an active feature):")
    print(f"    {'decoder':14s} {'rel_mse':>10s} {'exact':>7s} {'+-se':>7s} {'failed':>6s}")
    for row in res["decoder_gap"]:
        print(
            f"    {row['decoder']:14s} {row['relative_mse']:10.4g} {row['exact_rate']:7.3f} "
            f"{row['exact_se']:7.3f} {row['n_failed']:6d}"
        )
    coh = ", ".join(f"{k}={v:.4f}" for k, v in res["frame_coherence"].items())
    print(f"    coherence: {coh}")
    print(
        f"  capacities: rank correlation={c['spearman']:.3f}, mean |C-D| on represented="
        f"{c['mae_represented']:.4f}, class agreement={c['agreement']:.3f}"
    )
    print(
        f"    learned budget={c['learned_budget']:.4f}, "
        f"predicted budget={c['predicted_budget']:.4f} (m={c['n_dims']}), "
        f"shadow price={c['shadow_price']:.4g}"
    )
    if c["disagree_features"]:
        print(f"    disagreeing features: {c['disagree_features']}")
    confusion = ", ".join(f"{k}:{v}" for k, v in c["confusion"].items() if v)
    print(f"    predicted->learned: {confusion}")


def run(args: argparse.Namespace) -> int:
    """Run ``csuper compare``; returns the exit status."""
    import json

    import numpy as np

    from csuper._validation import check_input_file, check_int, check_output_file, check_real
    from csuper.toy import load_model

    check_input_file(args.model, "MODEL.npz")
    if args.output:
        check_output_file(args.output, "--output")
    check_int(args.n_samples, "--n-samples", low=2)
    check_int(args.seed, "--seed", low=0)
    check_real(args.represented_threshold, "--represented-threshold", low=0.0)
    for flag, values in (("--instance", args.instance), ("--decoders", args.decoders)):
        if values is not None and len(set(values)) < len(values):
            raise ValueError(
                f"{flag} must name each at most once; got {' '.join(map(str, values))}."
            )
    model = load_model(args.model)
    if not np.all(np.isfinite(model.feature_probability)):
        raise ValueError(
            f"{args.model}: the model has no feature_probability (NaN); "
            "csuper compare needs a model trained by csuper.toy.train."
        )
    instances = range(model.n_instances) if args.instance is None else args.instance
    instances = [
        check_int(i, "--instance", low=0, high=model.n_instances, high_inclusive=False)
        for i in instances
    ]
    results = []
    for r in instances:
        res = _instance_result(model, r, args)
        results.append(res)
        _print(res)
    if args.output:
        out = {
            "model": str(args.model),
            "seed": args.seed,
            "n_samples": args.n_samples,
            "decoders": list(args.decoders),
            "instances": results,
        }
        with open(args.output, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2, default=float)
        print(f"results written to {args.output}")
    return 0
