"""Back office: till receipts and returns."""
