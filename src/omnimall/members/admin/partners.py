"""Back office: partners."""
