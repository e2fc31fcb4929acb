"""Fit labchat's two decision models on the tuning sets and report cross-validated figures.

usage: .venv/bin/python scripts/fit.py [QUESTIONS.jsonl[=CORPUS_DIR] ...] [--write] [--results DIR]

The sets default to shared/eval/train.jsonl and train_conversations.jsonl over the project's corpus (a
conversation's turns are asked with the turns before them, as the chat asks them), our own questions over it
(LABS_PROBES), and our questions over five other documentation folders (MANUALS, tests/data/<name>.jsonl over
tests/data/<name>/): questions about a manual rarely name a company or a model, and fitted on the labs alone,
a question without a name counted as more answerable (its weight was +0.13). Never dev.jsonl: it is held out.

1. Every sentence of the retrieved chunks of every question gets the features of `labchat.evidence`;
   it is labelled evidence when it holds the question's `evidence` (or `evidence2`) passage. A logistic
   regression learns to rank them.
2. Each question gets the features of its best candidates as the fitted ranker orders them, from a model
   that never saw that question (5-fold cross-validation, folds stratified by `kind`, a conversation in
   one fold); a second logistic regression learns whether the documents answer it, and the abstention
   threshold is the one under which the most questions end right (see `best_threshold`).
3. Every question is then answered exactly as `labchat ask` answers it, by models fitted without it, and
   scored by shared/eval/score.py: these cross-validated figures are what the README reports for train.
   (The answerability model fitted instead on whether labchat's own answer was right scored 0.85 on train
   but answered off-topic questions, "What programming language is Linux written in?": its threshold fell
   to 0.37.)
With --write, the models fitted on all questions go to src/labchat/fitted.json; with --results DIR, the
cross-validated answers to DIR/<set>.jsonl (what score.py scored), to read what went wrong.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from labchat.evaluate import read_questions
from labchat.evidence import QUESTION_FEATURES, SENTENCE_FEATURES, Evidence, EvidencePicker
from labchat.extract import comparison, extract_parts
from labchat.find import Finder
from labchat.fitted import FITTED_FILE, FittedModels, Linear
from labchat.prompt import ABSTAIN
from labchat.settings import PROJECT_DIR, Settings

SCORER = PROJECT_DIR.parent / "shared" / "eval" / "score.py"
LABS_PROBES = ("labs_probe", "labs_probe_conversations", "labs_probe2_conversations")
"""Our own questions over the project's corpus (tests/data), beside train.jsonl."""
MANUALS = ("otherdocs", "pydanticdocs", "typerdocs", "starlettedocs", "poetrydocs",
           "pydanticdocs_conversations", "starlettedocs_conversations", "poetrydocs_conversations")
"""Our questions over five projects' documentation folders (tests/data/<name>/): with manuals a third of the
questions, the ranker learns what answers in a manual: the evidence sentence ranked first for 0.52 of the
questions of each manual left out of the fit, against 0.48 fitted with HTTPX as the only manual (labs, 5-fold:
0.793 against 0.786). Never the held-out sets: dev.jsonl, labs_heldout*, drfdocs and sqlmodeldocs are only
scored."""
FOLDS = 5
BOOTSTRAPS = 200


def norm(text: str) -> str:
    """shared/eval/score.py's matching, imported from the scorer itself so the labels use its rules."""
    sys.path.insert(0, str(SCORER.parent))
    from score import norm as score_norm

    return score_norm(text)


SIGNS = {
    # more of the question in a sentence never makes it a worse answer
    "retrieval": 1, "dense": 1, "subject_sentence": 1, "subject_context": 1, "subject_chunk": 1,
    "attribute_sentence": 1, "attribute_section": 1, "type_span": 1, "attribute_dense": 1, "dense_gap": 1,
    "list_place": 1, "both": 1,
    # ... nor a question whose best evidence is closer to it less answerable
    "best": 1, "margin": 1, "subject_best": 1, "subject_max": 1, "attribute_best": 1, "attribute_max": 1,
    "joint": 1, "type_best": 1, "subject_chunk_best": 1, "dense_best": 1, "attribute_dense_best": 1,
    "attribute_dense_max": 1,
    # words the documents never use, and asking about today, make it less answerable
    "unknown": -1, "volatile": -1, "unknown_name": -1,
    # another version's fact is not the answer
    "other_version": -1, "other_version_best": -1,
    # what the question sets aside ("Besides X, ...") is not its answer
    "aside": -1,
}
"""The sign each weight must have (features not named are free). Fitted freely, correlated features took
opposite signs: the words in the sentence against the words in its section, so "Who founded StepFun?"
ranked a sentence without "founded" first; and words unknown to the corpus counted as a sign of an
answerable question, because misspelt answerable questions have them."""
RIDGES = (0.3, 1.0, 3.0, 10.0, 30.0)
"""L2 penalties tried for the answerability model, chosen by inner cross-validation."""


def fit_linear(rows: np.ndarray, labels: np.ndarray, names: tuple[str, ...]) -> Linear:
    """A logistic regression with sign bounds; its penalty chosen by 5-fold log-loss on these rows."""
    mean, scale = _standard(rows)
    unit = (rows - mean) / scale
    inner = StratifiedKFold(5, shuffle=True, random_state=1).split(unit, labels)
    splits = list(inner)

    def held_out_loss(ridge: float) -> float:
        loss = 0.0
        for fit_ids, test_ids in splits:
            w, b = bounded_logistic(unit[fit_ids], labels[fit_ids], names, ridge)
            p = np.clip(1 / (1 + np.exp(-(unit[test_ids] @ w + b))), 1e-9, 1 - 1e-9)
            loss -= float(np.sum(np.where(labels[test_ids], np.log(p), np.log(1 - p))))
        return loss

    ridge = min(RIDGES, key=held_out_loss)
    coef, intercept = bounded_logistic(unit, labels, names, ridge)
    return Linear(names, mean, scale, coef, intercept)


def fit_ranker(rows: np.ndarray, labels: np.ndarray, owners: np.ndarray) -> Linear:
    """Pairwise: learns from (evidence - other sentence) differences within a question, so the weights
    rank a question's own candidates rather than separate all evidence from all text. A second fit of
    one slope and an intercept turns the scores into probabilities on the same data."""
    mean, scale = _standard(rows)
    unit = (rows - mean) / scale
    diffs = []
    for owner in np.unique(owners):
        mine = owners == owner
        good, bad = unit[mine & labels], unit[mine & ~labels]
        diffs += [g - b for g in good for b in bad]
    diffs_all = np.array(diffs)
    coef, _ = bounded_logistic(np.vstack([diffs_all, -diffs_all]),
                               np.r_[np.ones(len(diffs)), np.zeros(len(diffs))].astype(bool),
                               SENTENCE_FEATURES, 1.0, intercept=False)
    calibration = LogisticRegression(max_iter=2000).fit((unit @ coef)[:, None], labels)
    slope = float(calibration.coef_[0][0])
    return Linear(SENTENCE_FEATURES, mean, scale, coef * slope, float(calibration.intercept_[0]))


def bounded_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], ridge: float,
                     intercept: bool = True) -> tuple[np.ndarray, float]:
    """Logistic regression with an L2 penalty and the SIGNS bounds, by L-BFGS-B (scikit-learn's
    LogisticRegression takes no bounds)."""
    sign = np.where(y, 1.0, -1.0)
    d = x.shape[1]

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:d], params[d]
        z = sign * (x @ w + b)
        value = np.logaddexp(0, -z).sum() + ridge / 2 * w @ w
        g = -sign / (1 + np.exp(z))
        return float(value), np.r_[x.T @ g + ridge * w, g.sum() if intercept else 0.0]

    bounds = [{1: (0, None), -1: (None, 0)}.get(SIGNS.get(n, 0), (None, None)) for n in names]
    params = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)]).x
    return params[:d], float(params[d])


def _standard(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scaler = StandardScaler().fit(rows)
    return scaler.mean_, np.where(scaler.scale_ > 0, scaler.scale_, 1.0)


def _find(finder: Finder, picker: EvidencePicker, query: str, untranslated: float = 0.0) -> Evidence:
    """`Finder.find` with a fold's picker: every search for a held-out question stays inside its fold."""
    return picker.pick(*finder.search(query, untranslated), finder.settings.max_passages,
                       finder.settings.context_chars)


def placeholder() -> Linear:
    return Linear(QUESTION_FEATURES, np.zeros(len(QUESTION_FEATURES)), np.ones(len(QUESTION_FEATURES)),
                  np.zeros(len(QUESTION_FEATURES)), 0.0)


def read(sets: list[tuple[Path, Path]]) -> list[dict]:
    """The questions of every (file, corpus folder), a conversation's turns with the turns before them as
    `history` (answered with their evidence line, or the abstention), and a `group` that keeps a
    conversation in one fold."""
    out = []
    for path, corpus in sets:
        history: list[tuple[str, str]] = []
        for q in read_questions(path):
            if q.get("turn", 1) == 1:
                history = []
            out.append({**q, "file": path, "corpus": corpus, "history": list(history),
                        "group": q.get("conversation", q["id"]), "kind": q.get("kind") or "turn"})
            history.append((q["question"], q.get("evidence", ABSTAIN)))
    return out


def finders(corpora: set[Path], index_root: Path) -> dict[Path, Finder]:
    """A finder per corpus folder, sharing one embedder; the project's corpus keeps its own index."""
    found: dict[Path, Finder] = {}
    models = FittedModels(placeholder(), placeholder(), 0.5)
    for n, corpus in enumerate(sorted(corpora)):
        settings = Settings() if corpus == Settings().corpus_dir else Settings(
            corpus_dir=corpus, index_dir=index_root / f"index-{n}")
        embedder = next(iter(found.values())).embedder if found else None
        found[corpus] = Finder(settings, models=models, embedder=embedder)
    return found


def main(sets: list[tuple[Path, Path]], write: bool, results_dir: Path | None = None) -> None:
    if results_dir:
        results_dir.mkdir(parents=True, exist_ok=True)
    questions = read(sets)
    paths = list(dict.fromkeys(path for path, _ in sets))
    index_root = Path(tempfile.mkdtemp(prefix="labchat-fit-"))  # the other corpora's indexes, removed at exit
    atexit.register(shutil.rmtree, index_root, ignore_errors=True)
    finder_of = finders({q["corpus"] for q in questions}, index_root)
    settings = Settings()
    asked, rows, labels, owners = [], [], [], []
    for i, q in enumerate(questions):
        finder = finder_of[q["corpus"]]
        query = finder.resolve(q["question"], q["history"])
        question, hits = finder.search(query, finder.untranslated(q["question"]))
        pairs, features = finder.picker.candidates(question, hits)
        wanted = [norm(q[k]) for k in ("evidence", "evidence2") if q.get(k)]
        asked.append((question, hits))
        rows.append(features)
        labels += [any(w in norm(text) for w in wanted) for _, text in pairs]
        owners += [i] * len(pairs)
    rows_all, labels_all, owners_all = np.vstack(rows), np.array(labels), np.array(owners)
    kinds = [q["kind"] for q in questions]
    folds = list(StratifiedGroupKFold(FOLDS, shuffle=True, random_state=0).split(
        np.zeros(len(kinds)), kinds, [q["group"] for q in questions]))

    # 1: the ranker, fitted per fold; each question's evidence picked by a ranker that never saw it.
    rankers, evidence = [], [None] * len(questions)
    for train_ids, test_ids in folds:
        mask = np.isin(owners_all, train_ids)
        rankers.append(fit_ranker(rows_all[mask], labels_all[mask], owners_all[mask]))
        models = FittedModels(rankers[-1], placeholder(), 0.5)
        pickers = {c: EvidencePicker(f.vocabulary, f.embedder, models) for c, f in finder_of.items()}
        for i in test_ids:
            evidence[i] = pickers[questions[i]["corpus"]].pick(*asked[i], settings.max_passages,
                                                                settings.context_chars)
    # 2: the answerability model on those held-out features, again per fold.
    answerable = np.array([q.get("answerable", True) for q in questions])
    qrows = np.vstack([e.features for e in evidence])
    # 3: every question answered as `labchat ask` answers it (parts, comparisons) by models that never saw it
    probs, answers = np.zeros(len(questions)), [("", [])] * len(questions)
    for ranker, (train_ids, test_ids) in zip(rankers, folds, strict=True):
        judge = fit_linear(qrows[train_ids], answerable[train_ids], QUESTION_FEATURES)
        models = FittedModels(ranker, judge, 0.0)
        finds = {c: functools.partial(_find, f, EvidencePicker(f.vocabulary, f.embedder, models))
                 for c, f in finder_of.items()}
        for i in test_ids:
            finder, find = finder_of[questions[i]["corpus"]], finds[questions[i]["corpus"]]
            found = finder.find_parts(finder.resolve(questions[i]["question"], questions[i]["history"]),
                                      finder.untranslated(questions[i]["question"]), find=find)
            compared = comparison(found, find)
            probs[i] = 1.0 if compared else min(e.answerable for e in found)
            extracted = extract_parts(found, settings.max_passages) if found[0].passages else (ABSTAIN, [])
            answers[i] = compared or extracted
    right = np.array([q.get("answerable", True) and all(any(norm(a) in norm(text) for a in group)
                                                         for group in q["answers"])
                      for q, (text, _) in zip(questions, answers, strict=True)])
    threshold = best_threshold(probs, answerable, right)
    print(f"cross-validated ({FOLDS} folds): threshold {threshold:.3f}")
    for path in paths:
        with tempfile.TemporaryDirectory() as tmp:
            results = (results_dir or Path(tmp)) / path.name
            with results.open("w", encoding="utf-8") as out:
                for i, (q, e) in enumerate(zip(questions, evidence, strict=True)):
                    if q["file"] != path:
                        continue
                    abstained = probs[i] < threshold
                    answer, passages = (ABSTAIN, e.passages) if abstained else answers[i]
                    out.write(json.dumps({"id": q["id"], "answer": answer, "abstained": bool(abstained),
                                          "sources": [{"text": p.text} for p in passages],
                                          "latency_s": 0}) + "\n")
            score = subprocess.run([sys.executable, str(SCORER), str(path), str(results)], check=True,
                                   capture_output=True, text=True).stdout
        print(f"{path.name}: {score.strip()}")

    if write:
        ranker = fit_ranker(rows_all, labels_all, owners_all)
        final = fit_linear(qrows, answerable, QUESTION_FEATURES)  # features from held-out rankers, as at use
        FITTED_FILE.write_text(json.dumps({
            "fitted_on": [path.name for path in paths], "questions": len(questions),
            "sentence": ranker.to_dict(), "answerable": final.to_dict(), "threshold": round(threshold, 4),
        }, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {FITTED_FILE}")


def best_threshold(probs: np.ndarray, answerable: np.ndarray, right: np.ndarray) -> float:
    """The abstention threshold under which the most questions end right for the user (answered with the
    right answer, or refused when the documents do not hold one; a wrong answer is no better than a
    refusal), bagged: the median of that threshold over BOOTSTRAPS resamples of the questions. The count
    is flat over a wide range, so the single best cut jumped by 0.05 to 0.15 with any change of a feature;
    the median over resamples moves less."""
    rng = np.random.default_rng(0)
    picks = [_best_cut(probs[i], answerable[i], right[i])
             for i in (rng.integers(0, len(probs), len(probs)) for _ in range(BOOTSTRAPS))]
    return float(np.median(picks))


def _best_cut(probs: np.ndarray, answerable: np.ndarray, right: np.ndarray) -> float:
    """The middle of the interval of cuts under which the most questions end right."""
    cuts = np.unique(np.concatenate([[0.0, 1.0], probs]))
    right = [int(((probs >= c) & right).sum() + ((probs < c) & ~answerable).sum()) for c in cuts]
    best = [i for i, r in enumerate(right) if r == max(right)]
    i = best[len(best) // 2]
    return float((cuts[i] + cuts[i - 1]) / 2) if i > 0 else float(cuts[i])


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fit labchat's decision models with cross-validation.")
    parser.add_argument("questions", nargs="*", help="QUESTIONS.jsonl, or QUESTIONS.jsonl=CORPUS_DIR")
    parser.add_argument("--write", action="store_true", help="write src/labchat/fitted.json")
    parser.add_argument("--results", type=Path, help="folder for the cross-validated answers")
    args = parser.parse_args()
    shared, data = PROJECT_DIR.parent / "shared" / "eval", PROJECT_DIR / "tests" / "data"
    corpus = Settings().corpus_dir
    given = [(Path(q), Path(c).resolve() if c else corpus)
             for q, _, c in (a.partition("=") for a in args.questions)]
    manuals = [(data / f"{name}.jsonl", data / name.removesuffix("_conversations")) for name in MANUALS]
    main(given or [(shared / "train.jsonl", corpus), (shared / "train_conversations.jsonl", corpus),
                   *((data / f"{name}.jsonl", corpus) for name in LABS_PROBES), *manuals],
         args.write, args.results)
