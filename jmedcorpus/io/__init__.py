"""Input planning and readers, the sharded Parquet writer, the manifest."""
