"""Validate X12 text with pyx12, in process, and report its errors as readable lines.

`x12valid` prints "FILE: OK" or "FILE: Failure" and exits 0 either way, so its exit status
proves nothing. Here we call the same engine (`pyx12.x12n_document.x12n_document`) on the text
and collect the ERROR lines pyx12 logs (what x12valid prints). Should logging be silenced, the
errors come from pyx12's JSON error report instead, and a "Failure" verdict without any
recorded error still counts as an error, so the helper cannot pass a file pyx12 rejects.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pyx12.errors
import pyx12.params
import pyx12.x12n_document


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def x12_errors(text: str) -> list[str]:
    """Return pyx12's error lines for `text`; an empty list means pyx12's verdict was OK."""
    non_ascii = [f"non-ASCII character {c!r} at {i}" for i, c in enumerate(text) if not c.isascii()]
    param = pyx12.params.ParamsBase()  # defaults only: no ~/.pyx12.conf.xml can change the rules
    report = io.StringIO()
    logger = logging.getLogger("pyx12")
    collector = _Collect()
    logger.addHandler(collector)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        ok = pyx12.x12n_document.x12n_document(
            param=param, src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_json=report
        )
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as error:
        return [*non_ascii[:5], f"pyx12 could not read the file: {error}"]
    finally:
        logger.setLevel(level)
        logger.removeHandler(collector)
    errors = collector.lines or _json_errors(report.getvalue())
    if not ok and not errors:
        errors = ["pyx12 verdict: Failure (no error detail recorded)"]
    return [*non_ascii[:5], *errors]


def assert_valid_837p(text: str) -> None:
    """Fail with pyx12's error lines (and the offending segments) unless `text` is valid."""
    errors = x12_errors(text)
    if errors:
        raise AssertionError(
            f"pyx12 rejects the 837P ({len(errors)} error(s)):\n" + "\n".join(errors)
        )


def _json_errors(report: str) -> list[str]:
    if not report:
        return []
    lines: list[str] = []
    for interchange in json.loads(report)["interchanges"]:
        lines += _node_errors("ISA", interchange)
        for group in interchange["groups"]:
            lines += _node_errors("GS", group)
            for transaction in group["transactions"]:
                lines += _node_errors("ST", transaction)
                for segment in transaction["segments"]:
                    lines += _segment_errors(segment)
    return lines


def _node_errors(level: str, node: dict[str, Any]) -> list[str]:
    return [
        f"Line {node['cur_line']} {level}:{error['err_cde']} - {error['err_str']}"
        for error in node["errors"]
    ]


def _segment_errors(segment: dict[str, Any]) -> list[str]:
    where = f"Line {segment['cur_line']} {segment['seg_id']} ({segment['name']})"
    lines = [
        f"{where} SEG:{error['err_cde']} - {error['err_str']}{_value(error)}"
        for error in segment["errors"]
    ]
    for element in segment["elements"]:
        position = f"{segment['seg_id']}{element['ele_pos']:02d}"
        if element["subele_pos"]:
            position += f"-{element['subele_pos']}"
        lines += [
            f"{where} ELE {position} ({element['name']}):{error['err_cde']} - "
            f"{error['err_str']}{_value(error)}"
            for error in element["errors"]
        ]
    return lines


def _value(error: dict[str, Any]) -> str:
    return f" ({error['err_val']})" if error.get("err_val") else ""
