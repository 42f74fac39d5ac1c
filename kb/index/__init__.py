"""Where the index lives and what is written into it: layout, Chroma store, records, read index, BM25, ingest, transfer, doctor."""
