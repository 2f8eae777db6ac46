"""`communitybot train`, `communitybot eval` and `communitybot scan`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.cli import CliError
from bot.config import load_config
from bot.mod_engine import CHECK_SECTIONS  # noqa: F401  - registers [moderation] and [check_*]
from bot.mod_model import (
    TrainingDataError,
    base_corpus,
    cross_validate,
    load_model,
    read_labelled,
    score,
    shipped_samples,
)
from scoring.spam import SpamModel
from scoring.spam_corpus import generate


def _read(spam: list[str], ham: list[str], labeled: list[str]) -> tuple[list[str], list[int]]:
    texts: list[str] = []
    labels: list[int] = []
    try:
        for path, default in [*((p, 1) for p in spam), *((p, 0) for p in ham), *((p, None) for p in labeled)]:
            t, y = read_labelled(path, default)
            texts += t
            labels += y
    except TrainingDataError as exc:
        raise CliError(str(exc)) from exc
    return texts, labels


def train_cmd(args) -> int:
    """Train a model from the built-in samples plus the given files and save it."""
    config = load_config(args.config, require_secrets=False)
    texts, labels = _read(args.spam, args.ham, args.labeled)
    if not args.no_base:
        bt, bl, _ = base_corpus()
        texts, labels = bt + texts, bl + labels
    if len(set(labels)) < 2:
        raise CliError("training needs both spam and ham messages (give --spam and --ham, or drop --no-base)")
    model = SpamModel().fit(texts, labels)
    out = Path(args.out or config.section("moderation").model_path or "spam-model.npz")
    try:
        out.write_bytes(model.to_bytes())
    except OSError as exc:
        raise CliError(f"{out}: cannot write the model ({exc})") from exc
    print(f"trained on {len(labels)} messages ({sum(labels)} spam, {len(labels) - sum(labels)} ham); wrote {out} ({out.stat().st_size // 1024} KiB)")
    if args.cv:
        thr = config.section("check_spam").threshold
        print("5-fold CV: " + score(labels, cross_validate(texts, labels), thr).line())
    if not args.out and not config.section("moderation").model_path:
        print(f"use it with [moderation] model_path = \"{out}\" in config.toml")
    return 0


def eval_cmd(args) -> int:
    """Print precision, recall, F1 and FPR of the model on a labelled file (or CV figures)."""
    config = load_config(args.config, require_secrets=False)
    thr = args.threshold if args.threshold is not None else config.section("check_spam").threshold
    if args.cv:
        print_cv(thr)
        return 0
    if not args.file and not (args.spam and args.ham):
        raise CliError("give a label<TAB>text FILE, or --spam FILE --ham FILE, or --cv")
    texts, labels = _read([args.spam] if args.spam else [], [args.ham] if args.ham else [], [args.file] if args.file else [])
    try:
        model = load_model(args.model or config.section("moderation").model_path or None)
    except TrainingDataError as exc:
        raise CliError(str(exc)) from exc
    probs = model.probabilities(texts)
    print(score(labels, probs, thr).line())
    return 0


def print_cv(thr: float) -> None:
    """Cross-validated figures on the built-in samples, the way the README reports them."""
    gen = generate()
    st, sl = shipped_samples()
    gt, gl, gg = [s.text for s in gen], [s.label for s in gen], [s.template for s in gen]
    at, al, ag = base_corpus()
    rows = [
        ("tg-spam samples, stratified 5-fold", sl, cross_validate(st, sl)),
        ("own samples, stratified 5-fold", gl, cross_validate(gt, gl)),
        ("own samples, whole templates held out", gl, cross_validate(gt, gl, gg)),
        ("both, stratified 5-fold", al, cross_validate(at, al)),
        ("both, templates/messages held out", al, cross_validate(at, al, ag)),
    ]
    cross = SpamModel().fit(gt, gl).probabilities(st)
    rows.append(("trained on own only, tested on tg-spam", sl, cross))
    for name, y, p in rows:
        print(f"{name:42s} {score(y, p, thr).line()}")


async def scan_cmd(args) -> int:
    """Replay a group's history through all checks and print the flagged events."""
    from bot.mod_scan import as_json, as_text, scan

    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError as exc:
            raise CliError(f"--since: expected YYYY-MM-DD or an ISO time, got {args.since!r}") from exc
        since = since.replace(tzinfo=UTC) if since.tzinfo is None else since
    app = await _open_app(args)
    try:
        group = await app.store.find_group(args.group)
        if group is None:
            known = ", ".join(f"{g.title or g.group_id} ({g.platform}:{g.group_id})" for g in await app.store.groups()) or "none"
            raise CliError(f"--group: no group {args.group!r} in the database (known: {known})")
        result = await scan(app, group, since=since)
    finally:
        await app.store.close()
    if args.format == "json":
        print(json.dumps(as_json(result), ensure_ascii=False, indent=2))
    else:
        print(as_text(result))
    return 0


async def _open_app(args):
    try:
        from bot.cli_core import open_app  # the lead's helper, when it has landed
    except ImportError:
        from bot.app import App
        from bot.config import DEFAULT_DB_URL

        config = load_config(args.config, require_secrets=False)
        return await App.create(config, args.db or (config.database.url if args.config else DEFAULT_DB_URL))
    return await open_app(args)
