"""Lee (2013) online pseudo-labeling on MNIST with 1000 labels, ours vs a plain loop.

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
    pseudo-labels kept only above probability 0.9; 12 passes. The plain loop
    runs only T1 + 2 passes there, to measure its throughput.
--smoke
    A few seconds on 3,000 training and 1,000 test images, to prove the
    script runs (accuracy meaningless).

The plain loop is the published one: DataLoaders over TensorDatasets, labels
predicted by a separate eval-mode forward pass per batch, then a train-mode
pass. "images/s" is unlabeled images per second in the pseudo-labeling phase.

Run: python benchmarks/mnist_cnn.py [--quick | --smoke] [--seeds 0 1 2]
"""

import argparse
import json
import os
import time

import numpy as np
import torch
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
        threshold=None, standardize=False, plain_epochs=None,
    ),
    "quick": dict(
        T1=30, T2=45, alpha_f=3.0, epochs=12, lr=0.01, momentum=0.9,
        threshold=0.9, standardize=True, plain_epochs=2,
    ),
    "smoke": dict(
        T1=3, T2=5, alpha_f=3.0, epochs=2, lr=0.1, momentum=0.0,
        threshold=None, standardize=False, plain_epochs=1,
    ),
}  # fmt: skip


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


def run_ours(protocol, data, seed, device, amp, compile_, curve=False):
    X, y_semi, X_test, y_test = data
    params = dict(
        module=ReferenceCNN,
        lr=protocol["lr"],
        optimizer_params={"momentum": protocol["momentum"]},
        max_epochs=protocol["epochs"],
        T1=protocol["T1"],
        T2=protocol["T2"],
        alpha_f=protocol["alpha_f"],
        threshold=protocol["threshold"],
        device=device,
        amp=amp,
        compile=compile_,
        random_state=seed,
    )
    # The warm-up alone (max_epochs=0) gives the supervised baseline; with the
    # same seed it is exactly the first T1 epochs of the full fit below on CPU.
    # It also pays for starting CUDA, so the timed fit below does not.
    start = time.perf_counter()
    warm = OnlinePseudoLabelClassifier(**{**params, "max_epochs": 0}).fit(X, y_semi)
    warmup_time = time.perf_counter() - start
    baseline = warm.score(X_test, y_test)
    print(
        f"  ours: supervised warm-up {baseline:.2%} in {warmup_time:.1f}s", flush=True
    )
    start = time.perf_counter()
    clf = OnlinePseudoLabelClassifier(**params, verbose=1)
    # --curve records test accuracy after every epoch, for the plot only: no
    # setting is chosen from it. It adds one 10,000-image eval pass per epoch
    # to the wall time.
    clf.fit(X, y_semi, eval_set=(X_test, y_test) if curve else None)
    wall = time.perf_counter() - start
    accuracy = clf.score(X_test, y_test)
    n_unlabeled = int(np.sum(y_semi == -1))
    # Training time of the pseudo-label passes, as the estimator timed them
    # (evaluation on the --curve test set excluded).
    pseudo_time = sum(h["time"] for h in clf.history_ if h["phase"] == "pseudo")
    result = dict(
        supervised=baseline,
        pseudo=accuracy,
        wall=wall,
        images_per_s=n_unlabeled * protocol["epochs"] / max(pseudo_time, 1e-9),
    )
    if curve:
        result["test_accuracy_per_epoch"] = [h["val_accuracy"] for h in clf.history_]
    return result


def run_plain(protocol, data, seed, device, epochs):
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
    print(f"  plain: supervised {baseline:.2%} in {warmup_time:.1f}s", flush=True)
    step = protocol["T1"]
    start_pseudo = clock()
    for epoch in range(epochs):
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
        print(f"  plain: pass {epoch + 1}/{epochs} t={step}", flush=True)
    pseudo_time = clock() - start_pseudo
    return dict(
        supervised=baseline,
        pseudo=evaluate(),
        wall=clock() - start,
        images_per_s=int((~labeled).sum()) * epochs / max(pseudo_time, 1e-9),
    )


def summarize(runs, key):
    values = np.array([r[key] for r in runs], dtype=float)
    return values.mean(), values.std()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="CPU protocol, < 15 min")
    mode.add_argument("--smoke", action="store_true", help="tiny run for CI")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, help="pseudo-labeling passes")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--amp", action="store_true", help="bfloat16 on CUDA")
    parser.add_argument("--compile", action="store_true", help="torch.compile on CUDA")
    parser.add_argument(
        "--plain",
        choices=["auto", "full", "none"],
        default="auto",
        help="plain loop: the whole protocol (full), none, or the protocol's "
        "default (throughput-only passes in --quick and --smoke)",
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--json", help="write the results to this path")
    parser.add_argument(
        "--curve",
        action="store_true",
        help="record test accuracy after every epoch (printed, and kept in --json)",
    )
    args = parser.parse_args()

    name = "quick" if args.quick else "smoke" if args.smoke else "full"
    protocol = dict(PROTOCOLS[name])
    if args.epochs is not None:
        protocol["epochs"] = args.epochs
    plain_epochs = protocol["epochs"]
    if args.plain == "auto" and protocol["plain_epochs"] is not None:
        plain_epochs = min(protocol["plain_epochs"], protocol["epochs"])
    torch.set_num_threads(args.threads)
    device = (
        "cuda"
        if args.device == "auto" and torch.cuda.is_available()
        else ("cpu" if args.device == "auto" else args.device)
    )
    print(f"protocol {name}: {protocol}; device {device}; threads {args.threads}")

    ours, plain = [], []
    for seed in args.seeds:
        print(f"seed {seed}: loading MNIST", flush=True)
        data = load_data(protocol, seed, args.smoke)
        ours.append(
            run_ours(protocol, data, seed, device, args.amp, args.compile, args.curve)
        )
        shown = {k: v for k, v in ours[-1].items() if k != "test_accuracy_per_epoch"}
        print(f"  ours: {shown}", flush=True)
        if args.plain != "none":
            plain.append(run_plain(protocol, data, seed, device, plain_epochs))
            print(f"  plain: {plain[-1]}", flush=True)

    rows = [("ours (OnlinePseudoLabelClassifier)", ours, protocol["epochs"])]
    if plain:
        rows.append(("plain PyTorch loop (published)", plain, plain_epochs))
    print()
    n_labeled = 100 if args.smoke else 1000
    print(
        f"MNIST, {n_labeled} labels, protocol {name}, device {device}, "
        f"seeds {args.seeds}"
    )
    header = (
        f"{'method':36} {'passes':>6} {'supervised %':>14} {'pseudo-label %':>16} "
        f"{'wall s':>8} {'images/s':>9} {'ours/plain':>10}"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{'published (Lee 2013 loop)':36} {150:>6} {PUBLISHED['supervised']:>14.2f} "
        f"{PUBLISHED['pseudo']:>16.2f} {'':>8} {'':>9} {'':>10}"
    )
    ratio = None
    if plain:
        ratio = summarize(ours, "images_per_s")[0] / summarize(plain, "images_per_s")[0]
    for label, runs, passes in rows:
        sup, sup_sd = summarize(runs, "supervised")
        acc, acc_sd = summarize(runs, "pseudo")
        wall = summarize(runs, "wall")[0]
        speed = summarize(runs, "images_per_s")[0]
        shown = f"{ratio:.2f}" if ratio is not None and runs is ours else ""
        print(
            f"{label:36} {passes:>6} {100 * sup:>8.2f} +-{100 * sup_sd:4.2f} "
            f"{100 * acc:>10.2f} +-{100 * acc_sd:4.2f} {wall:>8.1f} {speed:>9.0f} "
            f"{shown:>10}"
        )
    if plain and (args.amp or args.compile):
        print("ours ran with --amp/--compile; the plain loop in float32, eager.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                dict(
                    protocol=name,
                    settings=protocol,
                    device=device,
                    seeds=args.seeds,
                    ours=ours,
                    plain=plain,
                    plain_passes=plain_epochs,
                    ratio_images_per_s=ratio,
                    published=PUBLISHED,
                ),
                f,
                indent=2,
                default=float,
            )


if __name__ == "__main__":
    main()
