"""Exchange meetings (情報交換会, issue 5): docs/architecture.md, "Exchange meetings", lists the modules."""
