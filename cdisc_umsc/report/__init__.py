"""Analysis summaries computed from ADaM datasets."""
