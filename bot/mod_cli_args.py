"""The arguments of `communitybot train`, `eval` and `scan`. The commands themselves live
in `bot.mod_cli` and are imported only when run: the classifier's libraries take a
second to import, which every other command (and `--help`) should not pay."""

from __future__ import annotations

import importlib


def _lazy(name: str):
    def run(args):
        return getattr(importlib.import_module("bot.mod_cli"), name)(args)

    return run


def add_commands(sub, common) -> None:
    """Register train, eval and scan."""
    p = sub.add_parser("train", parents=[common], help="retrain the spam classifier from files")
    p.add_argument("--spam", action="append", default=[], metavar="FILE", help="one spam message a line (or label<TAB>text)")
    p.add_argument("--ham", action="append", default=[], metavar="FILE", help="one normal message a line (or label<TAB>text)")
    p.add_argument("--labeled", action="append", default=[], metavar="FILE", help="label<TAB>text lines (spam/ham/1/0)")
    p.add_argument("--no-base", action="store_true", help="train only on the given files, not the built-in samples")
    p.add_argument("--out", metavar="PATH", help="model file to write (default: [moderation] model_path, else spam-model.npz)")
    p.add_argument("--cv", action="store_true", help="also print 5-fold cross-validated figures of this training set")
    p.set_defaults(func=_lazy("train_cmd"))

    p = sub.add_parser("eval", parents=[common], help="precision, recall, F1 and false-positive rate of the spam classifier")
    p.add_argument("file", nargs="?", help="label<TAB>text file to evaluate on")
    p.add_argument("--spam", metavar="FILE", help="evaluate on one-spam-a-line FILE (with --ham)")
    p.add_argument("--ham", metavar="FILE", help="evaluate on one-ham-a-line FILE (with --spam)")
    p.add_argument("--model", metavar="PATH", help="model file (default: the configured model or the base model)")
    p.add_argument("--threshold", type=float, default=None, help="spam threshold (default: [check_spam] threshold)")
    p.add_argument("--cv", action="store_true", help="cross-validate on the built-in samples instead (the README figures)")
    p.set_defaults(func=_lazy("eval_cmd"))

    p = sub.add_parser("scan", parents=[common], help="replay stored history through every moderation check")
    p.add_argument("--group", required=True, help="group title, platform id or platform:id")
    p.add_argument("--since", help="only events from this date (YYYY-MM-DD or ISO time, UTC)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=_lazy("scan_cmd"))


