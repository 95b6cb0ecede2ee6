"""Crawling the Hugging Face Hub into a HuggingKG release, as the original crawler did.

One module per job: :mod:`.client` (the real ``huggingface_hub`` client, paced and retried),
:mod:`.rules` (HuggingKG_constructor.py's derivation rules: Hub metadata -> records and edges),
:mod:`.scheduler` (listings and tasks on worker threads, failure isolation) with its
:mod:`.checkpoint`, :mod:`.baseline` (incremental crawls), :mod:`.release` (release, triples.txt,
manifest, PROV-O), :mod:`.run` (the entry point) and :mod:`.diff` (what changed between two
snapshots).
"""

from .checkpoint import CHECKPOINT, iter_checkpoint_pages
from .release import MANIFEST, summary
from .run import CrawlIncomplete, Options, Result, crawl

__all__ = ["CHECKPOINT", "MANIFEST", "CrawlIncomplete", "Options", "Result", "crawl", "iter_checkpoint_pages", "summary"]
