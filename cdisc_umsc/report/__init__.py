"""Analysis summaries computed from ADaM datasets, as the study's ADaM spec plans them."""
