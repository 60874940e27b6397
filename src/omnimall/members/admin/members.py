"""Back office: members."""
