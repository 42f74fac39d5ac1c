"""The evaluation report: the tables ``kb eval`` prints, ``report.md`` and ``report.png``."""

from __future__ import annotations

import json
from pathlib import Path

RETRIEVAL = ["hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10"]


def write_report(report: dict, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "report.md").write_text(markdown(report), encoding="utf-8")
    chart(report, out_dir / "report.png")


def _f(v, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def type_table(summary: dict) -> str:
    cols = [
        "hit@1",
        "hit@3",
        "hit@5",
        "hit@10",
        "mrr@10",
        "ndcg@10",
        "answered",
        "answer_hit",
        "mention_coverage",
        "citation_support",
    ]
    rows = []
    for t, m in summary["per_type"].items():
        if t == "unanswerable":
            rows.append([t, str(m["n"])] + ["–"] * len(cols[:-4]) + [f"abstained {_f(m['abstained'])}", "–", "–", "–"])
        else:
            rows.append([t, str(m["n"])] + [_f(m.get(c)) for c in cols])
    return _table(["type", "n", *cols], rows)


def overview(summary: dict) -> str:
    a, ab, lat = summary["answers"], summary["abstention"], summary["latency"]
    return "\n".join(
        [
            f"- answered (answerable items): {_f(a['answered'])}; answer hit: {_f(a['answer_hit'])}; "
            f"lead hit (first excerpt): {_f(a.get('lead_hit'))}; "
            f"must_mention coverage: {_f(a['mention_coverage'])}; citation support: {_f(a['citation_support'])}",
            f"- cited sentences verbatim in their passage: {_f(a['citations_verbatim'], 3)} ({a['citations']} citations)",
            f"- abstention precision {_f(ab['abstain_precision'])}, recall {_f(ab['abstain_recall'])}; "
            f"wrong refusals {_f(ab['wrong_refusals'])}",
            f"- latency per question: p50 {lat['p50']:.3f} s, p95 {lat['p95']:.3f} s",
            "- readability (counts over all answers): "
            + ", ".join(f"{k} {v}" for k, v in (summary.get("readability") or {}).items()),
        ]
    )


def ablation_table(ablations: dict) -> str:
    rows = [
        [name]
        + [_f(s["retrieval"][k]) for k in RETRIEVAL]
        + [
            _f(s["answered"]),
            _f(s["abstention"]["abstain_precision"]),
            _f(s["abstention"]["abstain_recall"]),
            _f(s["abstention"]["wrong_refusals"]),
            f"{s['latency']['p50']:.3f}",
        ]
        for name, s in ablations.items()
    ]
    return _table(["config", *RETRIEVAL, "answered", "abst. prec.", "abst. recall", "wrong refusals", "p50 s"], rows)


def baseline_table(report: dict) -> str:
    ours, base = report["summary"]["retrieval"], report["baseline"]
    rows = [
        [k, _f(ours[k]), _f(base["retrieval"][k]), _f(base["ratios"][k]) + "×" if base["ratios"][k] else "–"]
        for k in RETRIEVAL
    ]
    return _table(["metric", "kennisbank", "baseline", "ratio"], rows)


def markdown(report: dict) -> str:
    s, idx = report["summary"], report["index"]
    parts = [
        "# Evaluatie Kennisbank Passend Onderwijs",
        f"{report['created']} · gold set `{report['gold']}` ({s['n']} items: {s['n_answerable']} beantwoordbaar, "
        f"{s['n_unanswerable']} niet) · index `{idx['home']}` ({idx['documents']} documenten, {idx['chunks']} passages, "
        f"{idx['embed_model']}) · {report['machine']['cpus']} cores · {report.get('seconds', 0)} s",
    ]
    for name, title in (
        ("test", "Test-split (niet gebruikt om te passen of af te stemmen)"),
        ("tune", "Tune-split (hierop zijn de modellen gepast, zie eval/fit.py)"),
    ):
        if name in report.get("splits", {}) and report["splits"][name]["n"]:
            parts += [f"## {title}", type_table(report["splits"][name]), overview(report["splits"][name])]
    parts += [
        "## Hele goudset (retrieval over de top-10 van het antwoord)",
        type_table(s),
        overview(s),
    ]
    if "ablations" in report:
        parts += ["## Ablaties", ablation_table(report["ablations"])]
    if "baseline" in report:
        b = report["baseline"]
        parts += [
            "## Tegen de tutorial-baseline",
            f"Baseline: {b['setup']} ({b['chunks']} passages; zoeken p50 {b['search_latency']['p50']:.3f} s).",
            baseline_table(report),
        ]
    parts.append("Metrieken: zie `eval/metrics.py` (nDCG met IDCG over de gevonden relevante passages).")
    return "\n\n".join(parts) + "\n"


def table(report: dict) -> str:
    """The short table ``kb eval`` prints: the test split first, then the tune split, then all."""
    parts = []
    for name in ("test", "tune"):
        split = report.get("splits", {}).get(name)
        if split and split["n"]:
            parts += [f"{name} split ({split['n']} items)", type_table(split), overview(split)]
    parts += ["all items", type_table(report["summary"]), overview(report["summary"])]
    if "ablations" in report:
        parts.append(ablation_table(report["ablations"]))
    if "baseline" in report:
        parts.append(baseline_table(report))
    return "\n\n".join(parts)


def chart(report: dict, path: Path) -> bool:
    """A grouped bar chart of the metrics per type; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    per_type = {t: m for t, m in report["summary"]["per_type"].items() if t != "unanswerable"}
    metrics = ["hit@1", "hit@5", "mrr@10", "ndcg@10", "mention_coverage", "citation_support"]
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=110)
    width = 0.8 / len(metrics)
    for j, m in enumerate(metrics):
        xs = [i + (j - (len(metrics) - 1) / 2) * width for i in range(len(per_type))]
        ax.bar(xs, [per_type[t].get(m) or 0.0 for t in per_type], width, label=m)
    ax.set_xticks(range(len(per_type)), [f"{t}\n(n={per_type[t]['n']})" for t in per_type])
    ax.set_ylim(0, 1.05)
    ab = report["summary"]["abstention"]
    ax.set_title(
        f"Per type · abstention precision {_f(ab['abstain_precision'])}, recall {_f(ab['abstain_recall'])}, "
        f"wrong refusals {_f(ab['wrong_refusals'])}",
        fontsize=10,
    )
    ax.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True
