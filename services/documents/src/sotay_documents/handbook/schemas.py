"""API models of the handbook."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ArticleSummary(BaseModel):
    slug: str
    title: str
    category: str
    excerpt: str
    updated_at: datetime
    rank: float | None = None


class ArticleOut(BaseModel):
    slug: str
    title: str
    category: str
    body: str
    updated_at: datetime


class CategoryOut(BaseModel):
    category: str
    articles: int
