"""The starter handbook: Markdown files with a small front matter, loaded into the database at
start-up (upsert by slug; an unchanged article is left alone)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sotay_kit.db import Pool
from sotay_kit.text import nfc

from . import repository as repo

ARTICLES_DIR = Path(__file__).parent / "articles"
_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    title: str
    category: str
    body: str

    @property
    def content_hash(self) -> str:
        raw = "\x00".join((self.title, self.category, self.body)).encode()
        return hashlib.sha256(raw).hexdigest()


def parse(text: str, source: str = "<article>") -> Article:
    """``---`` front matter of ``key: value`` lines (title, category, slug), then Markdown."""
    text = nfc(text.replace("\r\n", "\n"))
    if not text.startswith("---\n"):
        raise ValueError(f"{source}: missing front matter")
    head, sep, body = text[4:].partition("\n---\n")
    if not sep:
        raise ValueError(f"{source}: unterminated front matter")
    meta: dict[str, str] = {}
    for line in head.splitlines():
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"{source}: bad front matter line {line!r}")
        meta[key.strip()] = value.strip().strip('"')
    missing = {"title", "category", "slug"} - meta.keys()
    if missing:
        raise ValueError(f"{source}: front matter lacks {sorted(missing)}")
    if not _SLUG.match(meta["slug"]):
        raise ValueError(f"{source}: bad slug {meta['slug']!r}")
    return Article(meta["slug"], meta["title"], meta["category"], body.strip() + "\n")


def shipped(directory: Path = ARTICLES_DIR) -> list[Article]:
    articles = [
        parse(p.read_text(encoding="utf-8"), p.name) for p in sorted(directory.glob("*.md"))
    ]
    slugs = [a.slug for a in articles]
    if len(set(slugs)) != len(slugs):
        raise ValueError("duplicate handbook slugs")
    return articles


async def load(pool: Pool, directory: Path = ARTICLES_DIR) -> int:
    """Upsert the shipped articles; returns how many were inserted or changed."""
    changed = 0
    async with pool.acquire() as conn, conn.transaction():
        for article in shipped(directory):
            changed += await repo.upsert(
                conn,
                slug=article.slug,
                title=article.title,
                category=article.category,
                body=article.body,
                content_hash=article.content_hash,
            )
    return changed
