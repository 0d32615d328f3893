"""The labelled question set of bench/suggest.py: SemEval-2016 Task 3, subtask B (question–question similarity),
English, Qatar Living forum: 103 new questions, each with about six earlier threads (question and its comments)
that annotators marked PerfectMatch, Relevant or Irrelevant to it. See bench/data/README.md for source and licence.

`python -m bench.suggest_data <SemEval2016-Task3-CQA-QL-train-part1.xml>` rebuilds bench/data/semeval2016_b.json.gz
from the distributed XML; the bench reads only the committed JSON.
"""

from __future__ import annotations

import gzip
import json
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data" / "semeval2016_b.json.gz"
COMMENTS_PER_THREAD = 10


@dataclass(frozen=True)
class Comment:
    author: str
    text: str


@dataclass(frozen=True)
class Thread:
    """An earlier question and its comments: a resolved task with its answer."""

    id: str
    asker: str
    subject: str
    body: str
    comments: tuple[Comment, ...]


@dataclass(frozen=True)
class Question:
    id: str
    subject: str
    body: str
    labels: dict[str, str]  # thread id -> PerfectMatch | Relevant | Irrelevant

    def helped_by(self, thread_id: str) -> bool:
        return self.labels.get(thread_id, "Irrelevant") in ("PerfectMatch", "Relevant")


def build(xml_path: Path) -> dict[str, object]:
    root = ET.parse(xml_path).getroot()
    questions: dict[str, dict[str, object]] = {}
    threads: dict[str, dict[str, object]] = {}
    for org in root.iter("OrgQuestion"):
        qid = org.get("ORGQ_ID") or ""
        question = questions.setdefault(
            qid,
            {"subject": org.findtext("OrgQSubject") or "", "body": org.findtext("OrgQBody") or "", "labels": {}},
        )
        for thread in org.iter("Thread"):
            rel = thread.find("RelQuestion")
            assert rel is not None
            tid = rel.get("RELQ_ID") or ""
            question["labels"][tid] = rel.get("RELQ_RELEVANCE2ORGQ") or "Irrelevant"  # type: ignore[index]
            threads[tid] = {
                "asker": rel.get("RELQ_USERNAME") or "",
                "subject": rel.findtext("RelQSubject") or "",
                "body": rel.findtext("RelQBody") or "",
                "comments": [
                    [c.get("RELC_USERNAME") or "", c.findtext("RelCText") or ""] for c in thread.iter("RelComment")
                ][:COMMENTS_PER_THREAD],
            }
    return {"questions": questions, "threads": threads}


def load() -> tuple[list[Question], list[Thread]]:
    with gzip.open(DATA, "rt", encoding="utf-8") as f:
        data = json.load(f)
    questions = [
        Question(qid, q["subject"], q["body"], dict(q["labels"])) for qid, q in sorted(data["questions"].items())
    ]
    threads = [
        Thread(tid, t["asker"], t["subject"], t["body"], tuple(Comment(a, x) for a, x in t["comments"]))
        for tid, t in sorted(data["threads"].items())
    ]
    return questions, threads


if __name__ == "__main__":
    built = build(Path(sys.argv[1]))
    with gzip.open(DATA, "wt", encoding="utf-8") as out:
        json.dump(built, out, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    print(f"{DATA}: {len(built['questions'])} questions, {len(built['threads'])} threads")  # type: ignore[arg-type]
