"""Human-readable reports of a built corpus (``jmedcorpus stats OUT --html report.html``)."""
