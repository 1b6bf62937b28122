"""Lee (2013) online pseudo-labeling on MNIST with 1000 labels, ours vs a plain loop.

One run compares, on one device, ``OnlinePseudoLabelClassifier`` with CUDA
graphs, the same estimator eager, and the published plain PyTorch loop: wall
time and unlabeled images/s of each, in one table and one JSON file.

Protocols (``t`` counts labeled epochs, see ``OnlinePseudoLabelClassifier``):

full (default)
    The published one: 1000 labels (100 per class), 59,000 unlabeled training
    images, the official 10,000 test images; ReferenceCNN, plain SGD lr 0.1,
    labeled batches of 32, unlabeled batches of 256, one labeled epoch every
    50 unlabeled batches; T1=100 supervised epochs, T2=700, alpha_f=3;
    150 pseudo-labeling passes (``--epochs``). Pixels scaled to [0, 1].
--quick
    For 2 CPU cores in under 15 minutes. Changes vs full: pixels also
    standardised with the MNIST mean/std; SGD with momentum 0.9 and lr 0.01;
    T1=30 supervised epochs; T2=T1+15 (alpha_f reached after 3 passes);
    pseudo-labels kept only above probability 0.9; 12 passes. The comparison
    rows run only 2 passes there, to measure throughput.
--smoke
    A few seconds on 3,000 training and 1,000 test images, to prove the
    script runs (accuracy meaningless); what CI runs.

Options
-------
--variants NAME [NAME ...]
    What to run, in order: ``graphs`` and ``eager`` (ours with
    ``cuda_graphs=True`` / ``False``), each optionally with ``+amp`` and/or
    ``+compile`` (e.g. ``eager+amp``), and ``plain`` (the published loop, fp32
    eager). ``+ro`` (a diagnostic) compiles with ``mode="reduce-overhead"``
    (torch.compile's own CUDA graphs) instead of the default mode.
    Default: ``graphs eager plain`` on CUDA, ``eager plain`` on CPU.
    The first variant runs the whole protocol; the others run
    ``--compare-passes`` passes after the same warm-up.
--compare-passes N
    Passes of the comparison variants (default: the whole protocol in full
    mode, 2 in --quick, 1 in --smoke). Their accuracy is then that of a
    shorter run; their images/s is what they are for.
--T1 N
    Supervised warm-up epochs instead of the protocol's (T2 moves with it);
    for throughput-only runs, where the warm-up is not what is measured.
--seeds, --out DIR, --epochs, --device, --threads, --curve
    Seeds (one full run each), folder of the JSON result
    (``mnist_cnn_<protocol>.json``), pseudo-labeling passes, torch device,
    torch CPU threads, and test accuracy after every epoch (for the plot only;
    nothing is chosen from it).

The plain loop is the published one: DataLoaders over TensorDatasets, labels
predicted by a separate eval-mode forward pass per batch, then a train-mode
pass. "images/s" is unlabeled images per second in the pseudo-labeling phase;
"wall s" is the whole fit, warm-up included.

Run: python benchmarks/mnist_cnn.py [--quick | --smoke] [--seeds 0 1 2]
"""

import argparse
import functools
import os
import time

import numpy as np
import torch
from _common import Log, add_common_options, write_json
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from pseudo_sklearn import alpha_schedule
from pseudo_sklearn.datasets import fetch_mnist, mask_labels
from pseudo_sklearn.torch import OnlinePseudoLabelClassifier, ReferenceCNN

PUBLISHED = {"supervised": 95.57, "pseudo": 98.46}
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

PROTOCOLS = {
    "full": dict(
        T1=100, T2=700, alpha_f=3.0, epochs=150, lr=0.1, momentum=0.0,
        threshold=None, standardize=False, compare_passes=None,
    ),
    "quick": dict(
        T1=30, T2=45, alpha_f=3.0, epochs=12, lr=0.01, momentum=0.9,
        threshold=0.9, standardize=True, compare_passes=2,
    ),
    "smoke": dict(
        T1=3, T2=5, alpha_f=3.0, epochs=2, lr=0.1, momentum=0.0,
        threshold=None, standardize=False, compare_passes=1,
    ),
}  # fmt: skip
OURS = {"graphs", "eager"}
OPTIONS = {"amp", "compile", "ro"}


def load_data(protocol, seed, smoke):
    train = fetch_mnist(subset="train")
    test = fetch_mnist(subset="test")
    X, y, X_test, y_test = train.data, train.target, test.data, test.target
    if smoke:
        X, y, X_test, y_test = X[:3000], y[:3000], X_test[:1000], y_test[:1000]
    n_labeled = 100 if smoke else 1000
    y_semi = mask_labels(y, n_labeled, per_class=True, random_state=seed)

    def scale(a):
        a = a.astype(np.float32) / 255.0
        return (a - MNIST_MEAN) / MNIST_STD if protocol["standardize"] else a

    return scale(X), y_semi, scale(X_test), y_test


def parse_variant(name):
    """``"graphs+amp"`` -> ("graphs", {"amp"}); errors name the choices."""
    kind, *options = name.split("+")
    if (
        kind not in OURS | {"plain"}
        or not set(options) <= OPTIONS
        or (kind == "plain" and options)
    ):
        raise SystemExit(
            f"unknown variant {name!r}: use graphs or eager, optionally with "
            "+amp and/or +compile (or +ro), or plain."
        )
    return kind, set(options)


def lee_params(protocol, device, seed, passes):
    """OnlinePseudoLabelClassifier's parameters for a protocol of PROTOCOLS."""
    return dict(
        module=ReferenceCNN,
        lr=protocol["lr"],
        optimizer_params={"momentum": protocol["momentum"]},
        max_epochs=passes,
        T1=protocol["T1"],
        T2=protocol["T2"],
        alpha_f=protocol["alpha_f"],
        threshold=protocol["threshold"],
        device=device,
        random_state=seed,
    )


def _with_compile_mode(mode, func, *args):
    compile_ = torch.compile
    torch.compile = functools.partial(compile_, mode=mode)
    torch._dynamo.reset()  # nothing compiled in another mode is reused
    try:
        return func(*args)
    finally:
        torch.compile = compile_
        torch._dynamo.reset()


def run_ours(protocol, data, seed, device, variant, passes, log, curve=False):
    X, y_semi, X_test, y_test = data
    kind, options = parse_variant(variant)
    params = lee_params(protocol, device, seed, passes)
    params.update(
        amp="amp" in options,
        compile=bool(options & {"compile", "ro"}),
        cuda_graphs=kind == "graphs",
    )
    if "ro" in options:
        # Diagnostic: the estimator calls torch.compile(module, dynamic=False);
        # for this variant that call uses mode="reduce-overhead".
        return _with_compile_mode(
            "reduce-overhead",
            run_ours,
            protocol,
            data,
            seed,
            device,
            variant.replace("+ro", "+compile"),
            passes,
            log,
            curve,
        ) | {"variant": variant}
    compile_time = 0.0
    if params["compile"]:
        # Compile every shape the fit meets (the labeled and unlabeled steps,
        # the eval-mode labeling pass) before any clock starts: a one-pass fit
        # on the labeled rows and 1024 unlabeled ones. Compiled code is reused
        # by the fits below.
        start = time.perf_counter()
        rows = (y_semi != -1) | (np.cumsum(y_semi == -1) <= 1024)
        short = {**params, "T1": 1, "T2": 1, "max_epochs": 1, "drift_check": None}
        OnlinePseudoLabelClassifier(**short).fit(X[rows], y_semi[rows])
        compile_time = time.perf_counter() - start
        log(f"{variant}: compiled in {compile_time:.1f}s")
    # The warm-up alone (max_epochs=0) gives the supervised baseline; with the
    # same seed it is exactly the first T1 epochs of the full fit below on CPU.
    # It also pays for starting CUDA (and compiling), so the timed fit below
    # does not; that fit's own capture and warm-up steps are in its wall time.
    start = time.perf_counter()
    warm = OnlinePseudoLabelClassifier(**{**params, "max_epochs": 0}).fit(X, y_semi)
    log(
        f"{variant}: supervised warm-up {warm.score(X_test, y_test):.2%} "
        f"in {time.perf_counter() - start:.1f}s"
    )
    clf = OnlinePseudoLabelClassifier(**params)
    start = time.perf_counter()
    clf.fit(X, y_semi, eval_set=(X_test, y_test) if curve else None)
    wall = time.perf_counter() - start
    history = clf.history_
    # Training time of the passes as the estimator timed them (evaluation
    # excluded), and of the warm-up epochs.
    pseudo_time = sum(h["fit_time"] for h in history if h["phase"] == "pseudo")
    warmup_time = sum(h["fit_time"] for h in history if h["phase"] == "supervised")
    result = dict(
        variant=variant,
        passes=passes,
        supervised=warm.score(X_test, y_test),
        pseudo=clf.score(X_test, y_test),
        wall=wall,
        warmup_fit_time=warmup_time,
        pseudo_fit_time=pseudo_time,
        compile_time=compile_time,
        images_per_s=int(np.sum(y_semi == -1)) * passes / max(pseudo_time, 1e-9),
        cuda_graphs_used=clf.cuda_graphs_,
        drift_restored=clf.drift_restored_,
        final_labeled_score=history[-1]["labeled_score"],
    )
    if curve:
        result["test_accuracy_per_epoch"] = [h["validation_score"] for h in history]
    return result


def run_plain(protocol, data, seed, device, passes, log):
    """The published loop, as written there (DataLoader, separate label pass)."""
    X, y_semi, X_test, y_test = data
    torch.manual_seed(seed)
    labeled = y_semi != -1
    train_loader = DataLoader(
        TensorDataset(torch.from_numpy(X[labeled]), torch.from_numpy(y_semi[labeled])),
        batch_size=32,
        shuffle=True,
    )
    unlabeled_loader = DataLoader(
        TensorDataset(torch.from_numpy(X[~labeled])), batch_size=256, shuffle=True
    )
    model = ReferenceCNN().to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=protocol["lr"], momentum=protocol["momentum"]
    )

    def labeled_epoch():
        model.train()
        for X_batch, y_batch in train_loader:
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            loss = F.nll_loss(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def clock():
        # Queued GPU work must finish before the clock is read.
        if torch.device(device).type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter()

    def evaluate():
        model.eval()
        with torch.no_grad():
            out = model(torch.from_numpy(X_test).to(device))
        return (out.argmax(1).cpu().numpy() == y_test).mean()

    start = clock()
    for _ in range(protocol["T1"]):
        labeled_epoch()
    warmup_time = clock() - start
    baseline = evaluate()
    log(f"plain: supervised {baseline:.2%} in {warmup_time:.1f}s")
    step = protocol["T1"]
    start_pseudo = clock()
    for _ in range(passes):
        model.train()
        for batch_idx, (x_unlabeled,) in enumerate(unlabeled_loader):
            x_unlabeled = x_unlabeled.to(device)
            model.eval()
            output_unlabeled = model(x_unlabeled)
            _, pseudo_labeled = torch.max(output_unlabeled, 1)
            model.train()
            output = model(x_unlabeled)
            alpha = alpha_schedule(
                step, T1=protocol["T1"], T2=protocol["T2"], alpha_f=protocol["alpha_f"]
            )
            unlabeled_loss = alpha * F.nll_loss(output, pseudo_labeled)
            optimizer.zero_grad()
            unlabeled_loss.backward()
            optimizer.step()
            if batch_idx % 50 == 0:
                labeled_epoch()
                step += 1
    pseudo_time = clock() - start_pseudo
    return dict(
        variant="plain",
        passes=passes,
        supervised=baseline,
        pseudo=evaluate(),
        wall=clock() - start,
        warmup_fit_time=warmup_time,
        pseudo_fit_time=pseudo_time,
        images_per_s=int((~labeled).sum()) * passes / max(pseudo_time, 1e-9),
    )


def print_table(name, device, seeds, n_labeled, variants, runs):
    print()
    print(f"MNIST, {n_labeled} labels, protocol {name}, device {device}, seeds {seeds}")
    header = (
        f"{'variant':22} {'passes':>6} {'supervised %':>14} {'pseudo-label %':>16} "
        f"{'wall s':>8} {'images/s':>9} {'vs plain':>8}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{'published (Lee 2013)':22} {150:>6} {PUBLISHED['supervised']:>14.2f} "
        f"{PUBLISHED['pseudo']:>16.2f}"
    )
    speed = {v: np.mean([r["images_per_s"] for r in runs[v]]) for v in variants}
    for variant in variants:
        rows = runs[variant]
        sup = 100 * np.array([r["supervised"] for r in rows])
        acc = 100 * np.array([r["pseudo"] for r in rows])
        ratio = f"{speed[variant] / speed['plain']:.2f}" if "plain" in speed else ""
        print(
            f"{variant:22} {rows[0]['passes']:>6} "
            f"{sup.mean():>8.2f} +-{sup.std():4.2f} "
            f"{acc.mean():>10.2f} +-{acc.std():4.2f} "
            f"{np.mean([r['wall'] for r in rows]):>8.1f} {speed[variant]:>9.0f} "
            f"{ratio:>8}"
        )
    return {v: speed[v] / speed["plain"] for v in variants} if "plain" in speed else {}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_options(
        parser, quick_help="CPU protocol, < 15 min on 2 cores", seeds=(0,)
    )
    parser.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--epochs", type=int, help="pseudo-labeling passes")
    parser.add_argument("--variants", nargs="+", metavar="NAME")
    parser.add_argument("--compare-passes", type=int, metavar="N")
    parser.add_argument("--T1", type=int, metavar="N", help="warm-up epochs")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--curve", action="store_true", help="test accuracy per epoch")
    args = parser.parse_args(argv)
    if args.quick and args.smoke:
        parser.error("--quick and --smoke exclude each other")

    name = "quick" if args.quick else "smoke" if args.smoke else "full"
    protocol = dict(PROTOCOLS[name])
    if args.epochs is not None:
        protocol["epochs"] = args.epochs
    if args.T1 is not None:
        protocol["T2"] += args.T1 - protocol["T1"]
        protocol["T1"] = args.T1
    compare = args.compare_passes or protocol["compare_passes"] or protocol["epochs"]
    compare = min(compare, protocol["epochs"])
    torch.set_num_threads(args.threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    cuda = torch.device(device).type == "cuda"
    variants = args.variants or (["graphs"] if cuda else []) + ["eager", "plain"]
    for variant in variants:
        parse_variant(variant)
    if not cuda and any(v.startswith("graphs") for v in variants):
        parser.error("the graphs variants need a CUDA device")
    log = Log()
    log(f"protocol {name}: {protocol}; device {device}; threads {args.threads}")

    runs = {v: [] for v in variants}
    for seed in args.seeds:
        log(f"seed {seed}: loading MNIST")
        data = load_data(protocol, seed, args.smoke)
        for i, variant in enumerate(variants):
            passes = protocol["epochs"] if i == 0 else compare
            if variant == "plain":
                result = run_plain(protocol, data, seed, device, passes, log)
            else:
                curve = args.curve and i == 0
                result = run_ours(
                    protocol, data, seed, device, variant, passes, log, curve
                )
            shown = {k: v for k, v in result.items() if k != "test_accuracy_per_epoch"}
            log(f"seed {seed} {variant}: {shown}")
            runs[variant].append(result)

    n_labeled = 100 if args.smoke else 1000
    ratios = print_table(name, device, args.seeds, n_labeled, variants, runs)
    gpu = torch.cuda.get_device_name(device) if cuda else None
    path = write_json(
        args.out,
        f"mnist_cnn_{name}",
        dict(
            protocol=name,
            settings=protocol,
            device=device,
            gpu=gpu,
            torch=torch.__version__,
            threads=args.threads,
            seeds=args.seeds,
            runs=runs,
            images_per_s_vs_plain=ratios,
            published=PUBLISHED,
        ),
    )
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
