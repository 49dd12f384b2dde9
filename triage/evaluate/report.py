"""Render evaluation metrics: plain-text tables, JSON, Markdown and a reliability diagram.

Renderers only format what :func:`triage.evaluate.metrics.evaluate` computed; they
judge nothing. The diagram is drawn with numpy and OpenCV (no plotting library).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from triage.report import BANDS

Record = dict[str, Any]
_SHORT = {
    "insufficient-evidence": "insuff",
    "no-indicators": "none",
    "weak-indicators": "weak",
    "notable-indicators": "notable",
    "strong-indicators": "strong",
}
SCORED_QUESTIONS = ("manipulation", "synthetic")


def _f(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def _span(auc: dict[str, Any]) -> str:
    """An AUC entry's 95% bootstrap interval as "0.67-0.92" ("-" without one)."""
    interval = auc.get("auc_interval")
    return "-" if not interval else f"{interval[0]:.2f}-{interval[1]:.2f}"


# ---------------------------------------------------------------------------- targets
def targets(metrics: dict[str, Any], records: Sequence[Record]) -> list[dict[str, Any]]:
    """The issue's acceptance targets, measured on these records.

    * manipulation AUC on the ``manipulated`` group (its authentic/manipulated pairs),
      falling back to all records when the manifest has no such group;
    * share of camera originals (label authentic, group ``camera``; all authentic files
      when there is no such group) in strong-indicators for manipulation (<= 2%) and
      for synthetic (none);
    * every file with a positive credentials/generator finding for synthetic (a
      declared generator) at notable or strong for synthetic;
    * zero crashes and zero timeouts over malformed files (and over all files).
    """
    from triage.evaluate.metrics import SCORED_OUTCOMES

    out: list[dict[str, Any]] = []
    groups = metrics["questions"]["manipulation"]["auc_by_group"]
    pair = groups.get("manipulated") or metrics["questions"]["manipulation"]["auc"]
    out.append(
        {
            "target": "manipulation AUC on manipulated/authentic pairs >= 0.85",
            "value": _f(pair.get("auc"))
            + (f" (95% {_span(pair)})" if pair.get("auc_interval") else ""),
            "n": f"{pair.get('n_pos', 0)} manipulated / {pair.get('n_neg', 0)} authentic",
            "met": pair.get("auc") is not None and pair["auc"] >= 0.85,
        }
    )
    scored = [r for r in records if r.get("outcome") in SCORED_OUTCOMES]
    camera = [r for r in scored if r["label"] == "authentic" and r.get("group") == "camera"]
    if not camera:
        camera = [r for r in scored if r["label"] == "authentic"]
    for q, limit, text in (
        ("manipulation", 0.02, "camera originals in strong-indicators for manipulation <= 2%"),
        ("synthetic", 0.0, "camera originals in strong-indicators for synthetic: none"),
    ):
        k = sum(1 for r in camera if r["questions"][q]["band"] == "strong-indicators")
        share = k / len(camera) if camera else None
        out.append(
            {
                "target": text,
                "value": f"{k}/{len(camera)} ({_pct(share)})",
                "n": str(len(camera)),
                "met": bool(camera) and share is not None and share <= limit,
            }
        )
    declared = [
        r
        for r in scored
        if any(
            f["question"] == "synthetic"
            and f["analyzer"] in ("credentials", "generator")
            and f["llr"] > 0
            for f in r.get("findings", [])
        )
    ]
    high = [
        r
        for r in declared
        if r["questions"]["synthetic"]["band"] in ("notable-indicators", "strong-indicators")
    ]
    out.append(
        {
            "target": "files declaring a generator (credentials/metadata) at notable or strong",
            "value": f"{len(high)}/{len(declared)}",
            "n": str(len(declared)),
            "met": bool(declared) and len(high) == len(declared),
            "missed": [r["name"] for r in declared if r not in high],
        }
    )
    rob = metrics["robustness"]
    malformed = rob["outcomes"].get("malformed", {})
    bad = malformed.get("crash", 0) + malformed.get("timeout", 0)
    out.append(
        {
            "target": "malformed files: zero crashes and zero hangs",
            "value": f"{malformed.get('crash', 0)} crashes, {malformed.get('timeout', 0)} timeouts "
            f"of {sum(malformed.values())}",
            "n": str(sum(malformed.values())),
            "met": sum(malformed.values()) > 0 and bad == 0,
        }
    )
    return out


# ------------------------------------------------------------------------------- text
def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) for row in rows]
    return "\n".join(out)


def summary_rows(metrics: dict[str, Any]) -> list[list[str]]:
    rows = []
    for q in SCORED_QUESTIONS:
        m = metrics["questions"][q]
        rel, cl = m["reliability"], m["claims"]
        rows.append(
            [
                q,
                str(m["auc"]["n_pos"]),
                str(m["auc"]["n_neg"]),
                _f(m["auc"]["auc"]),
                _span(m["auc"]),
                _f(m["auc_low"]["auc"]),
                _f(rel["brier"]),
                _f(rel["ece"]),
                f"{cl['correct']}/{cl['n']}" + (f" ({_pct(cl['share'])})" if cl["n"] else ""),
            ]
        )
    return rows


_SUMMARY_HEAD = [
    "question",
    "pos",
    "neg",
    "AUC",
    "AUC 95%",
    "AUC(low)",
    "Brier",
    "ECE",
    "claims right",
]


def band_rows(metrics: dict[str, Any], q: str) -> list[list[str]]:
    rows = []
    for label, entry in metrics["questions"][q]["band_rates"].items():
        rows.append(
            [label, str(entry["n"])]
            + [f"{entry['counts'][b]} ({_pct(entry['rates'][b])})" for b in BANDS]
        )
    return rows


def _fitted_weight(fid: str, question: str) -> tuple[float, tuple[float, float]] | None:
    """The log-odds per unit strength the calibration in use gives a finding id."""
    from triage.calibration import load

    model = load().models.get(question)
    if model is None or fid not in model.features:
        return None
    i = model.features.index(fid)
    return model.coef[i], model.coef_range[i]


def _fitted_sources() -> str:
    """``: a, b, ...``, the corpus sources the calibration in use names as fitted on."""
    from triage.calibration import load

    names = (load().data.get("data") or {}).get("corpus_fit_sources") or []
    return ": " + ", ".join(f"`{n}`" for n in names) if names else ""


def finding_rows(metrics: dict[str, Any]) -> list[list[str]]:
    rows = []
    for fid, s in metrics["findings"].items():
        w = _fitted_weight(fid, s["question"])
        rows.append(
            [
                fid,
                s["question"][:5],
                f"{s['fired_pos']}/{s['n_pos']}",
                f"{s['fired_neg']}/{s['n_neg']}",
                _f(s["empirical_llr"], 2),
                "-" if w is None else f"{w[0]:.2f} [{w[1][0]:.2f}, {w[1][1]:.2f}]",
            ]
        )
    return rows


_FINDING_HEAD = ["finding", "q", "fired pos", "fired neg", "emp. LLR", "fitted log-odds [range]"]


def render_text(metrics: dict[str, Any], records: Sequence[Record]) -> str:
    parts = [f"triage evaluate: {metrics['n']} files " + _labels_line(metrics), ""]
    parts += [_table(_SUMMARY_HEAD, summary_rows(metrics)), ""]
    for q in SCORED_QUESTIONS:
        parts += [
            f"bands for {q}",
            _table(["label", "n"] + [_SHORT[b] for b in BANDS], band_rows(metrics, q)),
            "",
        ]
        groups = metrics["questions"][q]["auc_by_group"]
        if groups:
            parts.append(
                f"AUC for {q} by group: "
                + ", ".join(
                    f"{g} {_f(v['auc'])} [{_span(v)}] ({v['n_pos']}/{v['n_neg']})"
                    for g, v in groups.items()
                )
            )
            parts.append("")
    if metrics["findings"]:
        parts += [_table(_FINDING_HEAD, finding_rows(metrics)), ""]
    loc = metrics["localization"]
    if loc["n"]:
        parts.append(
            f"localization: {loc['n']} masked files, {loc['with_boxes']} with boxes, "
            f"mean IoU {_f(loc['mean_iou'])} (with boxes {_f(loc['mean_iou_with_boxes'])})"
        )
    rob = metrics["robustness"]
    parts.append(
        f"robustness: {rob['crashes']} crashes, {rob['timeouts']} timeouts, "
        f"analyzer errors {rob['analyzer_errors'] or 'none'}; total {rob['seconds_total']} s"
    )
    for f in rob["failures"]:
        parts.append(f"  {f['outcome']}: {f['name']}: {f['message']}")
    parts += ["", "targets:"]
    for t in targets(metrics, records):
        parts.append(f"  [{'met' if t['met'] else 'NOT met'}] {t['target']}: {t['value']}")
    return "\n".join(parts) + "\n"


def _labels_line(metrics: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{k} {v}" for k, v in sorted(metrics["labels"].items())) + ")"


# ------------------------------------------------------------------------------- json
def to_json(
    metrics: dict[str, Any], records: Sequence[Record], meta: dict[str, Any] | None = None
) -> str:
    """Metrics, targets and the per-file records, as indented JSON."""
    payload = {
        "meta": meta or {},
        "metrics": metrics,
        "targets": targets(metrics, records),
        "records": list(records),
    }
    return json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n"


# --------------------------------------------------------------------------- markdown
def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    esc = [[c.replace("|", "\\|") for c in row] for row in rows]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in esc]
    return "\n".join(out)


def render_markdown(
    metrics: dict[str, Any],
    records: Sequence[Record],
    meta: dict[str, Any] | None = None,
) -> str:
    from triage.evaluate import metrics as M

    meta = meta or {}
    lines = ["# Evaluation", ""]
    if meta.get("command"):
        lines += [
            "Regenerate this page (from the repository root):",
            "",
            "```",
            meta["command"],
            "```",
            "",
        ]
    facts = [f"{k}: {v}" for k, v in meta.items() if k not in ("command", "diagram")]
    if facts:
        lines += ["- " + f for f in facts] + [""]
    lines += [
        f"{metrics['n']} files {_labels_line(metrics)}. Positives and negatives: manipulation = "
        "manipulated vs authentic; synthetic = synthetic vs authentic + manipulated; malformed "
        "and unknown files enter no score (malformed ones are counted under robustness). "
        "AUC is the Mann-Whitney AUC of the point score (ties count 1/2), with its 95% interval "
        "over a bootstrap of files (positives and negatives drawn apart, "
        f"{M.AUC_RESAMPLES:,} draws, seed 0; none under {M.AUC_MIN_CLASS} files of a class; "
        "with a few dozen files it is wide); AUC(low) ranks by the interval's low end. "
        "*Claims right*: notable/strong claim the indicators are real, "
        "no-indicators claims there are none; the share of those claims that match the label.",
        "",
        "## Targets",
        "",
    ]
    rows = [
        [t["target"], t["value"], "yes" if t["met"] else "**no**"]
        for t in targets(metrics, records)
    ]
    lines += [_md_table(["target", "measured", "met"], rows), ""]
    for t in targets(metrics, records):
        if t.get("missed"):
            lines.append(f"Declared-generator files below notable: {', '.join(t['missed'])}")
            lines.append("")
    lines += ["## Summary", "", _md_table(_SUMMARY_HEAD, summary_rows(metrics)), ""]
    if meta.get("diagram"):
        lines += [
            f"![Reliability: observed rate of positives per score bin]({meta['diagram']})",
            "",
            "Reliability diagram: dots are the observed share of positives among files whose "
            "score fell in each bin (size = count, bars = 95% Wilson interval); on the grey "
            "diagonal the score would mean what it says.",
            "",
        ]
    for q in SCORED_QUESTIONS:
        lines += _question_section(metrics, q)
    lines += _out_of_sample_section(records)
    lines += _labelled_files(records)
    lines += _evidence_sections(metrics)
    lines += _robustness_section(metrics)
    return "\n".join(lines)


def _question_section(metrics: dict[str, Any], q: str) -> list[str]:
    from triage.evaluate import metrics as M

    lines: list[str] = []
    groups = metrics["questions"][q]["auc_by_group"]
    lines += [f"## {q}: bands per label", ""]
    lines += [_md_table(["label", "n"] + [_SHORT[b] for b in BANDS], band_rows(metrics, q)), ""]
    if groups:
        lines += [
            _md_table(
                ["group", "pos", "neg", "AUC", "AUC 95%"],
                [
                    [g, str(v["n_pos"]), str(v["n_neg"]), _f(v["auc"]), _span(v)]
                    for g, v in groups.items()
                ],
            ),
            "",
        ]
    claims = metrics["questions"][q]["claims"]["bands"]
    if not any(c["n"] for c in claims.values()):
        lines += [
            "No file got a band that claims something (notable, strong or no-indicators) "
            "for this question: every interval straddled 0.5 or stayed weak.",
            "",
        ]
    lines += [
        _md_table(
            ["band", "claims", "n", "right", "share [95% Wilson]"],
            [
                [
                    b,
                    c["claims"],
                    str(c["n"]),
                    str(c["correct"]),
                    "-"
                    if not c["n"]
                    else f"{_pct(c['share'])} [{_pct(c['wilson'][0])}, {_pct(c['wilson'][1])}]",
                ]
                for b, c in claims.items()
            ],
        ),
        "",
    ]
    rel = metrics["questions"][q]["reliability"]
    if rel["bins"]:
        lines += [
            _md_table(
                [
                    "score bin",
                    "n",
                    "mean score",
                    "mean interval",
                    "observed",
                    "95% Wilson",
                    "observed, balanced",
                    "balanced in interval",
                    "by chance (90%)",
                    "meets interval",
                ],
                [
                    [
                        f"{b['lo']:.1f}-{b['hi']:.1f}",
                        str(b["n"]),
                        _f(b["mean_score"], 2),
                        f"{b['mean_low']:.2f}-{b['mean_high']:.2f}",
                        _f(b["observed"], 2),
                        f"{b['wilson'][0]:.2f}-{b['wilson'][1]:.2f}",
                        _f(b["observed_balanced"], 2),
                        "yes" if M.rate_inside(b) else "**no**",
                        f"{b['chance_balanced'][0]:.2f}-{b['chance_balanced'][1]:.2f}",
                        "yes" if M.chance_consistent(b) else "**no**",
                    ]
                    for b in rel["bins"]
                ],
            ),
            "",
            f"Positives are {_pct(rel['base_rate'])} of these files, the scores assume the "
            "prior (0.5): *balanced* re-weights both classes to half, as that prior does. "
            f"In {sum(1 for b in rel['bins'] if M.rate_inside(b))} of {len(rel['bins'])} score bins "
            "the balanced observed rate lies inside the bin's mean stated interval, and in "
            f"{metrics['questions'][q]['interval_coverage']['bins_consistent']} the interval meets "
            "where that rate may lie by chance alone (*by chance*: a 90% Jeffreys interval "
            "on the bin's count, on the balanced scale; a bin of few files, or a set of few "
            "positives, moves its observed rate far); "
            f"{_pct(metrics['questions'][q]['interval_coverage']['files'])} of files have "
            "an interval that holds the balanced observed rate of their bin; "
            f"balanced ECE {_f(rel['ece_balanced'])}.",
            "",
        ]
    return lines


def _labelled_files(records: Sequence[Record]) -> list[str]:
    lines: list[str] = []
    synthetic = [r for r in records if r["label"] == "synthetic"]
    if synthetic:
        lines += ["## Files labeled synthetic", ""]
        lines += [
            _md_table(
                ["file", "synthetic band", "score [interval]", "findings"],
                [_file_row(r, "synthetic") for r in synthetic],
            ),
            "",
        ]
    manipulated = [r for r in records if r["label"] == "manipulated"]
    if manipulated:
        lines += ["## Files labeled manipulated", ""]
        lines += [
            _md_table(
                ["file", "manipulation band", "score [interval]", "findings"],
                [_file_row(r, "manipulation") for r in manipulated],
            ),
            "",
        ]
    return lines


def _evidence_sections(metrics: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if metrics["findings"]:
        lines += [
            "## Findings",
            "",
            "How often each finding fired on positives and negatives of its question, its "
            "empirical LLR here (add-one smoothing; small counts, so wide), and the log-odds "
            "per unit strength the calibration gives it (its fitted coefficient, with the "
            "5-95% of a bootstrap over sources; docs/scoring.md).",
            "",
            _md_table(_FINDING_HEAD, finding_rows(metrics)),
            "",
        ]
    if metrics["clean"]:
        lines += [
            "## Silence (clean) per analyzer",
            "",
            _md_table(
                ["analyzer/question", "silent pos", "silent neg", "emp. LLR"],
                [
                    [
                        k,
                        f"{c['silent_pos']}/{c['n_pos']}",
                        f"{c['silent_neg']}/{c['n_neg']}",
                        _f(c["empirical_llr"], 2),
                    ]
                    for k, c in metrics["clean"].items()
                ],
            ),
            "",
        ]
    loc = metrics["localization"]
    if loc["n"]:
        lines += [
            "## Localization",
            "",
            f"{loc['n']} files with a mask; {loc['with_boxes']} got at least one box. Mean IoU of the "
            f"union of boxes vs the mask: {_f(loc['mean_iou'])} over all masked files (no box = 0), "
            f"{_f(loc['mean_iou_with_boxes'])} over files with boxes.",
            "",
        ]
        if loc["per_analyzer"]:
            lines += [
                _md_table(
                    ["analyzer", "files with boxes", "mean IoU (all masked files)"],
                    [
                        [a, str(v["with_boxes"]), _f(v["mean_iou"])]
                        for a, v in loc["per_analyzer"].items()
                    ],
                ),
                "",
            ]
    return lines


def _robustness_section(metrics: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    rob = metrics["robustness"]
    lines += ["## Robustness", ""]
    outcome_names = ["ok", "error", "timeout", "crash"]
    lines += [
        _md_table(
            ["label", *outcome_names],
            [
                [label, *[str(c.get(o, 0)) for o in outcome_names]]
                for label, c in rob["outcomes"].items()
            ],
        ),
        "",
        "`ok` = report without error entries; `error` = report with an error entry (expected for "
        "malformed files); `timeout` = killed after the per-file limit; `crash` = the worker died "
        "or the pipeline raised.",
        "",
    ]
    if rob["analyzer_errors"]:
        lines += [
            "Analyzer errors (status `error`, the file still got a report): "
            + ", ".join(f"{k} {v}" for k, v in sorted(rob["analyzer_errors"].items())),
            "",
        ]
    for f in rob["failures"]:
        lines.append(f"- {f['outcome']}: `{f['name']}`: {f['message']}")
    lines += [
        "",
        "Slowest files: " + ", ".join(f"`{s['name']}` {s['seconds']} s" for s in rob["slowest"]),
        "",
        "## Reading these numbers",
        "",
        "- Small sets give wide intervals: the Wilson intervals above say how wide. An AUC on "
        "a few dozen files moves by several hundredths when one file changes side.",
        "- The calibration named above was fitted on generated data, the fixtures and half of "
        "the corpus's sources (docs/scoring.md)" + _fitted_sources() + "; only the files of "
        "the other sources are out of sample, and its own file records its held-out figures.",
        "- Scores use the neutral prior 0.5; the labeled set has its own share of positives "
        "(see the *balanced* columns).",
        "- Labels come from the sources' own descriptions; `unknown` files (processed or "
        "ambiguous) are run but not scored.",
        "",
    ]
    return lines


def _out_of_sample_section(records: Sequence[Record]) -> list[str]:
    """The figures above on the files of the sources the calibration in use was not
    fitted on (none when it names no corpus sources)."""
    from triage.calibration import load
    from triage.evaluate import metrics as M

    fitted = (load().data.get("data") or {}).get("corpus_fit_sources") or []
    if not fitted:
        return []

    def fitted_on(r: Record) -> bool:
        name = str(r.get("name") or "").replace("\\", "/")
        return any(name == f or name.startswith(f.rstrip("/") + "/") for f in fitted)

    held = [r for r in records if not fitted_on(r)]
    rows = []
    for q in SCORED_QUESTIONS:
        auc = M.auc_for(held, q)
        if not auc["n_pos"] or not auc["n_neg"]:
            continue
        cov = M.interval_coverage(held, q)
        bands = M.claim_coverage(held, q)["bands"]
        made = sum(c["n"] for c in bands.values())
        right = sum(c["correct"] for c in bands.values())
        rows.append(
            [
                q,
                str(auc["n_pos"]),
                str(auc["n_neg"]),
                _f(auc["auc"]),
                _f(cov["ece_balanced"]),
                f"{cov.get('bins_ok', 0)}/{cov['bins_n']}",
                f"{cov.get('bins_consistent', 0)}/{cov['bins_n']}",
                _pct(cov["files"]),
                f"{right}/{made}",
            ]
        )
    if not rows:
        return []
    return [
        "## Out of sample: the sources the calibration was not fitted on",
        "",
        f"The {len(held)} files whose source is not among the calibration's fitted corpus "
        "sources (listed under *Reading these numbers*); the same measures as above.",
        "",
        _md_table(
            [
                "question",
                "pos",
                "neg",
                "AUC",
                "balanced ECE",
                "bins: balanced rate in interval",
                "bins: interval meets it by chance",
                "files: interval holds the bin's rate",
                "claims right",
            ],
            rows,
        ),
        "",
    ]


def _file_row(r: Record, q: str) -> list[str]:
    if r.get("outcome") not in ("ok", "error"):
        return [r["name"], r.get("outcome", "?"), "-", r.get("message") or ""]
    res = r["questions"][q]
    ids = sorted({f["id"] for f in r.get("findings", []) if f["question"] == q})
    return [
        f"`{r['name']}`",
        res["band"],
        f"{res['score']:.2f} [{res['interval'][0]:.2f}, {res['interval'][1]:.2f}]",
        ", ".join(ids) or "-",
    ]


# ---------------------------------------------------------------------------- diagram
def reliability_png(metrics: dict[str, Any], questions: Sequence[str] = SCORED_QUESTIONS) -> bytes:
    """One panel per question: observed positive rate per score bin (with 95% Wilson bars,
    dots sized by count) against the mean predicted score, and the diagonal of perfect
    calibration. Grey bars along the bottom show how many files fell in each bin."""
    import cv2
    import numpy as np

    panel, margin = 360, 56
    width = len(questions) * (panel + 2 * margin)
    height = panel + 2 * margin + 24
    img = np.full((height, width, 3), 255, np.uint8)
    black, grey, bar, dot = (30, 30, 30), (200, 200, 200), (180, 90, 20), (40, 40, 200)  # RGB
    font = cv2.FONT_HERSHEY_SIMPLEX
    for i, q in enumerate(questions):
        ox, oy = i * (panel + 2 * margin) + margin, margin

        def pt(x: float, y: float, ox: int = ox, oy: int = oy) -> tuple[int, int]:
            return (round(ox + x * panel), round(oy + (1 - y) * panel))

        rel = metrics["questions"][q]["reliability"]
        for t in range(11):
            v = t / 10
            cv2.line(img, pt(v, 0), pt(v, 1), (235, 235, 235), 1)
            cv2.line(img, pt(0, v), pt(1, v), (235, 235, 235), 1)
            if t % 2 == 0:
                cv2.putText(
                    img,
                    f"{v:.1f}",
                    (pt(v, 0)[0] - 10, oy + panel + 16),
                    font,
                    0.35,
                    black,
                    1,
                    cv2.LINE_AA,
                )
                cv2.putText(
                    img, f"{v:.1f}", (ox - 30, pt(0, v)[1] + 4), font, 0.35, black, 1, cv2.LINE_AA
                )
        cv2.rectangle(img, pt(0, 0), pt(1, 1), black, 1)
        cv2.line(img, pt(0, 0), pt(1, 1), grey, 1, cv2.LINE_AA)
        bins = rel["bins"]
        top = max((b["n"] for b in bins), default=1)
        for b in bins:
            h = 0.15 * b["n"] / top
            cv2.rectangle(img, pt(b["lo"] + 0.01, 0), pt(b["hi"] - 0.01, h), (220, 220, 220), -1)
        for b in bins:
            x = b["mean_score"]
            cv2.line(img, pt(x, b["wilson"][0]), pt(x, b["wilson"][1]), bar, 1, cv2.LINE_AA)
            radius = int(3 + 7 * (b["n"] / top) ** 0.5)
            cv2.circle(img, pt(x, b["observed"]), radius, dot, -1, cv2.LINE_AA)
        title = f"{q}: n={rel['n']}  ECE={_f(rel['ece'], 2)}  Brier={_f(rel['brier'], 2)}"
        cv2.putText(img, title, (ox, oy - 14), font, 0.45, black, 1, cv2.LINE_AA)
        cv2.putText(
            img,
            "mean predicted score",
            (ox + panel // 2 - 70, oy + panel + 36),
            font,
            0.4,
            black,
            1,
            cv2.LINE_AA,
        )
        cv2.putText(img, "observed rate", (ox - 50, oy - 30), font, 0.4, black, 1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return bytes(buf.tobytes())
