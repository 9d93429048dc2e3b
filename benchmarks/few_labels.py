"""Few labels: accuracy with k labelled series per class, tszoo's arms beside the peers, on the 41 targets.

    python -m benchmarks.few_labels --out bench_out/few_labels [--ks 1,2,5,10] [--draws 5] [--arms ...]

For each dataset, each k and each draw, k series per class are drawn from the official training split (all of a
class's series where it has fewer than k); the draw is a pure function of ``(dataset, k, draw)`` and recorded with
its indices' hash. Every arm is fitted on those series only and scored on the whole test split:

* ``tnc``: ``TimeNetClassifier()`` as users get it (its default features, ``pooling`` and ``inputs``, and
  ``layers``; the SVM, and with ``layers="auto"`` the layers, chosen by cross-validation where the labels allow,
  else all layers and the grid's middle);
* ``ctn_frozen``: the frozen ConvTimeNet body (its published statistics) and a linear classifier (the
  multinomial logistic regression of ``tszoo.finetuning.probe_head``) on its embeddings; the same predictions as
  ``ConvTimeNetClassifier(finetune="head", batchnorm="frozen", inputs="series")``, computed from embeddings made
  once per dataset;
* ``ctn_adapted``: the same with batch-norm statistics adapted to the k-shot series
  (``ConvTimeNetClassifier(finetune="head")``);
* ``ctn_finetuned``: ``ConvTimeNetClassifier(finetune="full")``, the whole network fine-tuned;
* ``ctn_finetuned_frozenbn``: the same with the batch-norm layers in inference mode on their pretrained
  statistics (``batchnorm="frozen"``): with 2-10 series a batch, batch statistics are noisy;
* ``ctn_default``: ``ConvTimeNetClassifier()`` with its defaults, which are one of the above (today
  ``ctn_finetuned``: the row is copied from that arm's, seed for seed, and says so);
* ``scratch``: the same architecture and recipe from random weights (``pretrained=False``);
* ``minirocket``: aeon's ``MiniRocketClassifier`` (defaults);
* ``combo_frozen_minirocket``: a combination, not ConvTimeNet alone: the frozen embeddings (as ``ctn_frozen``)
  beside MiniRocket's features, each block scaled as MiniRocket scales its own, and MiniRocket's ridge on both.
  On training splits (41 targets, k = 1 and 5, one draw) it was below MiniRocket alone (0.512 / 0.720 against
  0.545 / 0.729): the frozen embeddings add nothing MiniRocket's ridge can use;
* ``dtw``: aeon's 1-nearest-neighbour classifier under DTW with a full warping window (the usual 1-NN DTW; a
  window cannot be learned from one series per class). Scoring on the test split, the nearest drawn series of
  every test series is found for all draws of a dataset at once (``benchmarks.nearest_dtw``: aeon's distance,
  each pair computed at most once and abandoned as soon as it cannot be the nearest): the same predictions as
  fitting the classifier per draw (tested), the time all on the dataset's first DTW row.

An arm ``NAME@PARAM=VALUE[@PARAM=VALUE...]`` is one of the ``ConvTimeNetClassifier`` arms (``ctn_adapted``,
``ctn_finetuned``, ``ctn_finetuned_frozenbn``, ``scratch``) with some of the estimator's settings changed, e.g.
``ctn_finetuned@max_steps=100`` or ``ctn_finetuned@epochs=20@max_steps=100``: how a recipe is compared
(with ``--score-on rest``, on training splits only) before it becomes a default.

``--score-on rest`` scores on the training split's series that were not drawn (a stratified sample of at most
``--score-cap``) instead of the test split: how ``ConvTimeNetClassifier``'s default was chosen, without a test
split (``benchmarks/results/few_labels_selection.md``).

``--workers 2`` runs two processes of one thread each: on a 2-core CPU that is faster than one process with two
threads, because much of a small fine-tuning is single-threaded Python. A worker that finishes a dataset takes
the next one nobody has taken (cheapest first), so both stay busy to the end (until 2026-12-06 each had every
other dataset fixed in advance, and one could sit idle for the other's last datasets: replayed on the committed
rows' times, 21,094 s against 19,610 for the same work shared as it comes).

``--reuse-rows FOLDER`` (a rerun for another published version) copies from FOLDER the rows that do not depend
on the ConvTimeNet weights being compared: ``minirocket`` and ``dtw`` always, ``scratch`` when both ConvTimeNet
versions have the same architecture (the same builder arguments) and both runs the same
``ConvTimeNetClassifier`` defaults (from random weights with the same seed and recipe, they are the same fit),
and ``tnc`` when both runs used the same TimeNet version and the same ``TimeNetClassifier`` defaults.

Every row of a ``ConvTimeNetClassifier`` arm records the estimator's defaults it ran with (``recipe``; rows made
before 2026-11-24 did not, and ran with ``LEGACY_RECIPE``): a folder holding rows made with other defaults is
refused (``--report-only`` still remakes its report), so an arm's name means one thing in a folder. So is a
folder holding ``tnc`` rows of other ``TimeNetClassifier`` defaults (``tnc_pooling``, ``tnc_inputs``,
``tnc_layers``; rows made before 2026-11-25 say nothing and used ``"last"`` of the series, layers ``"auto"``; rows
made before 2026-12-07 name only the pooling and used the series, layers ``"auto"``).
A copied row says where it came from and is not counted in this run's wall-clock time.

``--save-scores`` keeps, per row of a ``ConvTimeNetClassifier`` arm or ``minirocket``, the scores of every scored
series (probabilities; MiniRocket's ridge decision values) in ``<out>/scores/``: what
``benchmarks.few_labels_combination`` combines.

A row is a function of its data, settings and seed on a given thread count: with ``--workers 1`` TensorFlow
adds in another order than the workers' one thread does, and 23 of 82 fine-tuned rows (training splits, k = 1
and 5) moved by 0.5-4 points, the means by 0.1-0.2 (each direction).

Resumable (``<out>/rows.jsonl``, one row per dataset, k, draw and arm). Writes ``few_labels.md``, ``.csv`` and
``few_labels.png`` (mean accuracy against k, one line per arm) in ``--out``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
import warnings
import zlib
from pathlib import Path

import numpy as np

from benchmarks.common import Rows, machines, machines_lines, reference_table, write_report

ARMS = ("tnc", "ctn_frozen", "ctn_adapted", "ctn_finetuned", "ctn_finetuned_frozenbn", "ctn_default", "scratch",
        "minirocket", "dtw", "combo_frozen_minirocket")  # combo_*: with a peer, never in TSZOO_ARMS
DEFAULT_ARMS = ("tnc", "ctn_frozen", "ctn_finetuned", "ctn_default", "scratch", "minirocket", "dtw")
TSZOO_ARMS = ("tnc", "ctn_frozen", "ctn_adapted", "ctn_finetuned", "ctn_finetuned_frozenbn", "ctn_default")
WEIGHT_FREE_ARMS = ("minirocket", "dtw")  # scratch too, when the architectures and recipes match (reuse_rows)
RECIPE_ARMS = ("ctn_adapted", "ctn_finetuned", "ctn_finetuned_frozenbn", "ctn_default", "scratch")
RECIPE_KEYS = ("finetune", "epochs", "max_steps", "batch_size", "learning_rate", "warmup", "head_init", "batchnorm",
               "head_dropout", "augment", "validation_fraction", "n_estimators", "precision", "l2sp",
               "label_smoothing", "inputs")
# ConvTimeNetClassifier's defaults when rows did not yet record them (every run before 2026-11-24, v1 and v2)
LEGACY_RECIPE = dict(finetune="full", epochs=40, max_steps=250, batch_size=None, learning_rate=None, warmup=0.1,
                     head_init="auto", batchnorm="adapt", head_dropout=0.1, augment=None, validation_fraction=None,
                     n_estimators=1)
ESTIMATOR_ARMS = {"ctn_adapted": dict(finetune="head"), "ctn_finetuned": dict(finetune="full"),
                  "ctn_finetuned_frozenbn": dict(finetune="full", batchnorm="frozen"),
                  "scratch": dict(pretrained=False, finetune="full")}


def default_recipe() -> dict:
    """``ConvTimeNetClassifier``'s default settings that shape a fit: what an arm without ``@`` settings runs."""
    from tszoo.estimators import ConvTimeNetClassifier

    params = ConvTimeNetClassifier().get_params()
    return {k: params[k] for k in RECIPE_KEYS}


def recipe_of(row) -> dict:
    # rows made before the estimator had ``precision`` (2026-12-06) were float32; before ``l2sp`` and
    # ``label_smoothing`` (2026-12-07), 0.0; before ``inputs`` (2026-12-07), on the series alone
    return {"precision": "float32", "l2sp": 0.0, "label_smoothing": 0.0, "inputs": "series",
            **(row.get("recipe") or LEGACY_RECIPE)}


def recipe_matches(row, recipe: dict) -> bool:
    """Was ``row`` made with ``recipe``'s defaults, or with defaults that fit its data the same way? A step cap is
    compared as the cap it gives the row's training set (:func:`tszoo.finetuning.step_cap`): rows made with
    ``max_steps=250`` on fewer than 1,000 series are the fits of today's ``"auto"`` (every few-labels row)."""
    from tszoo.finetuning import step_cap

    theirs, n = recipe_of(row), row.get("n_train")
    if n is None or "max_steps" not in recipe:
        return theirs == recipe
    return ({**theirs, "max_steps": step_cap(theirs["max_steps"], n)}
            == {**recipe, "max_steps": step_cap(recipe["max_steps"], n)})


def parse_arm(arm: str) -> tuple[str, dict]:
    """``"ctn_finetuned@max_steps=100@epochs=20"`` -> ``("ctn_finetuned", {"max_steps": 100, "epochs": 20})``;
    a clear error for an unknown arm, a variant of an arm that is not a ``ConvTimeNetClassifier``, or a setting
    the estimator does not have."""
    from tszoo.estimators import ConvTimeNetClassifier

    base, *pairs = arm.split("@")
    if base not in ARMS:
        raise ValueError(f"unknown arm {base!r} in {arm!r}; expected one of {list(ARMS)}")
    if pairs and base not in ESTIMATOR_ARMS:
        raise ValueError(f"arm {arm!r}: only {sorted(ESTIMATOR_ARMS)} take settings (NAME@PARAM=VALUE)")
    known = ConvTimeNetClassifier().get_params()
    settings = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or key not in known or key in ("model", "random_state"):
            raise ValueError(f"arm {arm!r}: {pair!r} is not PARAM=VALUE with PARAM a ConvTimeNetClassifier "
                             f"setting other than model and random_state (one of {sorted(known)})")
        for cast in (int, float):
            try:
                value = cast(text)
                break
            except ValueError:
                continue
        else:
            value = {"None": None, "True": True, "False": False}.get(text, text)
        settings[key] = value
    if "precision" in settings:  # rows record what ran: "auto" as the precision it means on this machine
        from tszoo.precision import resolve_precision

        settings["precision"] = resolve_precision(settings["precision"])
    return base, settings


def draw(y: np.ndarray, k: int, name: str, index: int) -> np.ndarray:
    """Indices of k series per class (all of a smaller class), a pure function of ``(name, k, index)``."""
    rng = np.random.default_rng([zlib.crc32(name.encode()), k, index])
    picked = [rng.permutation(np.flatnonzero(y == c))[:k] for c in np.unique(y)]
    return np.sort(np.concatenate(picked))


def scored_split(name, archive, score_on, cap, y_train, taken):
    """What an arm is scored on: the test split, or the undrawn training series (``--score-on rest``)."""
    from tszoo.datasets import load_ucr

    if score_on == "test":
        return load_ucr(name, "test", root=archive)
    X, _ = load_ucr(name, "train", root=archive)
    rest = np.setdiff1d(np.arange(len(y_train)), taken)
    if len(rest) > cap:
        from sklearn.model_selection import train_test_split

        try:
            rest, _ = train_test_split(rest, train_size=cap, stratify=y_train[rest], random_state=0)
        except ValueError:  # a class too small to stratify
            rest = np.random.default_rng(0).choice(rest, cap, replace=False)
    return X[np.sort(rest)], y_train[np.sort(rest)]


def scorable(names, archive, ks, draws, say=True) -> list:
    """With ``--score-on rest``: the datasets where every draw leaves some training series undrawn to score on
    (where a class has at most k series, a draw takes all of it). The others are skipped, saying so once."""
    from tszoo.datasets import load_ucr

    kept = []
    for name in names:
        y = load_ucr(name, "train", root=archive)[1]
        full = [k for k in ks if any(len(draw(y, k, name, i)) == len(y) for i in range(draws))]
        if full and say:
            print(f"{name}: skipped with --score-on rest: at k = {full[0]} a draw takes all {len(y)} training "
                  "series and leaves none to score on", flush=True)
        elif not full:
            kept.append(name)
    return kept


def _collection(X: np.ndarray):
    """aeon's input: a 3-D array where no series is NaN-padded, else a list of ``(1, length)`` arrays without
    their padding."""
    if not np.isnan(X).any():
        return X[:, None, :].astype(np.float64)
    return [row[~np.isnan(row)][None, :].astype(np.float64) for row in X]


class Dataset:
    """One dataset's training split, and embeddings made once and shared by every draw (test-split mode)."""

    def __init__(self, name, archive, args):
        from tszoo.datasets import load_ucr

        self.name, self.archive, self.args = name, archive, args
        self.X, self.y = load_ucr(name, "train", root=archive)
        self._cache = {}

    def evaluation(self, taken):
        if self.args.score_on == "test":
            if "test" not in self._cache:
                self._cache["test"] = scored_split(self.name, self.archive, "test", None, self.y, taken)
            return self._cache["test"]
        return scored_split(self.name, self.archive, "rest", self.args.score_cap, self.y, taken)

    def dtw_nearest(self, n_jobs):
        """Test-split mode: for every draw of this run, the nearest drawn series of each test series under DTW
        (aeon's, full window), found for all draws at once (:func:`benchmarks.nearest_dtw.nearest`: the draws of one
        dataset overlap, k = 10 takes most of a small class, so a pair's distance serves every draw that takes it,
        and a pair stops as soon as it cannot be the nearest). Returns ``{(k, index): positions in that draw}``.
        Series that ``nearest`` does not take (NaN padding, several lengths) get aeon's distances from every test
        series to every drawn one instead: the same answers, with more work."""
        if "dtw" not in self._cache:
            from benchmarks.nearest_dtw import nearest

            keys = [(int(k), i) for k in self.args.ks.split(",") for i in range(self.args.draws)]
            draws = [draw(self.y, k, self.name, i) for k, i in keys]
            Xe, _ = self.evaluation(None)
            try:
                found = nearest(Xe, self.X, draws, n_jobs=n_jobs)
            except ValueError:
                from aeon.distances import dtw_pairwise_distance

                union = np.unique(np.concatenate(draws))
                distances = dtw_pairwise_distance(_collection(Xe), _collection(self.X[union]), n_jobs=n_jobs)
                found = [np.argmin(distances[:, np.searchsorted(union, d)], axis=1) for d in draws]
            self._cache["dtw"] = dict(zip(keys, found))
        return self._cache["dtw"]

    def frozen_embeddings(self, args, taken, Xe):
        """The frozen ConvTimeNet embeddings of the drawn series and of the scored ones."""
        key = "eval" if args.score_on == "test" else tuple(taken)
        return (self.embeddings("convtimenet", args.convtimenet, self.X, "train")[taken],
                self.embeddings("convtimenet", args.convtimenet, Xe, key))

    def embeddings(self, which, model, X, key):
        """Embeddings of ``X`` by a frozen model, cached by ``key`` (train: all of it, once); TimeNet's are the
        features ``TimeNetClassifier()`` uses (its ``pooling`` and ``inputs``)."""
        from tszoo.estimators import TimeNetClassifier, _timenet_network
        from tszoo.inference import embed, load_cached

        cache_key = (which, key)
        if cache_key not in self._cache:
            users = TimeNetClassifier()
            network = (_timenet_network(model, None, users.pooling, users.inputs) if which == "timenet"
                       else load_cached(model))
            self._cache[cache_key] = embed(network, X)
        return self._cache[cache_key]


def tnc_defaults() -> dict:
    """``TimeNetClassifier()``'s defaults that shape the ``tnc`` arm, as its rows record them."""
    from tszoo.estimators import TimeNetClassifier

    users = TimeNetClassifier()
    return {"tnc_pooling": users.pooling, "tnc_inputs": users.inputs,
            "tnc_layers": "auto" if users.layers == "auto" else "all"}


def tnc_defaults_of(row) -> dict:
    """What a ``tnc`` row was made with; rows made before a setting was recorded used what was then the default."""
    return {"tnc_pooling": row.get("tnc_pooling", "last"), "tnc_inputs": row.get("tnc_inputs", "series"),
            "tnc_layers": row.get("tnc_layers", "auto")}


def default_arm() -> str:
    """The arm that ``ConvTimeNetClassifier()`` with its defaults is."""
    from tszoo.estimators import ConvTimeNetClassifier

    clf = ConvTimeNetClassifier()
    if clf.finetune == "full":
        return "ctn_finetuned" if clf.batchnorm == "adapt" else "ctn_finetuned_frozenbn"
    return "ctn_adapted" if clf.batchnorm == "adapt" else "ctn_frozen"


def frozen_minirocket(E, Ee, X, Xe, y, seed):
    """A combination, not ConvTimeNet alone: the frozen embeddings beside MiniRocket's features, each block scaled as
    aeon's MiniRocketClassifier scales its features (``StandardScaler(with_mean=False)``), the embedding block then
    weighted so that both blocks carry the same number of unit-variance features' worth of scale, and aeon's ridge
    (``RidgeClassifierCV``, alphas 1e-3..1e3) on the concatenation."""
    from aeon.transformations.collection.convolution_based import MiniRocket
    from sklearn.linear_model import RidgeClassifierCV
    from sklearn.preprocessing import StandardScaler

    rocket = MiniRocket(random_state=seed).fit(X[:, None, :].astype(np.float64))
    F, Fe = (rocket.transform(A[:, None, :].astype(np.float64)) for A in (X, Xe))
    blocks = []
    for train, scored in ((F, Fe), (E, Ee)):
        scaler = StandardScaler(with_mean=False).fit(train)
        blocks.append((scaler.transform(train), scaler.transform(scored)))
    weight = np.sqrt(F.shape[1] / E.shape[1])
    Z = np.concatenate([blocks[0][0], weight * blocks[1][0]], axis=1)
    Ze = np.concatenate([blocks[0][1], weight * blocks[1][1]], axis=1)
    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)).fit(Z, y)
    return ridge.predict(Ze)


def run_arm(arm, data: Dataset, k, index, args) -> dict:
    from tszoo.estimators import ConvTimeNetClassifier, TimeNetClassifier
    from tszoo.finetuning import probe_head

    base, settings = parse_arm(arm)
    taken = draw(data.y, k, data.name, index)
    X, y = data.X[taken], data.y[taken]
    Xe, ye = data.evaluation(taken)
    began = time.time()
    note = scores = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if base == "tnc":
            E = data.embeddings("timenet", args.timenet, data.X, "train")[taken]
            Ee = data.embeddings("timenet", args.timenet, Xe, "eval" if args.score_on == "test" else tuple(taken))
            clf = TimeNetClassifier(model=args.timenet, probability=False, random_state=index).fit_embeddings(E, y)
            predicted = clf.predict_embeddings(Ee)
            note = f"layers {clf.layers_ or 'all'}, C {clf.best_params_['C']:g}, gamma {clf.best_params_['gamma']:.2g}"
        elif base == "ctn_frozen":
            E, Ee = data.frozen_embeddings(args, taken, Xe)
            classes, codes = np.unique(y, return_inverse=True)
            kernel, bias = probe_head(E, codes, len(classes), index)
            predicted = classes[np.argmax(Ee @ kernel + bias, axis=1)]
        elif base in ESTIMATOR_ARMS:
            kw = {**ESTIMATOR_ARMS[base], **settings}
            clf = ConvTimeNetClassifier(model=args.convtimenet, random_state=index, **kw).fit(X, y)
            scores = clf.predict_proba(Xe)
            predicted = clf.classes_[np.argmax(scores, axis=1)]
        elif base == "combo_frozen_minirocket":
            predicted = frozen_minirocket(*data.frozen_embeddings(args, taken, Xe), X, Xe, y, index)
        elif base == "minirocket":
            from aeon.classification.convolution_based import MiniRocketClassifier

            clf = MiniRocketClassifier(random_state=index).fit(X[:, None, :].astype(np.float64), y)
            if args.save_scores:  # the ridge's decision values (one column per class; one for two classes)
                scores = clf.pipeline_.decision_function(Xe[:, None, :].astype(np.float64))
                predicted = clf.classes_[scores.argmax(axis=1) if scores.ndim == 2 else (scores > 0).astype(int)]
            else:
                predicted = clf.predict(Xe[:, None, :].astype(np.float64))
        elif base == "dtw" and args.score_on == "test":
            # aeon's 1-NN under DTW, found for every draw of the dataset at once (the first draw's row carries the
            # time): the nearest drawn series, the first one on a tie, as aeon's KNeighborsTimeSeriesClassifier
            predicted = y[data.dtw_nearest(1 if args.shard else -1)[(k, index)]]
        elif base == "dtw":
            from aeon.classification.distance_based import KNeighborsTimeSeriesClassifier

            clf = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance="dtw", n_jobs=1 if args.shard else -1)
            predicted = clf.fit(X[:, None, :].astype(np.float64), y).predict(Xe[:, None, :].astype(np.float64))
        else:
            raise ValueError(f"arm {arm!r}; expected one of {ARMS}")
    said = sorted({str(c.message).split(";")[0][:160] for c in caught if issubclass(c.category, UserWarning)})
    seconds = round(time.time() - began, 2)
    if args.save_scores and scores is not None:
        folder = Path(args.out) / "scores"
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(folder / f"{data.name}_k{k}_d{index}_{arm}.npz", scores=np.asarray(scores, np.float32),
                            classes=np.unique(y), truth=ye, taken=taken)
    return {"accuracy": float(np.mean(predicted == ye)), "seconds": seconds,
            "n_train": int(len(taken)), "n_scored": int(len(ye)), "note": note, "warnings": said,
            "draw_hash": hashlib.sha256(taken.tobytes()).hexdigest()[:12]}


def summarise(rows, names, arms, ks, draws, reference, score_on="test"):
    by = {(r["dataset"], r["k"], r["draw"], r["arm"]): r for r in rows}
    done = [n for n in names if all((n, k, d, a) in by for k in ks for d in range(draws) for a in arms)]
    if not done:
        return "no dataset has finished every arm, k and draw yet", [], {}
    acc = {(n, k, a): float(np.mean([by[(n, k, d, a)]["accuracy"] for d in range(draws)]))
           for n in done for k in ks for a in arms}
    mean = {(k, a): float(np.mean([acc[(n, k, a)] for n in done])) for k in ks for a in arms}
    # a folder may hold rows of other k, draws or arms (earlier runs'): times count only this table's rows
    rows = [r for r in rows if r["arm"] in arms and r["dataset"] in done and r["k"] in ks and r["draw"] < draws]
    seconds = {a: float(sum(r["seconds"] for r in rows if r["arm"] == a and not r.get("same_as"))) for a in arms}
    lines = [f"Mean accuracy over {len(done)} of {len(names)} datasets, each the mean of {draws} draws of k "
             "labelled series per class (scored on " + ("the whole test split" if score_on == "test" else
                                                         "undrawn series of the training split; no test split read")
             + ").", "",
             "| arm | " + " | ".join(f"k={k}" for k in ks) + " | seconds (all k, draws, datasets) |",
             "|---|" + "---|" * (len(ks) + 1)]
    for a in arms:
        lines.append(f"| {a} | " + " | ".join(f"{mean[(k, a)]:.4f}" for k in ks) + f" | {seconds[a]:.0f} |")
    summary = {"datasets_done": len(done), "datasets_total": len(names), "draws": draws, "ks": ks,
               "mean_accuracy": {a: {str(k): mean[(k, a)] for k in ks} for a in arms}, "seconds": seconds,
               "total_seconds": float(sum(seconds.values())), "missing": [n for n in names if n not in done],
               **wall_clock(rows), "machines": machines(rows)}
    if summary["invocations"]:
        lines += ["", f"Wall-clock time of the run: {summary['wall_clock_seconds']:.0f} s over "
                  f"{summary['invocations']} invocation(s) (first start to last finish of each; the seconds column "
                  "sums every fit's own time over all workers)."
                  + (f" {summary['rows_reused']} rows of weight-independent arms were copied from an earlier run "
                     "(`--reuse-rows`); their time is not in this figure." if summary["rows_reused"] else "")]
    ours = [a for a in arms if a.split("@")[0] in TSZOO_ARMS]
    if ours and "minirocket" in arms and 5 in ks:
        best = {n: max(acc[(n, 5, a)] for a in ours) for n in done}
        best_arm_mean = max(ours, key=lambda a: mean[(5, a)])
        wins = sum(acc[(n, 5, best_arm_mean)] >= acc[(n, 5, "minirocket")] + 1e-12 for n in done)
        summary["k5"] = {"best_tszoo_arm": best_arm_mean, "its_mean": mean[(5, best_arm_mean)],
                         "minirocket_mean": mean[(5, "minirocket")],
                         "margin_points": 100 * (mean[(5, best_arm_mean)] - mean[(5, "minirocket")]),
                         "datasets_where_it_beats_minirocket_by_5_points": int(sum(
                             acc[(n, 5, best_arm_mean)] >= acc[(n, 5, "minirocket")] + 0.05 for n in done)),
                         "datasets_where_it_is_at_least_as_good": int(wins),
                         "per_dataset_best_of_tszoo_mean": float(np.mean(list(best.values())))}
        if "ctn_default" in arms:
            summary["k5"]["ctn_default_mean"] = mean[(5, "ctn_default")]
    if ours and "dtw" in arms and 1 in ks:
        best_k1 = max(ours, key=lambda a: mean[(1, a)])
        summary["k1"] = {"best_tszoo_arm": best_k1, "its_mean": mean[(1, best_k1)], "dtw_mean": mean[(1, "dtw")]}
    if "k5" in summary:
        s = summary["k5"]
        lines += ["", f"k = 5: the best tszoo arm on the mean is {s['best_tszoo_arm']} ({s['its_mean']:.4f}); "
                  f"MiniRocket {s['minirocket_mean']:.4f} ({s['margin_points']:+.1f} points); it is ahead of "
                  f"MiniRocket by 5 points or more on {s['datasets_where_it_beats_minirocket_by_5_points']} of "
                  f"{len(done)} datasets and at least as good on {s['datasets_where_it_is_at_least_as_good']}."
                  + (f" ConvTimeNetClassifier() with its defaults: {s['ctn_default_mean']:.4f}."
                     if "ctn_default_mean" in s else "")]
    if "k1" in summary:
        s = summary["k1"]
        lines.append(f"k = 1: best tszoo arm {s['best_tszoo_arm']} {s['its_mean']:.4f}; 1-NN DTW "
                     f"{s['dtw_mean']:.4f}.")
    variants = [a for a in arms if "@" in a and a.split("@")[0] in arms]
    if variants:
        from benchmarks.common import paired

        summary["variants_against_their_arm"] = {}
        lines += ["", "Each variant against its arm without settings, paired by dataset (mean of the draws), in "
                  "accuracy points (standard error; ahead / tied / behind):", ""]
        for a in variants:
            base = a.split("@")[0]
            found = {str(k): paired([acc[(n, k, a)] for n in done], [acc[(n, k, base)] for n in done]) for k in ks}
            summary["variants_against_their_arm"][a] = found
            lines.append(f"- {a} against {base}: " + "; ".join(
                f"k = {k} {100 * p['difference']:+.2f}"
                + (f" (se {100 * p['se']:.2f}; {p['ahead']} / {p['ties']} / {p['behind']})" if p["se"] is not None
                   else "") for k, p in found.items()))
    lines += machines_lines(rows)
    table = []
    header = ["dataset", "classes", *[f"{a} k={k}" for k in ks for a in arms]]
    per = ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for n in done:
        row = {"dataset": n, "classes": int(reference[n]["n_classes"]) if n in reference else None,
               **{f"{a}_k{k}": acc[(n, k, a)] for k in ks for a in arms}}
        table.append(row)
        per.append("| " + " | ".join([n, str(row["classes"]), *[f"{acc[(n, k, a)]:.3f}" for k in ks for a in arms]])
                   + " |")
    return "\n".join(lines + per), table, summary


def reuse_rows(rows: Rows, folder: Path, args, names, ks, arms, made) -> int:
    """Copy into ``rows`` the rows of ``folder`` that these weights cannot change (see the module's docstring);
    returns how many were copied."""
    other = Rows(folder, key=("dataset", "k", "draw", "arm"))
    reusable = set(WEIGHT_FREE_ARMS)
    if "scratch" in arms:
        theirs = [(r.get("convtimenet_builder"), recipe_matches(r, made["recipe"])) for r in other.rows
                  if r["arm"] == "scratch"]
        if theirs and all(b == made["convtimenet_builder"] and same for b, same in theirs):
            reusable.add("scratch")
        elif theirs:
            print(f"--reuse-rows: {folder}'s scratch rows were made with another architecture or other default "
                  "fine-tuning settings (or do not say which); not reused")
    copied = 0
    for r in other.rows:
        same_timenet = (r["arm"] == "tnc" and r.get("models", {}).get("timenet") == made["models"]["timenet"]
                        and tnc_defaults_of(r) == tnc_defaults_of(made))
        if ((r["arm"] in reusable or same_timenet) and r["arm"] in arms and r["dataset"] in names and r["k"] in ks
                and r["draw"] < args.draws and r["score_on"] == made["score_on"]
                and not rows.done(dataset=r["dataset"], k=r["k"], draw=r["draw"], arm=r["arm"])):
            kept = {k: v for k, v in r.items() if k not in ("launch", "models", "convtimenet_builder")}
            rows.add({**kept, "models": made["models"], "convtimenet_builder": made["convtimenet_builder"],
                      "reused_from": str(folder), "made_with_models": r["models"]}, stamp=False)
            copied += 1
    return copied


def wall_clock(rows) -> dict:
    """The run's wall-clock seconds: per invocation, its first row's start to its last row's end, summed (a row
    a kill interrupted is not counted: it is redone). ``seconds`` per arm is the sum of the fits' own times,
    over all workers, so with two workers it is about twice the wall-clock time."""
    spans = {}
    for r in rows:
        if "launch" in r:
            first, last = spans.get(r["launch"], (np.inf, -np.inf))
            spans[r["launch"]] = (min(first, r["started_at"]), max(last, r["finished_at"]))
    return {"wall_clock_seconds": round(float(sum(b - a for a, b in spans.values())), 1),
            "invocations": len(spans), "rows_reused": sum("reused_from" in r for r in rows),
            "rows_without_timestamps": sum("launch" not in r and "reused_from" not in r for r in rows)}


def plot(summary, out: Path, stem="few_labels"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = summary["ks"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for arm, by_k in summary["mean_accuracy"].items():
        ax.plot(ks, [by_k[str(k)] for k in ks], marker="o", label=arm)
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("labelled series per class (k)")
    ax.set_ylabel("mean accuracy")
    ax.set_title(f"{summary['datasets_done']} UCR targets, {summary['draws']} draws per k")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / f"{stem}.png", dpi=120)
    plt.close(fig)


def run_datasets(names, ks, arms, args, archive, rows, made, take=None):
    """Every missing row of ``names``, in order; ``take(name)``: whether this process does that dataset (a
    worker's claim), by default all."""
    import gc

    import keras

    from tszoo.estimators import clear_trainers

    for name in names:
        if take is not None and not take(name):
            continue
        # hundreds of fits per process: drop what the previous dataset's models left behind (traced functions)
        clear_trainers()
        keras.backend.clear_session()
        gc.collect()
        data = None
        for k in ks:
            for index in range(args.draws):
                for arm in arms:
                    if rows.done(dataset=name, k=k, draw=index, arm=arm):
                        continue
                    data = data or Dataset(name, archive, args)

                    def made_row(which):
                        started = time.time()
                        return {"dataset": name, "k": k, "draw": index, "arm": which, **made,
                                **run_arm(which, data, k, index, args), "started_at": round(started, 2),
                                "finished_at": round(time.time(), 2)}

                    if arm == "ctn_default":
                        source = default_arm()
                        if not rows.done(dataset=name, k=k, draw=index, arm=source):
                            rows.add(made_row(source))
                        copied = next(r for r in rows.rows if (r["dataset"], r["k"], r["draw"], r["arm"])
                                      == (name, k, index, source))
                        rows.add({**copied, "arm": "ctn_default", "same_as": source})
                        continue
                    row = made_row(arm)
                    rows.add(row)
                    print(f"{name} k={k} draw {index} {arm}: {row['accuracy']:.3f} ({row['seconds']} s)", flush=True)


def claim(out, launch: str, name: str) -> bool:
    """Whether this worker takes dataset ``name``: the first of an invocation's workers to ask gets it (an
    exclusive create of ``<out>/claims/<launch>/<name>``), every later one is told no."""
    folder = Path(out) / "claims" / launch
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(folder / name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def run_workers(argv, workers: int, archive, launch: str, out):
    """Run ``workers`` processes of one thread each, which take the datasets one at a time as they finish the
    previous one (``claim``; cheapest first): much of a small fine-tuning is single-threaded Python (tracing,
    Keras' loop), so two processes use two cores better than one process with two threads. Each appends its rows
    to the shared ``rows.jsonl``. The claims are removed at the end (and an interrupted invocation's at the next
    one's start: each invocation claims under its own name)."""
    import shutil
    import subprocess
    import sys

    shutil.rmtree(Path(out) / "claims", ignore_errors=True)

    env = {**os.environ, "TSZOO_FEW_LABELS_LAUNCH": launch,
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1",
           "NUMBA_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    base = [a for a in (argv if argv is not None else sys.argv[1:])]
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.few_labels", *base, "--archive", str(archive),
                               "--shard", f"{i}/{workers}"], env=env, cwd=Path(__file__).resolve().parent.parent)
             for i in range(workers)]
    codes = [p.wait() for p in procs]
    shutil.rmtree(Path(out) / "claims", ignore_errors=True)
    if any(codes):
        raise SystemExit(f"a worker failed (exit codes {codes}); its finished rows are kept: run again to resume")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timenet", default="timenet", help="published name or version folder")
    parser.add_argument("--convtimenet", default="convtimenet", help="published name or version folder")
    parser.add_argument("--archive", default=None)
    parser.add_argument("--datasets", default=None, help="comma-separated (default: the 41 targets)")
    parser.add_argument("--arms", default=",".join(DEFAULT_ARMS))
    parser.add_argument("--ks", default="1,2,5,10")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--score-on", choices=["test", "rest"], default="test")
    parser.add_argument("--score-cap", type=int, default=500, help="with --score-on rest: series scored at most")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="processes, one thread each (2 on a 2-core CPU)")
    parser.add_argument("--shard", default=None, help=argparse.SUPPRESS)  # I/N: worker I of N (run_workers)
    parser.add_argument("--reuse-rows", type=Path, default=None, metavar="FOLDER",
                        help="copy the rows of weight-independent arms from another run's folder")
    parser.add_argument("--save-scores", action="store_true",
                        help="keep each ConvTimeNetClassifier arm's probabilities and MiniRocket's decision values "
                             "on the scored series (<out>/scores/*.npz), to study combinations afterwards")
    parser.add_argument("--out", default="bench_out/few_labels")
    args = parser.parse_args(argv)

    from builders.data import archive_root, load_splits
    from tszoo.estimators import TimeNetClassifier
    from tszoo.registry import info

    archive = archive_root(args.archive)
    names = args.datasets.split(",") if args.datasets else load_splits(archive)["targets"]
    arms, ks = args.arms.split(","), [int(k) for k in args.ks.split(",")]
    for arm in arms:
        try:
            parse_arm(arm)
        except ValueError as error:
            raise SystemExit(str(error)) from None
    if args.score_on == "rest":
        names = scorable(names, archive, ks, args.draws, say=not args.shard)
    reference = reference_table(required=False)  # only orders datasets and names classes
    versions = {m: f"{info(getattr(args, m))['name']}/{info(getattr(args, m))['version']}"
                for m in ("timenet", "convtimenet")}
    rows = Rows(args.out, key=("dataset", "k", "draw", "arm"))
    made = {"score_on": args.score_on, "models": versions}
    rows.check("arm", {a: made for a in arms})
    recipe = default_recipe()
    stale = [r for r in rows.rows if r["arm"].split("@")[0] in RECIPE_ARMS and not recipe_matches(r, recipe)]
    if stale and not args.report_only:
        theirs = recipe_of(stale[0])
        changed = {k: f"{theirs[k]!r} -> {recipe[k]!r}" for k in recipe if theirs[k] != recipe[k]}
        raise SystemExit(f"{args.out} holds {len(stale)} rows of ConvTimeNetClassifier arms made with other default "
                         f"settings than today's ({changed}); use another --out, or remove those rows to redo them")
    if stale:
        print(f"--report-only: {len(stale)} ConvTimeNetClassifier rows were made with the defaults "
              f"{recipe_of(stale[0])}")
    made["recipe"] = recipe
    made.update(tnc_defaults())
    pooled = [r for r in rows.rows if r["arm"] == "tnc" and tnc_defaults_of(r) != tnc_defaults_of(made)]
    if pooled and not args.report_only:
        raise SystemExit(f"{args.out} holds {len(pooled)} tnc rows made with TimeNetClassifier defaults "
                         f"{tnc_defaults_of(pooled[0])}, not today's {tnc_defaults_of(made)}; use another --out, or "
                         "remove those rows to redo them")
    # which invocation made a row (workers inherit their launcher's): the run's wall-clock time is the sum over
    # invocations of first start to last finish, so a run resumed over several sessions still says its time
    made["launch"] = os.environ.get("TSZOO_FEW_LABELS_LAUNCH") or f"{time.time():.3f}"
    made["convtimenet_builder"] = info(args.convtimenet).get("builder", {}).get("arguments")
    if args.reuse_rows and not args.shard:
        if not (args.reuse_rows / "rows.jsonl").exists():
            raise SystemExit(f"--reuse-rows {args.reuse_rows}: no rows.jsonl there; expected another run's --out")
        print(f"reused {reuse_rows(rows, args.reuse_rows, args, names, ks, arms, made)} rows from {args.reuse_rows}")
    order = sorted(names, key=lambda n: int(reference[n]["n_test"]) * int(reference[n]["length"])
                   if n in reference else 0)
    began = time.time()
    if args.shard:  # one worker of several: the datasets it claims first, no report
        run_datasets(order, ks, arms, args, archive, rows, made,
                     take=lambda name: claim(args.out, made["launch"], name))
        return
    if not args.report_only:
        if args.workers > 1:
            run_workers(argv, args.workers, archive, made["launch"], args.out)
            rows = Rows(args.out, key=("dataset", "k", "draw", "arm"))
        else:
            run_datasets(order, ks, arms, args, archive, rows, made)
    stem = "few_labels" if args.score_on == "test" else "few_labels_selection"
    arms_report = [a for a in arms]
    markdown, table, summary = summarise(rows.rows, names, arms_report, ks, args.draws, reference, args.score_on)
    summary["models"], summary["this_run_seconds"] = versions, round(time.time() - began)
    summary["convtimenet_classifier_defaults"] = recipe
    write_report(Path(args.out), stem, markdown, table, summary)
    if table:
        plot(summary, Path(args.out), stem)


if __name__ == "__main__":
    main()
