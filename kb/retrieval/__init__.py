"""Hybrid search (dense + BM25, fused) with filters, and the glossary and thesaurus that widen a query."""
