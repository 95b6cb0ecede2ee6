"""What a conversion did: counts per type and relation, and everything skipped, with examples.

Nothing is dropped silently: every record or edge that does not become triples is counted
here with its reason and a few examples, printed at the end of a run and saved as JSON.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

EXAMPLES = 5


@dataclass
class Report:
    """Counters of one conversion run."""

    entities: Counter = field(default_factory=Counter)
    edges: Counter = field(default_factory=Counter)
    triples: int = 0
    skipped: Counter = field(default_factory=Counter)
    kept: Counter = field(default_factory=Counter)
    notices: list[str] = field(default_factory=list)
    examples: dict[str, list] = field(default_factory=lambda: defaultdict(list))

    def skip(self, reason: str, example: object) -> None:
        """Count a record or edge left out, and keep a few examples of it."""
        self.skipped[reason] += 1
        if len(self.examples[reason]) < EXAMPLES:
            self.examples[reason].append(example)

    def keep(self, reason: str, example: object) -> None:
        """Count something unusual that was kept (or normalised), with examples."""
        self.kept[reason] += 1
        if len(self.examples[reason]) < EXAMPLES:
            self.examples[reason].append(example)

    def notice(self, message: str) -> None:
        self.notices.append(message)

    def merge(self, other: Report) -> None:
        """Add another run's counts (e.g. of a conversion done in another process)."""
        for mine, theirs in ((self.entities, other.entities), (self.edges, other.edges), (self.skipped, other.skipped), (self.kept, other.kept)):
            mine.update(theirs)
        self.triples += other.triples
        self.notices += other.notices
        for reason, examples in other.examples.items():
            self.examples[reason] = (self.examples[reason] + examples)[:EXAMPLES]

    def as_dict(self) -> dict:
        return {
            "triples": self.triples,
            "entities": dict(self.entities),
            "edges": dict(self.edges),
            "skipped": dict(self.skipped),
            "kept": dict(self.kept),
            "examples": dict(self.examples),
            "notices": self.notices,
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    def summary(self) -> str:
        converted = f"{self.triples:,} triples; {sum(self.entities.values()):,} entities, {sum(self.edges.values()):,} edges"
        lines = [converted] if self.triples else []
        lines += [f"  {name}: {count:,}" for name, count in sorted(self.entities.items())]
        for title, counter in (("skipped", self.skipped), ("kept", self.kept)):
            for reason, count in sorted(counter.items()):
                lines.append(f"{title} {count:,}: {reason}  e.g. {self.examples[reason][:3]}")
        lines += [f"notice: {n}" for n in self.notices]
        return "\n".join(lines)
