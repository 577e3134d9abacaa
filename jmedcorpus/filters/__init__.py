"""Document filters: language, quality, medical relevance, personal information, decontamination."""
