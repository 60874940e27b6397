"""Back office: points."""
